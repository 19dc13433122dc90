// The node helpers on their own: flow control, configuration layers and message overrides, status.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { InferenceConfiguration } from '../../src/core';
import { layerConfiguration, messageConfigurations, messageOptions, parseOptions } from '../../src/nodes/shared/configuration';
import { FlowControl, type FlowControlOptions, type Job } from '../../src/nodes/shared/flowControl';
import type { Node, NodeStatus } from '../../src/nodes/shared/nodeRed';
import { StatusReporter } from '../../src/nodes/shared/status';
import { eventually } from './helpers';

/** A job whose run() stays pending until released; records how it ended. */
function controllableJob(log: string[], name: string): Job & { release(): void } {
  let release = () => {};
  return {
    run: () => {
      log.push(`run ${name}`);
      return new Promise<void>((resolve) => (release = resolve));
    },
    drop: () => log.push(`drop ${name}`),
    release: () => release(),
  };
}

function submitFour(options: FlowControlOptions) {
  const flow = new FlowControl(options);
  const log: string[] = [];
  const jobs = ['a', 'b', 'c', 'd'].map((name) => controllableJob(log, name));
  jobs.forEach((job) => flow.submit(job));
  return { flow, log, jobs };
}

describe('node helpers', function () {
  describe('FlowControl', function () {
    it('drop: refuses jobs while full', async () => {
      const { flow, log, jobs } = submitFour({ maxInFlight: 1, overflow: 'drop', queueSize: 10 });
      assert.deepEqual(log, ['run a', 'drop b', 'drop c', 'drop d']);
      jobs[0].release();
      await eventually(() => flow.inFlight === 0);
      assert.equal(flow.dropped, 3);
    });

    it('latest: a newer waiting job supersedes the older one', async () => {
      const { flow, log, jobs } = submitFour({ maxInFlight: 1, overflow: 'latest', queueSize: 10 });
      assert.deepEqual(log, ['run a', 'drop b', 'drop c']);
      jobs[0].release();
      await eventually(() => log.includes('run d'));
      assert.equal(flow.dropped, 2);
    });

    it('queue: first in, first out, up to its size', async () => {
      const { flow, log, jobs } = submitFour({ maxInFlight: 1, overflow: 'queue', queueSize: 2 });
      assert.deepEqual(log, ['run a', 'drop d']);
      jobs[0].release();
      await eventually(() => log.includes('run b'));
      jobs[1].release();
      await eventually(() => log.includes('run c'));
      assert.equal(flow.dropped, 1);
    });

    it('frees the slot when a job fails, and drops what waits on close', async () => {
      const flow = new FlowControl({ maxInFlight: 1, overflow: 'queue', queueSize: 5 });
      const log: string[] = [];
      flow.submit({ run: () => Promise.reject(new Error('boom')), drop: () => log.push('drop failing') });
      const waiting = controllableJob(log, 'next');
      flow.submit(waiting);
      await eventually(() => log.includes('run next'));
      flow.submit(controllableJob(log, 'queued'));
      flow.close();
      flow.submit(controllableJob(log, 'late'));
      assert.deepEqual(log, ['run next', 'drop queued', 'drop late']);
    });
  });

  describe('configuration layers', function () {
    it('reads editor strings, leaving blanks to the layer below', () => {
      const options = parseOptions({ confidenceThreshold: '0.5', maxDetections: '10', classFilter: 'a, b', classAgnosticNms: 'true', iouThreshold: '' });
      assert.deepEqual(options, { confidenceThreshold: 0.5, maxDetections: 10, classFilter: ['a', 'b'], classAgnosticNms: true });
      const layered = layerConfiguration(new InferenceConfiguration({ iouThreshold: 0.3, maxDetections: 5 }), options);
      assert.equal(layered.iouThreshold, 0.3);
      assert.equal(layered.maxDetections, 10);
    });

    it('rejects values of the wrong kind', () => {
      assert.throws(() => parseOptions({ maxDetections: '1.5' }), /maxDetections/);
      assert.throws(() => parseOptions({ confidenceThreshold: 'high' }), /confidenceThreshold/);
      assert.throws(() => parseOptions({ apiKeyTransport: 'smoke-signals' }), /apiKeyTransport/);
    });

    it('shares one configuration between messages that set no parameters, until the server changes its own', () => {
      const configurationFor = messageConfigurations({ maxDetections: 10 });
      const server = new InferenceConfiguration({ iouThreshold: 0.3 });
      const plain = configurationFor(server, { payload: 'a' });
      assert.equal(plain.maxDetections, 10);
      assert.equal(plain.iouThreshold, 0.3);
      assert.equal(configurationFor(server, { payload: 'b' }), plain);
      const asked = configurationFor(server, { payload: 'c', confidence: 0.8 });
      assert.equal(asked.confidenceThreshold, 0.8);
      assert.equal(asked.maxDetections, 10);
      assert.equal(configurationFor(server, { payload: 'd' }).confidenceThreshold, undefined, 'a message never changes the shared one');
      const redeployed = configurationFor(new InferenceConfiguration({ iouThreshold: 0.6 }), { payload: 'e' });
      assert.equal(redeployed.iouThreshold, 0.6);
    });

    it('takes inference parameters from a message and refuses anything else', () => {
      assert.deepEqual(messageOptions({ confidence: 0.8, inferenceConfiguration: { maskDecodeMode: 'fast' } }), {
        confidenceThreshold: 0.8,
        maskDecodeMode: 'fast',
      });
      assert.deepEqual(messageOptions({ apiKey: 'k', url: 'http://elsewhere', headers: {} }), {});
      for (const refused of ['apiKeyTransport', 'serviceSecret', 'countInference', 'maxConcurrentRequests', 'requestTimeoutMs']) {
        assert.throws(() => messageOptions({ inferenceConfiguration: { [refused]: 'x' } }), new RegExp(`cannot set ${refused}`));
      }
    });
  });

  describe('StatusReporter', function () {
    it('shows the first status at once and always ends on the newest', async () => {
      const shown: NodeStatus[] = [];
      const node = Object.assign(new EventEmitter(), { status: (status: NodeStatus) => shown.push(status) }) as unknown as Node;
      const reporter = new StatusReporter(node);
      reporter.busy('one');
      reporter.busy('two');
      reporter.success('three');
      assert.deepEqual(shown.map((status) => status.text), ['one']);
      await eventually(() => shown.length === 2);
      assert.deepEqual(shown[1], { fill: 'green', shape: 'dot', text: 'three' });
      reporter.failure('x'.repeat(100));
      reporter.clear();
      assert.deepEqual(shown.at(-1), {});
    });

    it('makes a text given as a function only when that status is shown', async () => {
      const shown: NodeStatus[] = [];
      const node = Object.assign(new EventEmitter(), { status: (status: NodeStatus) => shown.push(status) }) as unknown as Node;
      const reporter = new StatusReporter(node);
      const made: string[] = [];
      const text = (value: string) => () => {
        made.push(value);
        return value;
      };
      reporter.busy(text('one'));
      reporter.success(text('two'));
      reporter.failure(text(`three ${'x'.repeat(100)}`));
      assert.deepEqual(made, ['one']);
      await eventually(() => shown.length === 2);
      assert.equal(made.length, 2, 'the replaced status was never made');
      assert.equal(shown[1].fill, 'red');
      assert.equal(shown[1].text?.length, 32, 'failure texts are still shortened');
      reporter.clear();
    });
  });
});

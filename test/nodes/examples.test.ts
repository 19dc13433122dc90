// The example flows of roboflow-infer and roboflow-model-manager, run as shipped except for the
// server URL (the simulator's random port instead of 9001), with debug nodes replaced by helpers
// and inject nodes by helpers that send what the inject would (comments left out: the test
// runtime only knows catch, status and complete of the core nodes).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { collect, helper, nodeModules, useNodeRedWithSimulator, type FlowNode } from './helpers';

const NODES = () => [
  ...nodeModules('roboflow-server', 'roboflow-infer', 'roboflow-model-manager', 'roboflow-stream-source'),
  // Node-RED's own switch node, which the video-file example uses.
  require('@node-red/nodes/core/function/10-switch.js'),
];
const EXAMPLES_DIR = join(__dirname, '..', '..', 'examples');
/** Examples run by their node's own test file (test/nodes/<name>.test.ts); the rest run here. */
const RUN_BY_NODE_TESTS = ['clip-compare', 'gaze', 'ocr', 'workflow'];
const RUN_HERE = ['demo', 'infer-object-detection', 'model-manager', 'stream-test-pattern', 'stream-video-file'];
/** Node-RED's own nodes the examples may use: a user has them without installing anything. */
const CORE_TYPES = ['tab', 'comment', 'inject', 'debug', 'catch', 'status', 'complete', 'switch', 'change', 'function', 'exec'];

function exampleFlow(name: string, serverUrl: string): FlowNode[] {
  const flow = readExample(name);
  const tab = flow.find((node) => node.type === 'tab')?.id ?? 'example-tab';
  const nodes = flow
    .filter((node) => node.type !== 'tab' && node.type !== 'comment')
    .map((node) => {
      if (node.type === 'roboflow-server') return { ...node, url: serverUrl };
      const onTab = { ...node, z: tab };
      if (node.type === 'debug') return { id: node.id, type: 'helper', z: tab };
      if (node.type === 'inject' || node.type === 'exec') return { id: node.id, type: 'helper', z: tab, name: node.name, wires: node.wires };
      return onTab;
    });
  return [{ id: tab, type: 'tab', label: name }, ...nodes];
}

interface InjectProperty {
  p: string;
  v: string;
  vt: 'str' | 'num';
}

/** Sends what the example's inject node named `name` sends when its button is pressed. */
function press(example: FlowNode[], name: string): void {
  const inject = example.find((node) => node.type === 'inject' && node.name === name);
  assert.ok(inject, `an inject named '${name}'`);
  const msg = Object.fromEntries((inject.props as InjectProperty[]).map(({ p, v, vt }) => [p, vt === 'num' ? Number(v) : v]));
  helper.getNode(inject.id).send(msg);
}

function readExample(name: string): FlowNode[] {
  return JSON.parse(readFileSync(join(EXAMPLES_DIR, `${name}.json`), 'utf8')) as FlowNode[];
}

describe('example flows', function () {
  const simulator = useNodeRedWithSimulator();

  it('are all run by a test, each with a Comment node and no third-party nodes', () => {
    const names = readdirSync(EXAMPLES_DIR).filter((file) => file.endsWith('.json')).map((file) => file.slice(0, -'.json'.length));
    assert.deepEqual(names.sort(), [...RUN_BY_NODE_TESTS, ...RUN_HERE].sort(), 'a new example needs a test');
    for (const name of names) {
      const flow = readExample(name);
      assert.ok(flow.some((node) => node.type === 'comment'), `${name} explains itself in a Comment node`);
      const foreign = flow.filter((node) => !CORE_TYPES.includes(node.type) && !node.type.startsWith('roboflow-'));
      assert.deepEqual(foreign.map((node) => node.type), [], `${name} uses only core and Roboflow nodes`);
    }
  });

  for (const name of ['demo', 'infer-object-detection']) {
    it(`${name}: the embedded image gives three objects`, async () => {
      const flow = exampleFlow(name, simulator().url);
      assert.ok(readExample(name).some((node) => node.type === 'comment'));
      await helper.load(NODES(), flow, {});
      const debugIds = readExample(name).filter((node) => node.type === 'debug').map((node) => node.id);
      const received = debugIds.map((id) => collect(id));
      press(readExample(name), 'test image');
      await Promise.all(received.slice(0, 2).map((collected) => collected.atLeast(1)));
      const [predictions] = received[0].messages;
      assert.deepEqual(predictions.counts, { red: 1, blue: 1, green: 1 });
      assert.equal(received[2].messages.length, 0, 'no errors');
    });
  }

  it('model-manager: every inject gets an answer', async () => {
    const flow = exampleFlow('model-manager', simulator().url);
    assert.ok(readExample('model-manager').some((node) => node.type === 'comment'));
    await helper.load(NODES(), flow, {});
    const answers = collect('d1');
    for (const name of ['server info', 'list loaded models', 'load shapes/1', 'describe yolov8n-640', 'unload all']) {
      press(readExample('model-manager'), name);
    }
    const [info, listed, loaded, described, cleared] = await answers.atLeast(5);
    assert.equal(info.payload.name, 'Roboflow Inference Server');
    assert.deepEqual(listed.payload.models, []);
    assert.ok(loaded.payload.models.some((model: { modelId: string }) => model.modelId === 'shapes/1'));
    assert.equal(described.payload.modelId, 'coco/3');
    assert.deepEqual(cleared.payload.models, []);
  });

  it('stream-test-pattern: frames of the test pattern reach the debug node with their red and blue box', async function () {
    this.timeout(20_000);
    const example = readExample('stream-test-pattern');
    await helper.load(NODES(), exampleFlow('stream-test-pattern', simulator().url), {});
    const debugId = example.find((node) => node.type === 'debug')?.id;
    assert.ok(debugId);
    const [first, second] = await collect(debugId).atLeast(2);
    for (const msg of [first, second]) {
      assert.deepEqual(msg.counts, { red: 1, blue: 1 });
      assert.equal(msg.frame.width, 640);
    }
    assert.equal(simulator().requests('/infer/object_detection').length >= 2, true);
  });

  it('stream-video-file: the exec node\'s ffmpeg command writes the video, then every frame is inferred and the end is reported', async function () {
    this.timeout(30_000);
    const example = readExample('stream-video-file');
    const exec = example.find((node) => node.type === 'exec');
    assert.ok(exec);
    // What the exec node does in Node-RED: run the command through a shell.
    await promisify(execFile)('/bin/sh', ['-c', exec.command as string]);
    await helper.load(NODES(), exampleFlow('stream-video-file', simulator().url), {});
    const debug = (name: string) => collect(example.find((node) => node.type === 'debug' && node.name === name)!.id);
    const [frames, end, errors] = [debug('counts per frame'), debug('end of the video'), debug('errors')];
    press(example, 'make the sample video and play it');
    // The exec node's third output, its return code, starts the stream source.
    helper.getNode(exec.id).send([null, null, { payload: { code: 0 } }]);
    const [finished] = await end.atLeast(1);
    assert.equal(finished.complete, true);
    // 3 s at 2 fps; the end message counts the frames sent, and none of a file is skipped.
    assert.ok(Math.abs(finished.frames - 6) <= 1, `${finished.frames} frames`);
    const inferred = await frames.atLeast(finished.frames);
    for (const msg of inferred) assert.deepEqual(msg.counts, { red: 1, blue: 1 });
    assert.equal(errors.messages.length, 0);
  });
});

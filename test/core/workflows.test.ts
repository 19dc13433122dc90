import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTPCallErrorError, HTTPClientError, InvalidParameterError } from '../../src/core';
import { makeImage, standardImage } from '../fixtures/images';
import { useSimulatorClient, wire } from './simulatorSuite';

const KEY = 'workflows-key-0123456789';
const XOR_MESSAGE =
  'Parameters (`workspace_name`, `workflow_id` / `workflow_name`) can be used mutually exclusive with ' +
  '`specification`, but at least one must be set.';

/** A one-step workflow: object detection with shapes/1 on the `image` input. */
const SPECIFICATION = {
  version: '1.0',
  inputs: [{ type: 'WorkflowImage', name: 'image' }],
  steps: [
    {
      type: 'roboflow_core/roboflow_object_detection_model@v2',
      name: 'detection',
      images: '$inputs.image',
      model_id: 'shapes/1',
    },
  ],
  outputs: [{ type: 'JsonField', name: 'predictions', selector: '$steps.detection.predictions' }],
};

describe('workflows', () => {
  const suite = useSimulatorClient(KEY);
  const { configure, only } = suite;
  let image: Buffer;
  let otherImage: Buffer;

  before(async () => {
    image = await standardImage();
    otherImage = await makeImage({ width: 200, height: 100, boxes: [{ colour: 'yellow', left: 5, top: 5, width: 20, height: 10 }] });
  });


  /** Makes the next workflow call answer with exactly these outputs. */
  function answerWith(route: string, body: unknown): void {
    suite.simulator.inject({ route, status: 200, body });
  }

  describe('routes and payloads', () => {
    it('runs a named workflow with the minimal body in upstream key order and returns the outputs list', async () => {
      answerWith('/my_workspace/workflows/my_workflow', { outputs: [{ some: 3, other: [1, { a: 'b' }] }] });
      const outputs = await suite.client.runWorkflow({ workspaceName: 'my_workspace', workflowId: 'my_workflow' });
      const request = only('/my_workspace/workflows/my_workflow');
      assert.equal(request.method, 'POST');
      assert.deepEqual(Object.keys(request.body as object), ['api_key', 'use_cache', 'enable_profiling', 'inputs']);
      assert.deepEqual(request.body, { api_key: KEY, use_cache: true, enable_profiling: false, inputs: {} });
      assert.deepEqual(outputs, [{ some: 3, other: [1, { a: 'b' }] }]);
    });

    it('orders every optional field as upstream and sends workflow_version_id for named workflows only', async () => {
      answerWith('/ws/workflows/wf', { outputs: [] });
      await suite.client.runWorkflow({
        workspaceName: 'ws',
        workflowId: 'wf',
        images: { image: image },
        parameters: { threshold: 0.5 },
        excludedFields: ['threshold'],
        useCache: false,
        workflowVersionId: 'v7',
        disableSinks: true,
      });
      const body = only('/ws/workflows/wf').body as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), [
        'api_key',
        'use_cache',
        'enable_profiling',
        'disable_sinks',
        'inputs',
        'excluded_fields',
        'workflow_version_id',
      ]);
      assert.deepEqual(body, {
        api_key: KEY,
        use_cache: false,
        enable_profiling: false,
        disable_sinks: true,
        inputs: { image: wire(image), threshold: 0.5 },
        excluded_fields: ['threshold'],
        workflow_version_id: 'v7',
      });

      suite.simulator.clearLog();
      await suite.client.runWorkflow({ specification: SPECIFICATION, images: { image }, workflowVersionId: 'ignored', disableSinks: true });
      const specBody = only('/workflows/run').body as Record<string, unknown>;
      assert.deepEqual(Object.keys(specBody), ['api_key', 'use_cache', 'enable_profiling', 'disable_sinks', 'inputs', 'specification']);
      assert.deepEqual(specBody.specification, SPECIFICATION);
    });

    it('runs an inline specification on the simulator and returns its detections', async () => {
      const outputs = await suite.client.runWorkflow({ specification: SPECIFICATION, images: { image } });
      assert.equal(outputs.length, 1);
      const predictions = outputs[0].predictions as { predictions: { class: string }[] };
      assert.deepEqual(predictions.predictions.map((prediction) => prediction.class).sort(), ['blue', 'red']);
    });

    it('keeps nested image batches nested, merges parameters after images, lets a parameter replace an image', async () => {
      answerWith('/workflows/run', { outputs: [] });
      await suite.client.runWorkflow({
        specification: SPECIFICATION,
        images: { image_1: image, image_2: [image, otherImage], nested: [[image, otherImage], [otherImage], []], replaced: image },
        parameters: { some: 10, list: [1, [2, 3]], replaced: 'text' },
      });
      const inputs = (only('/workflows/run').body as { inputs: Record<string, unknown> }).inputs;
      assert.deepEqual(Object.keys(inputs), ['image_1', 'image_2', 'nested', 'replaced', 'some', 'list']);
      assert.deepEqual(inputs, {
        image_1: wire(image),
        image_2: [wire(image), wire(otherImage)],
        nested: [[wire(image), wire(otherImage)], [wire(otherImage)], []],
        replaced: 'text',
        some: 10,
        list: [1, [2, 3]],
      });
    });

    it('uses the legacy routes for the deprecated inferFromWorkflow and warns once', async () => {
      const warnings: Error[] = [];
      const listen = (warning: Error) => warnings.push(warning);
      process.on('warning', listen);
      try {
        answerWith('/infer/workflows/my_workspace/my_workflow', { outputs: [{ a: 1 }] });
        const outputs = await suite.client.inferFromWorkflow({ workspaceName: 'my_workspace', workflowName: 'my_workflow' });
        assert.deepEqual(outputs, [{ a: 1 }]);
        answerWith('/infer/workflows', { outputs: [] });
        await suite.client.inferFromWorkflow({ specification: SPECIFICATION });
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(only('/infer/workflows/my_workspace/my_workflow').method, 'POST');
        assert.deepEqual(
          suite.simulator.log.map((request) => request.path),
          ['/infer/workflows/my_workspace/my_workflow', '/infer/workflows'],
        );
        const deprecations = warnings.filter((warning) => /inferFromWorkflow/.test(warning.message));
        assert.equal(deprecations.length, 1);
        assert.equal(deprecations[0].name, 'DeprecationWarning');
      } finally {
        process.off('warning', listen);
      }
    });

    it('requires exactly one of (workspace and workflow id) or a specification', async () => {
      const invalid = [
        {},
        { workspaceName: 'ws' },
        { workflowId: 'wf' },
        { workspaceName: 'ws', workflowId: 'wf', specification: SPECIFICATION },
      ];
      for (const options of invalid) {
        await assert.rejects(suite.client.runWorkflow(options), (error: Error) => {
          assert.ok(error instanceof InvalidParameterError);
          assert.equal(error.message, XOR_MESSAGE);
          return true;
        });
      }
      await assert.rejects(suite.client.inferFromWorkflow({ workspaceName: 'ws' }), InvalidParameterError);
      assert.equal(suite.simulator.log.length, 0);
    });

    it('places the key per transport: header only, or body and header', async () => {
      answerWith('/ws/workflows/wf', { outputs: [] });
      configure({ apiKeyTransport: 'header' });
      await suite.client.runWorkflow({ workspaceName: 'ws', workflowId: 'wf' });
      const header = only('/ws/workflows/wf');
      assert.deepEqual(header.body, { use_cache: true, enable_profiling: false, inputs: {} });
      assert.equal(header.headers.authorization, `Bearer ${KEY}`);

      suite.simulator.clearLog();
      answerWith('/ws/workflows/wf', { outputs: [] });
      configure({ apiKeyTransport: 'both' });
      await suite.client.useApiV0(() => suite.client.runWorkflow({ workspaceName: 'ws', workflowId: 'wf' }));
      const both = only('/ws/workflows/wf');
      assert.equal((both.body as { api_key: string }).api_key, KEY);
      assert.equal(both.rawQuery, '');
      assert.equal(both.headers.authorization, `Bearer ${KEY}`);
    });
  });

  describe('retries', () => {
    it('retries 503 and connection resets, then succeeds', async () => {
      suite.simulator.inject({ route: '/workflows/run', status: 503, count: 2 });
      const outputs = await suite.client.runWorkflow({ specification: SPECIFICATION, images: { image } });
      assert.equal(suite.simulator.requests('/workflows/run').length, 3);
      assert.equal(outputs.length, 1);

      suite.simulator.clearLog();
      suite.simulator.inject({ route: '/workflows/run', kind: 'reset', count: 1 });
      await suite.client.runWorkflow({ specification: SPECIFICATION, images: { image } });
      assert.equal(suite.simulator.requests('/workflows/run').length, 2);
    });

    it('gives up after three 503s with HTTPCallErrorError, at once for 500, and on persistent resets with HTTPClientError', async () => {
      suite.simulator.inject({ route: '/workflows/run', status: 503, count: Infinity });
      await assert.rejects(suite.client.runWorkflow({ specification: SPECIFICATION }), (error: Error) => {
        assert.ok(error instanceof HTTPCallErrorError);
        assert.equal(error.statusCode, 503);
        assert.match(error.description, /^Original request failed and retry did not succeed\./);
        return true;
      });
      assert.equal(suite.simulator.requests('/workflows/run').length, 3);

      suite.simulator.clearFaults();
      suite.simulator.clearLog();
      suite.simulator.inject({ route: '/workflows/run', status: 500, body: { message: 'Internal error.' } });
      await assert.rejects(suite.client.runWorkflow({ specification: SPECIFICATION }), (error: Error) => {
        assert.ok(error instanceof HTTPCallErrorError && error.statusCode === 500);
        return true;
      });
      assert.equal(suite.simulator.requests('/workflows/run').length, 1);

      suite.simulator.clearLog();
      suite.simulator.inject({ route: '/workflows/run', kind: 'reset', count: Infinity });
      await assert.rejects(suite.client.runWorkflow({ specification: SPECIFICATION }), (error: Error) => {
        assert.ok(error instanceof HTTPClientError && !(error instanceof HTTPCallErrorError));
        return true;
      });
      assert.equal(suite.simulator.requests('/workflows/run').length, 3);
    });

    it('sends once when workflow retries are disabled', async () => {
      configure({ workflowRunRetriesEnabled: false });
      suite.simulator.inject({ route: '/workflows/run', status: 503, count: 1 });
      await assert.rejects(suite.client.runWorkflow({ specification: SPECIFICATION }), (error: Error) => {
        assert.ok(error instanceof HTTPCallErrorError && error.statusCode === 503);
        return true;
      });
      assert.equal(suite.simulator.requests('/workflows/run').length, 1);

      suite.simulator.clearLog();
      suite.simulator.inject({ route: '/workflows/run', kind: 'reset', count: 1 });
      await assert.rejects(suite.client.runWorkflow({ specification: SPECIFICATION }), HTTPClientError);
      assert.equal(suite.simulator.requests('/workflows/run').length, 1);
    });
  });

  describe('outputs', () => {
    const jpegBase64 = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]).toString('base64');
    const answer = {
      outputs: [
        {
          picture: { type: 'base64', value: jpegBase64, video_metadata: { frame_number: 1 } },
          crops: [{ type: 'base64', value: jpegBase64 }, { nested: { type: 'base64', value: jpegBase64 } }],
          link: { type: 'url', value: 'http://example.invalid/a.jpg' },
          count: 2,
        },
      ],
    };

    it('turns base64 image dicts into their value, recursively, leaving everything else alone', async () => {
      answerWith('/workflows/run', answer);
      const [output] = await suite.client.runWorkflow({ specification: SPECIFICATION });
      assert.deepEqual(output, {
        picture: jpegBase64,
        crops: [jpegBase64, { nested: jpegBase64 }],
        link: { type: 'url', value: 'http://example.invalid/a.jpg' },
        count: 2,
      });
    });

    it("gives image Buffers with outputVisualisationFormat 'buffer'", async () => {
      configure({ outputVisualisationFormat: 'buffer' });
      answerWith('/workflows/run', answer);
      const [output] = await suite.client.runWorkflow({ specification: SPECIFICATION });
      const bytes = Buffer.from(jpegBase64, 'base64');
      assert.ok(Buffer.isBuffer(output.picture));
      assert.deepEqual(output.picture, bytes);
      assert.deepEqual(output.crops, [bytes, { nested: bytes }]);
      assert.deepEqual(output.link, { type: 'url', value: 'http://example.invalid/a.jpg' });
    });

    it('fails clearly when the response has no outputs list', async () => {
      answerWith('/workflows/run', { something: 'else' });
      await assert.rejects(suite.client.runWorkflow({ specification: SPECIFICATION }), HTTPClientError);
    });

    it('writes the profiler trace to a new file in the profiling directory', async () => {
      const root = await mkdtemp(join(tmpdir(), 'workflow-profiling-'));
      try {
        const directory = join(root, 'not', 'yet', 'there');
        configure({ profilingDirectory: directory });
        const trace = [{ name: 'step', ph: 'X', ts: 1, dur: 2 }];
        answerWith('/workflows/run', { outputs: [{ a: 1 }], profiler_trace: trace });
        const traces: unknown[] = [];
        const outputs = await suite.client.runWorkflow({
          specification: SPECIFICATION,
          enableProfiling: true,
          onProfilerTrace: (received) => traces.push(received),
        });
        assert.deepEqual(outputs, [{ a: 1 }]);
        assert.deepEqual(traces, [trace]);
        assert.equal((only('/workflows/run').body as { enable_profiling: boolean }).enable_profiling, true);
        const files = await readdir(directory);
        assert.equal(files.length, 1);
        assert.match(files[0], /^workflow_execution_tack_\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.json$/);
        assert.deepEqual(JSON.parse(await readFile(join(directory, files[0]), 'utf8')), trace);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });

    it('writes an empty trace when the server sent none, and nothing without profiling', async () => {
      const root = await mkdtemp(join(tmpdir(), 'workflow-profiling-'));
      try {
        configure({ profilingDirectory: root });
        answerWith('/workflows/run', { outputs: [] });
        await suite.client.runWorkflow({ specification: SPECIFICATION });
        assert.deepEqual(await readdir(root), []);
        answerWith('/workflows/run', { outputs: [] });
        await suite.client.runWorkflow({ specification: SPECIFICATION, enableProfiling: true });
        const files = await readdir(root);
        assert.equal(files.length, 1);
        assert.deepEqual(JSON.parse(await readFile(join(root, files[0]), 'utf8')), []);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  });

  describe('interface and blocks', () => {
    it('describes a specification and a named workflow', async () => {
      const described = await suite.client.describeWorkflowInterface({ specification: SPECIFICATION });
      assert.deepEqual(only('/workflows/describe_interface').body, { api_key: KEY, specification: SPECIFICATION });
      assert.ok('image' in described.inputs);
      assert.ok('predictions' in described.outputs);

      suite.simulator.clearLog();
      answerWith('/ws/workflows/wf/describe_interface', { inputs: {}, outputs: {}, typing_hints: {}, kinds_schemas: {} });
      await suite.client.describeWorkflowInterface({ workspaceName: 'ws', workflowId: 'wf', workflowVersionId: 'v2' });
      assert.deepEqual(only('/ws/workflows/wf/describe_interface').body, { api_key: KEY, use_cache: true, workflow_version_id: 'v2' });

      await assert.rejects(suite.client.describeWorkflowInterface({} as { specification: Record<string, unknown> }), InvalidParameterError);
    });

    it('lists the blocks', async () => {
      const blocks = await suite.client.listWorkflowBlocks({ executionEngineVersion: '1.4.0' });
      assert.deepEqual(only('/workflows/blocks/describe').body, {
        api_key: KEY,
        dynamic_blocks_definitions: [],
        execution_engine_version: '1.4.0',
      });
      assert.equal(typeof blocks, 'object');
    });
  });
});

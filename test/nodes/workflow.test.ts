import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { standardImage } from '../fixtures/images';
import { coreNodes, debugNamed, exampleFlow, nodeOfType } from './examples';
import { API_KEY, collect, eventually, flowOnTab, helper, nodeModules, SERVER_ID, serverNode, useNodeRedWithSimulator, type FlowNode } from './helpers';

const NODES = () => nodeModules('roboflow-server', 'roboflow-workflow');
const CREDENTIALS = { [SERVER_ID]: { apiKey: API_KEY } };

const DETECT_SPECIFICATION = {
  version: '1.0',
  inputs: [
    { type: 'WorkflowImage', name: 'image' },
    { type: 'WorkflowParameter', name: 'confidence', default_value: 0.4 },
  ],
  steps: [
    { type: 'roboflow_core/roboflow_object_detection_model@v2', name: 'model', images: '$inputs.image', model_id: 'shapes/1', confidence: '$inputs.confidence' },
    { type: 'roboflow_core/bounding_box_visualization@v1', name: 'visualisation', image: '$inputs.image', predictions: '$steps.model.predictions' },
  ],
  outputs: [
    { type: 'JsonField', name: 'predictions', selector: '$steps.model.predictions' },
    { type: 'JsonField', name: 'visualisation', selector: '$steps.visualisation.image' },
  ],
};

describe('roboflow-workflow', function () {
  const simulator = useNodeRedWithSimulator();
  let profilingDirectory: string;

  function flow(workflow: Record<string, unknown> = {}): FlowNode[] {
    return flowOnTab(
      [
        serverNode(simulator().url, { profilingDirectory }),
        {
          id: 'wf1',
          type: 'roboflow-workflow',
          server: SERVER_ID,
          source: 'specification',
          specification: JSON.stringify(DETECT_SPECIFICATION),
          specificationType: 'json',
          imageInputs: 'image=payload',
          useCache: true,
          enableProfiling: false,
          imageFormat: 'buffer',
          wires: [['out']],
          ...workflow,
        },
        { id: 'out', type: 'helper' },
      ],
      ['wf1'],
    );
  }

  async function run(workflow: Record<string, unknown>, msg: Record<string, unknown>): Promise<Record<string, any>> {
    await helper.load(NODES(), flow(workflow), CREDENTIALS);
    const out = collect('out');
    const caught = collect('caught');
    helper.getNode('wf1').receive(msg);
    await eventually(() => out.messages.length + caught.messages.length > 0);
    assert.deepEqual(caught.messages.map((failure) => failure.error.message), []);
    return out.messages[0];
  }

  beforeEach(async () => {
    profilingDirectory = await mkdtemp(join(tmpdir(), 'roboflow-workflow-test-'));
  });
  afterEach(async () => {
    await rm(profilingDirectory, { recursive: true, force: true });
  });

  it('shows how many results it got, and how fast, as its status', async () => {
    await helper.load(NODES(), flow(), CREDENTIALS);
    const statuses = collect('statuses');
    helper.getNode('wf1').receive({ payload: await standardImage() });
    await eventually(() => statuses.messages.some((status) => /^1 result\(s\) · \d+ ms$/.test(status.status.text)));
  });

  it('runs an inline specification on msg.payload and outputs images as JPEG Buffers', async () => {
    const image = await standardImage();
    const msg = await run({}, { payload: image, topic: 'line-1' });

    assert.equal(msg.topic, 'line-1');
    assert.deepEqual(msg.payload.predictions.predictions.map((p: { class: string }) => p.class).sort(), ['blue', 'red']);
    assert.ok(Buffer.isBuffer(msg.payload.visualisation));
    const metadata = await sharp(msg.payload.visualisation).metadata();
    assert.deepEqual([metadata.format, metadata.width, metadata.height], ['jpeg', 640, 480]);

    const [request] = simulator().requests('/workflows/run');
    const body = request.body as Record<string, any>;
    assert.deepEqual(Object.keys(body), ['api_key', 'use_cache', 'enable_profiling', 'inputs', 'specification']);
    assert.deepEqual(body.specification, DETECT_SPECIFICATION);
    assert.equal(body.inputs.image.type, 'base64');
    assert.equal(body.enable_profiling, false);
    assert.equal(msg.profilerTrace, undefined);
  });

  it('gives base64 images on request, takes parameters from the node and msg.parameters, and excludes fields', async () => {
    const msg = await run(
      { imageFormat: 'base64', parameters: '{"confidence": 0.9, "extra": 1}', parametersType: 'json', excludedFields: 'predictions' },
      { payload: await standardImage(), parameters: { confidence: 0.5 } },
    );
    assert.equal(typeof msg.payload.visualisation, 'string');
    assert.equal(msg.payload.predictions, undefined);
    const body = simulator().requests('/workflows/run')[0].body as Record<string, any>;
    assert.deepEqual(body.excluded_fields, ['predictions']);
    assert.equal(body.inputs.confidence, 0.5);
    assert.equal(body.inputs.extra, 1);
  });

  it('maps several image inputs, and none when the mapping is blank', async () => {
    const echo = { ...DETECT_SPECIFICATION, inputs: [{ type: 'WorkflowImage', name: 'left' }, { type: 'WorkflowImage', name: 'right' }], steps: [], outputs: [{ type: 'JsonField', name: 'left', selector: '$inputs.left' }] };
    const image = await standardImage();
    const msg = await run({ specification: JSON.stringify(echo), imageInputs: 'left=payload\nright = msg.frames.right' }, { payload: image, frames: { right: image } });
    assert.ok(Buffer.isBuffer(msg.payload.left));
    const inputs = (simulator().requests('/workflows/run')[0].body as { inputs: Record<string, { type: string }> }).inputs;
    assert.deepEqual(Object.keys(inputs), ['left', 'right']);

    await helper.unload();
    const parametersOnly = { ...DETECT_SPECIFICATION, inputs: [{ type: 'WorkflowParameter', name: 'word' }], steps: [], outputs: [{ type: 'JsonField', name: 'word', selector: '$inputs.word' }] };
    const echoed = await run({ specification: JSON.stringify(parametersOnly), imageInputs: '' }, { parameters: { word: 'hello' } });
    assert.deepEqual(echoed.payload, { word: 'hello' });
  });

  it('runs a named workflow with version and cache switch, mapping nested image batches from message properties', async () => {
    const image = await standardImage();
    const msg = await run(
      { source: 'named', workspace: 'demo', workflowId: 'visualise-shapes', workflowVersion: '3', useCache: false, imageInputs: 'image=frames.all' },
      { frames: { all: [[image, image], [image]] } },
    );
    const [request] = simulator().requests('/demo/workflows/visualise-shapes');
    const body = request.body as Record<string, any>;
    assert.equal(body.use_cache, false);
    assert.equal(body.workflow_version_id, '3');
    assert.equal(body.specification, undefined);
    // The nesting of the batch reaches the server unchanged.
    assert.deepEqual(
      body.inputs.image.map((batch: Array<{ type: string }>) => batch.map((element) => element.type)),
      [['base64', 'base64'], ['base64']],
    );
    // Several images in: one output object per image.
    assert.equal(msg.payload.length, 3);
    for (const output of msg.payload) assert.ok(Buffer.isBuffer(output.visualisation));
  });

  it('takes the specification from the message and puts the profiler trace on it', async () => {
    const msg = await run(
      { specification: 'workflow', specificationType: 'msg', enableProfiling: true },
      { payload: await standardImage(), workflow: DETECT_SPECIFICATION },
    );
    assert.ok(Array.isArray(msg.profilerTrace) && msg.profilerTrace.length > 0);
    assert.equal(msg.profilerTrace[0].name, 'model');
    assert.equal((simulator().requests('/workflows/run')[0].body as Record<string, unknown>).enable_profiling, true);
    assert.equal((await readdir(profilingDirectory)).filter((file) => file.startsWith('workflow_execution_tack_')).length, 1);
  });

  it('sends workflow errors and missing images to Catch with the message', async () => {
    await helper.load(NODES(), flow({ source: 'named', workspace: 'demo', workflowId: 'no-such-workflow' }), CREDENTIALS);
    const caught = collect('caught');
    helper.getNode('wf1').receive({ payload: await standardImage(), _msgid: 'w1' });
    await caught.atLeast(1);
    assert.equal(caught.messages[0]._msgid, 'w1');
    assert.match(caught.messages[0].error.message, /HTTP 404/);

    helper.getNode('wf1').receive({ topic: 'no image' });
    await caught.atLeast(2);
    assert.equal(caught.messages[1].error.message, "Error: Image input 'image': msg.payload is empty");
    await helper.unload();
    await helper.load(NODES(), flow({ imageInputs: 'image=frames.left' }), CREDENTIALS);
    const caughtNested = collect('caught');
    helper.getNode('wf1').receive({ payload: await standardImage() });
    await caughtNested.atLeast(1);
    assert.equal(caughtNested.messages[0].error.message, "Error: Image input 'image': msg.frames.left is empty");
    await helper.unload();
    await helper.load(NODES(), flow({ specification: '' }), CREDENTIALS);
    const caughtBlank = collect('caught');
    helper.getNode('wf1').receive({ payload: await standardImage() });
    await caughtBlank.atLeast(1);
    assert.equal(caughtBlank.messages[0].error.message, 'Error: The workflow specification must be a JSON object');
    await helper.unload();
    await helper.load(NODES(), flow({ imageInputs: 'image' }), CREDENTIALS);
    const caughtMapping = collect('caught');
    helper.getNode('wf1').receive({ payload: await standardImage() });
    await caughtMapping.atLeast(1);
    assert.equal(caughtMapping.messages[0].error.message, 'Error: Image input "image" is not name=property');
    // None of the messages without an image, a specification or a valid mapping reached the server.
    assert.equal(simulator().requests('/demo/workflows/').length + simulator().requests('/workflows/run').length, 1);
    assert.ok(!JSON.stringify(caught.messages).includes(API_KEY));
  });

  it("describes a workflow's inputs and outputs for the editor without returning the key", async () => {
    await helper.load(NODES(), flow(), CREDENTIALS);
    const inline = await helper
      .request()
      .post('/roboflow-workflow/interface')
      .send({ server: SERVER_ID, source: 'specification', specification: JSON.stringify(DETECT_SPECIFICATION) });
    assert.equal(inline.status, 200);
    assert.deepEqual(inline.body, {
      inputs: [
        { name: 'image', kinds: ['image'] },
        { name: 'confidence', kinds: ['*'] },
      ],
      outputs: [
        { name: 'predictions', kinds: ['object_detection_prediction'] },
        { name: 'visualisation', kinds: ['image'] },
      ],
    });
    const named = await helper.request().post('/roboflow-workflow/interface').send({ server: SERVER_ID, source: 'named', workspace: 'demo', workflowId: 'detect-shapes' });
    assert.deepEqual(named.body.outputs.map((output: { name: string }) => output.name), ['predictions', 'count']);
    assert.equal(simulator().requests('/demo/workflows/detect-shapes/describe_interface').length, 1);

    const missing = await helper.request().post('/roboflow-workflow/interface').send({ server: SERVER_ID, source: 'named', workspace: 'demo', workflowId: 'nope' });
    assert.equal(missing.status, 502);
    const undeployed = await helper.request().post('/roboflow-workflow/interface').send({ server: 'not-deployed', source: 'named' });
    assert.equal(undeployed.status, 400);
    for (const answer of [inline, named, missing, undeployed]) assert.ok(!answer.text.includes(API_KEY));
  });
});

describe('examples/workflow.json', function () {
  const simulator = useNodeRedWithSimulator({ scope: 'suite' });

  it('detects and draws on the embedded image', async () => {
    const example = exampleFlow('workflow', simulator().url);
    await helper.load([...NODES(), ...coreNodes], example);
    const outputs = collect(debugNamed(example, 'outputs'));
    helper.getNode(nodeOfType(example, 'inject')).receive({});
    const [msg] = await outputs.atLeast(1);
    assert.deepEqual(msg.payload.predictions.predictions.map((p: { class: string }) => p.class).sort(), ['blue', 'red']);
    assert.ok(Buffer.isBuffer(msg.payload.visualisation));
    assert.equal((simulator().requests('/workflows/run')[0].body as { inputs: { confidence: number } }).inputs.confidence, 0.5);
  });
});

import assert from 'node:assert/strict';
import { standardImage } from '../fixtures/images';
import { API_KEY, collect, eventually, flowOnTab, helper, nodeModules, SERVER_ID, serverNode, useNodeRedWithSimulator } from './helpers';

const NODES = () => nodeModules('roboflow-server', 'roboflow-model-manager', 'roboflow-infer');

describe('roboflow-model-manager', function () {
  const simulator = useNodeRedWithSimulator({ preloaded: ['shapes-cls/1'] });

  async function loadManager(manager: Record<string, unknown> = {}, server: Record<string, unknown> = {}) {
    const flow = flowOnTab(
      [
        serverNode(simulator().url, server),
        { id: 'manager1', type: 'roboflow-model-manager', server: SERVER_ID, action: 'info', modelId: '', setAsDefault: false, wires: [['out']], ...manager },
        { id: 'infer1', type: 'roboflow-infer', server: SERVER_ID, model: '', modelType: 'str', image: 'payload', imageType: 'msg', wires: [['inferred']] },
        { id: 'out', type: 'helper' },
        { id: 'inferred', type: 'helper' },
      ],
      ['manager1', 'infer1'],
    );
    await helper.load(NODES(), flow, { [SERVER_ID]: { apiKey: API_KEY } });
    return { out: collect('out'), caught: collect('caught'), statuses: collect('statuses'), node: helper.getNode('manager1') };
  }

  const loadedIds = (payload: { models: Array<{ modelId: string }> }) => payload.models.map((model) => model.modelId).sort();

  it('answers server info and passes the message through', async () => {
    const { out, statuses, node } = await loadManager();
    node.receive({ topic: 'ask' });
    const [msg] = await out.atLeast(1);
    assert.equal(msg.topic, 'ask');
    assert.equal(msg.payload.name, 'Roboflow Inference Server');
    assert.equal(msg.payload.version, '1.5.0');
    await eventually(() => statuses.messages.some((status) => status.status.text === 'server info'));
  });

  it('lists, loads, describes, unloads and unloads all, as msg.action and msg.modelId ask', async () => {
    const { out, node } = await loadManager({ action: 'list' });
    const steps: Array<Record<string, unknown>> = [
      {},
      { action: 'load', modelId: 'shapes/1' },
      { action: 'describe', modelId: 'yolov8n-640' },
      { action: 'unload', modelId: 'shapes-cls/1' },
      { action: 'unloadAll' },
    ];
    for (const step of steps) node.receive(step);
    const [listed, loaded, described, unloaded, cleared] = await out.atLeast(steps.length);
    assert.deepEqual(loadedIds(listed.payload), ['shapes-cls/1']);
    assert.deepEqual(loadedIds(loaded.payload), ['shapes-cls/1', 'shapes/1']);
    assert.equal(described.payload.modelId, 'coco/3', 'aliases resolve');
    assert.equal(described.payload.taskType, 'object-detection');
    assert.equal(described.payload.inputWidth, 640);
    assert.deepEqual(loadedIds(unloaded.payload), ['coco/3', 'shapes/1']);
    assert.deepEqual(cleared.payload.models, []);
    assert.equal((simulator().requests('/model/add')[0].body as Record<string, unknown>).api_key, API_KEY);
  });

  it('sets the loaded model as the default that nodes without a model use', async () => {
    const { out, node } = await loadManager({ action: 'load', modelId: 'shapes/1', setAsDefault: true });
    node.receive({});
    await out.atLeast(1);
    const inferred = collect('inferred');
    helper.getNode('infer1').receive({ payload: await standardImage() });
    const [msg] = await inferred.atLeast(1);
    assert.equal(msg.inference.modelId, 'shapes/1');
    assert.deepEqual(msg.counts, { red: 1, blue: 1 });
  });

  it('reports a missing model id, an unknown action and an unknown model to Catch', async () => {
    const { caught, node, out } = await loadManager();
    node.receive({ action: 'load' });
    node.receive({ action: 'explode' });
    node.receive({ action: 'load', modelId: 'no-such/1' });
    const [missing, unknownAction, unknownModel] = await caught.atLeast(3);
    assert.match(missing.error.message, /needs a model id/);
    assert.match(unknownAction.error.message, /Unknown action 'explode'/);
    assert.match(unknownModel.error.message, /404/);
    assert.equal(out.messages.length, 0);
  });

  it('gives the client\'s WrongClientModeError against a v0 (hosted-protocol) server', async () => {
    const { caught, node } = await loadManager({ action: 'list' }, { apiMode: 'v0' });
    node.receive({});
    const [msg] = await caught.atLeast(1);
    assert.match(msg.error.message, /mode `v1`/);
    assert.equal(simulator().requests('/model/').length, 0);
  });
});

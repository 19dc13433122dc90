import assert from 'node:assert/strict';
import { MODEL_ALIASES, resolveModelAlias } from '../../src/core/aliases';
import { InferenceHTTPClient } from '../../src/core/client';
import { InferenceConfiguration } from '../../src/core/configuration';
import { HTTPCallErrorError, ModelNotInitializedError, WrongClientModeError } from '../../src/core/errors';
import { type Simulator, startSimulator } from '../simulator';

const API_KEY = 'my-api-key';

describe('model management', () => {
  let simulator: Simulator;
  let client: InferenceHTTPClient;

  before(async () => {
    simulator = await startSimulator();
  });
  after(() => simulator.stop());
  beforeEach(async () => {
    client = new InferenceHTTPClient(simulator.url, API_KEY);
    client.configure(new InferenceConfiguration({ apiKeyTransport: 'legacy' }));
    await client.unloadAllModels();
    simulator.clearLog();
    simulator.clearFaults();
  });
  afterEach(() => client.close());

  it('loadModel posts the de-aliased id with the key and selects it when asked', async () => {
    const registered = await client.loadModel('yolov8n-640', true);
    const [request] = simulator.log;
    assert.deepEqual([request.method, request.path, request.body], ['POST', '/model/add', { model_id: 'coco/3', api_key: API_KEY }]);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(client.selectedModel, 'coco/3');
    assert.deepEqual(registered.models, [
      { modelId: 'coco/3', taskType: 'object-detection', batchSize: registered.models[0].batchSize, inputHeight: 640, inputWidth: 640 },
    ]);
    await client.loadModel('shapes/1');
    assert.equal(client.selectedModel, 'coco/3', 'setAsDefault defaults to false');
  });

  it('a failed load leaves the selection alone', async () => {
    simulator.inject({ route: '/model/add', status: 500 });
    await assert.rejects(client.loadModel('shapes/1', true), (error: unknown) => error instanceof HTTPCallErrorError && error.statusCode === 500);
    assert.equal(client.selectedModel, undefined);
    assert.equal(simulator.log.length, 1, 'model management is not retried');
  });

  it('listLoadedModels queries the registry with the key in the query', async () => {
    await client.loadModel('shapes/1');
    await client.loadModel('shapes-cls/1');
    simulator.clearLog();
    const registered = await client.listLoadedModels();
    const [request] = simulator.log;
    assert.deepEqual([request.method, request.path, request.rawQuery, request.body], ['GET', '/model/registry', `api_key=${API_KEY}`, undefined]);
    assert.equal(request.headers['content-type'], undefined);
    assert.deepEqual(
      registered.models.map((model) => [model.modelId, model.taskType, model.inputWidth, model.inputHeight]).sort(),
      [
        ['shapes-cls/1', 'classification', 224, 224],
        ['shapes/1', 'object-detection', 640, 640],
      ],
    );
  });

  it('keeps a string batch size and ignores unknown registry keys', async () => {
    simulator.inject({
      route: '/model/registry',
      status: 200,
      body: {
        models: [
          { model_id: 'some/1', task_type: 'object-detection', batch_size: 'batch', input_height: 384, input_width: 512, vram_bytes: 7, request_aliases: [] },
        ],
        total_vram_bytes: 7,
      },
    });
    assert.deepEqual(await client.listLoadedModels(), {
      models: [{ modelId: 'some/1', taskType: 'object-detection', batchSize: 'batch', inputHeight: 384, inputWidth: 512 }],
    });
  });

  it('unloadModel posts only the de-aliased id and clears a matching selection', async () => {
    await client.loadModel('coco/3');
    client.selectModel('yolov8n-640');
    simulator.clearLog();
    const registered = await client.unloadModel('yolov8n-640');
    assert.deepEqual(simulator.log.map((entry) => [entry.method, entry.path, entry.body]), [['POST', '/model/remove', { model_id: 'coco/3' }]]);
    assert.deepEqual(registered.models, []);
    assert.equal(client.selectedModel, undefined);

    await client.loadModel('shapes/1');
    client.selectModel('shapes-cls/1');
    await client.unloadModel('shapes/1');
    assert.equal(client.selectedModel, 'shapes-cls/1', 'another selection survives');
  });

  it('unloadAllModels posts /model/clear with no body and clears the selection', async () => {
    await client.loadModel('shapes/1', true);
    simulator.clearLog();
    assert.deepEqual(await client.unloadAllModels(), { models: [] });
    const [request] = simulator.log;
    assert.deepEqual([request.method, request.path, request.body, request.headers['content-type']], ['POST', '/model/clear', undefined, undefined]);
    assert.equal(client.selectedModel, undefined);
  });

  it('getModelDescription uses the registry entry, loading the model only when absent', async () => {
    const loaded = await client.getModelDescription('yolov8n-640');
    assert.equal(loaded.modelId, 'coco/3');
    assert.deepEqual(simulator.log.map((entry) => entry.path), ['/model/registry', '/model/add']);
    simulator.clearLog();
    assert.equal((await client.getModelDescription('coco/3')).taskType, 'object-detection');
    assert.deepEqual(simulator.log.map((entry) => entry.path), ['/model/registry']);
  });

  it('getModelDescription without loading raises ModelNotInitializedError', async () => {
    await assert.rejects(client.getModelDescription('shapes/1', false), ModelNotInitializedError);
    assert.deepEqual(simulator.log.map((entry) => entry.path), ['/model/registry']);
  });

  it('header transport keeps the key out of the registry query and the add body', async () => {
    client.configure(new InferenceConfiguration({ apiKeyTransport: 'header' }));
    await client.loadModel('shapes/1');
    await client.listLoadedModels();
    await client.unloadModel('shapes/1');
    const [add, registry, remove] = simulator.log;
    assert.deepEqual(add.body, { model_id: 'shapes/1' });
    assert.equal(registry.rawQuery, '');
    assert.deepEqual(remove.body, { model_id: 'shapes/1' });
    for (const entry of simulator.log) assert.equal(entry.headers.authorization, `Bearer ${API_KEY}`);
  });

  it('both transport sends the key in query, body and header', async () => {
    client.configure(new InferenceConfiguration({ apiKeyTransport: 'both' }));
    await client.listLoadedModels();
    await client.loadModel('shapes/1');
    const [registry, add] = simulator.log;
    assert.equal(registry.rawQuery, `api_key=${API_KEY}`);
    assert.deepEqual(add.body, { model_id: 'shapes/1', api_key: API_KEY });
    for (const entry of simulator.log) assert.equal(entry.headers.authorization, `Bearer ${API_KEY}`);
  });

  it('refuses every model operation in v0 mode without sending anything', async () => {
    await client.useApiV0(async () => {
      for (const operation of [
        () => client.listLoadedModels(),
        () => client.loadModel('shapes/1'),
        () => client.unloadModel('shapes/1'),
        () => client.unloadAllModels(),
        () => client.getModelDescription('shapes/1'),
      ]) {
        await assert.rejects(operation(), WrongClientModeError);
      }
    });
    assert.equal(simulator.log.length, 0);
  });

  it('reports server errors as HTTPCallErrorError with the api message', async () => {
    simulator.inject({ route: '/model/clear', status: 500 });
    await assert.rejects(client.unloadAllModels(), { name: 'HTTPCallErrorError', statusCode: 500, apiMessage: 'Internal error.' });
    simulator.inject({ route: '/model/remove', status: 500 });
    await assert.rejects(client.unloadModel('shapes/1'), HTTPCallErrorError);
    assert.deepEqual(simulator.requests('/model/remove')[0].body, { model_id: 'shapes/1' }, 'the request was still sent');
  });
});

describe('model aliases', () => {
  it('resolves upstream aliases and passes unknown ids through', () => {
    const expected: Record<string, string> = {
      'yolov8n-640': 'coco/3',
      'yolov8m-1280': 'coco/11',
      'yolov8n-seg-640': 'coco-dataset-vdnr1/2',
      'yolov8n-pose-640': 'coco-pose-detection/1',
      'yolov11n-640': 'coco/25',
      'yolo11n-640': 'coco/25',
      'yolo11x-seg-640': 'coco-dataset-vdnr1/23',
      'rfdetr-base': 'coco/36',
      'rfdetr-nano': 'coco/38',
      'rfdetr-large': 'coco/50',
      resnet50: 'classifiers/3',
      'florence-2-base': 'florence-pretrains/3',
      'paligemma-3b-mix-224': 'paligemma-pretrains/1',
      'qwen25-vl-7b': 'qwen-pretrains/1',
    };
    for (const [alias, id] of Object.entries(expected)) assert.equal(resolveModelAlias(alias), id, alias);
    for (const size of ['n', 's', 'm', 'l', 'x']) {
      assert.equal(resolveModelAlias(`yolo26${size}-sem-1024`), `yolo26-pretrains/yolo26${size}-sem`);
      assert.equal(resolveModelAlias(`yolo26${size}-depth-768`), `yolo26-pretrains/yolo26${size}-depth`);
      assert.equal(resolveModelAlias(`yolov26${size}-depth-768`), `yolo26-pretrains/yolo26${size}-depth`);
    }
    assert.equal(resolveModelAlias('my-project/4'), 'my-project/4');
    assert.equal(resolveModelAlias('toString'), 'toString');
    assert.ok(Object.keys(MODEL_ALIASES).length > 100);
  });
});

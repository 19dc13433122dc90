import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { standardImage } from '../fixtures/images';
import { startSimulator } from '../simulator';
import { API_KEY, collect, flowOnTab, helper, nodeModules, SERVER_ID, serverNode, useNodeRedWithSimulator, type FlowNode } from './helpers';

const NODES = () => nodeModules('roboflow-server', 'roboflow-infer');

function inferNode(id: string, output: string): FlowNode {
  return { id, type: 'roboflow-infer', server: SERVER_ID, model: 'shapes/1', modelType: 'str', image: 'payload', imageType: 'msg', wires: [[output]] };
}

describe('roboflow-server', function () {
  const simulator = useNodeRedWithSimulator();
  afterEach(() => {
    delete process.env.TEST_ROBOFLOW_KEY;
  });

  async function loadServer(config: Record<string, unknown> = {}, apiKey = API_KEY) {
    const flow = flowOnTab(
      [serverNode(simulator().url, config), inferNode('inferA', 'outA'), inferNode('inferB', 'outB'), { id: 'outA', type: 'helper' }, { id: 'outB', type: 'helper' }],
      ['inferA', 'inferB'],
    );
    await helper.load(NODES(), flow, { [SERVER_ID]: { apiKey } });
    return flow;
  }

  it('gives every node using it the same client and its configuration defaults', async () => {
    await loadServer({ confidenceThreshold: '0.66', maxDetections: '12', classAgnosticNms: 'true', apiKeyTransport: 'header' });
    const server = helper.getNode(SERVER_ID);
    const outA = collect('outA');
    const outB = collect('outB');
    const image = await standardImage();
    helper.getNode('inferA').receive({ payload: image });
    helper.getNode('inferB').receive({ payload: image });
    await Promise.all([outA.atLeast(1), outB.atLeast(1)]);

    assert.equal(server.configuration.confidenceThreshold, 0.66);
    for (const request of simulator().requests('/infer/')) {
      const body = request.body as Record<string, unknown>;
      assert.equal(body.confidence, 0.66);
      assert.equal(body.max_detections, 12);
      assert.equal(body.class_agnostic_nms, true);
      assert.equal(body.api_key, undefined, 'header transport keeps the key out of the body');
      assert.equal(request.headers.authorization, `Bearer ${API_KEY}`);
    }
    // One shared client: the model registry is asked once for both nodes (its description is cached).
    assert.equal(simulator().requests('/model/registry').length, 1);
  });

  it('reads ${ENV_VAR} in the API key from the environment', async () => {
    process.env.TEST_ROBOFLOW_KEY = 'key-from-the-environment';
    await loadServer({}, '${TEST_ROBOFLOW_KEY}');
    const out = collect('outA');
    helper.getNode('inferA').receive({ payload: await standardImage() });
    await out.atLeast(1);
    assert.equal((simulator().requests('/infer/')[0].body as Record<string, unknown>).api_key, 'key-from-the-environment');
  });

  it('keeps the key out of the flow configuration', async () => {
    const flow = await loadServer();
    assert.ok(!JSON.stringify(flow).includes(API_KEY));
    const server = helper.getNode(SERVER_ID);
    assert.ok(!JSON.stringify({ ...server, credentials: undefined, client: undefined }).includes(API_KEY));
  });

  describe('image input policy', function () {
    async function caughtError(config: Record<string, unknown>, payload: unknown): Promise<string> {
      await loadServer(config);
      const caught = collect('caught');
      helper.getNode('inferA').receive({ payload });
      const [msg] = await caught.atLeast(1);
      return msg.error.message;
    }

    it('the strict preset refuses plain-http and local image URLs', async () => {
      const message = await caughtError({ urlPolicy: 'strict' }, `${simulator().url}/image.jpg`);
      assert.match(message, /only https URLs are allowed/);
    });

    it('a custom policy can refuse URL inputs altogether', async () => {
      const message = await caughtError({ urlPolicy: 'custom', allowUrlInput: false }, 'https://example.com/image.jpg');
      assert.match(message, /URLs is not allowed/);
    });

    it('file paths must stay inside the base folder', async () => {
      const folder = await mkdtemp(join(tmpdir(), 'roboflow-base-'));
      try {
        await writeFile(join(folder, 'inside.jpg'), await standardImage());
        await loadServer({ fileBaseDir: folder });
        const out = collect('outA');
        const caught = collect('caught');
        helper.getNode('inferA').receive({ payload: 'inside.jpg' });
        helper.getNode('inferA').receive({ payload: '../../../../etc/hostname' });
        const [inside] = await out.atLeast(1);
        assert.deepEqual(inside.counts, { red: 1, blue: 1 });
        const [outside] = await caught.atLeast(1);
        assert.match(outside.error.message, /outside the allowed folder/);
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    });
  });

  describe('admin endpoints for the editor', function () {
    it('tests the connection with /info, for a deployed server by id', async () => {
      await loadServer();
      const response = await helper.request().post('/roboflow-server/info').send({ id: SERVER_ID, url: simulator().url });
      assert.equal(response.status, 200);
      assert.equal(response.body.name, 'Roboflow Inference Server');
      assert.equal(response.body.version, '1.5.0');
      assert.equal(response.body.mode, 'v1');
      assert.ok(!response.text.includes(API_KEY));
      assert.equal(simulator().requests('/info').length, 1);
    });

    it('lists the loaded models with the deployed key, without returning it', async () => {
      await loadServer();
      await helper.request().post('/roboflow-server/info').send({ id: SERVER_ID });
      simulator().clearLog();
      const load = collect('outA');
      helper.getNode('inferA').receive({ payload: await standardImage() });
      await load.atLeast(1);
      simulator().clearLog();

      const response = await helper.request().post('/roboflow-server/models').send({ id: SERVER_ID, url: simulator().url });
      assert.equal(response.status, 200);
      assert.deepEqual(response.body.models, [{ modelId: 'shapes/1', taskType: 'object-detection' }]);
      assert.ok(!response.text.includes(API_KEY));
      assert.equal(simulator().requests('/model/registry')[0].query.api_key, API_KEY);
    });

    it('uses an unsaved key posted by the dialog instead of the deployed one', async () => {
      await loadServer();
      const response = await helper
        .request()
        .post('/roboflow-server/models')
        .send({ id: SERVER_ID, url: simulator().url, apiKey: 'unsaved-dialog-key' });
      assert.equal(response.status, 200);
      assert.ok(!response.text.includes('unsaved-dialog-key'));
      assert.equal(simulator().requests('/model/registry')[0].query.api_key, 'unsaved-dialog-key');
    });

    it('never sends the deployed key to a URL other than the deployed one', async () => {
      await loadServer();
      const elsewhere = await startSimulator();
      try {
        const response = await helper.request().post('/roboflow-server/models').send({ id: SERVER_ID, url: elsewhere.url });
        assert.equal(response.status, 200);
        assert.equal(elsewhere.requests('/model/registry')[0].query.api_key, undefined);
        assert.ok(!JSON.stringify(elsewhere.log).includes(API_KEY));
      } finally {
        await elsewhere.stop();
      }
    });

    it('works for a server that is not deployed yet', async () => {
      await helper.load(NODES(), flowOnTab([], []), {});
      const response = await helper.request().post('/roboflow-server/info').send({ id: 'not-deployed', url: simulator().url });
      assert.equal(response.status, 200);
      assert.equal(response.body.name, 'Roboflow Inference Server');
    });

    it('reports failures with 502 and a message without the key', async () => {
      await loadServer();
      simulator().inject({ route: '/model/registry', status: 500, body: { message: `boom api_key=${API_KEY}` } });
      const failed = await helper.request().post('/roboflow-server/models').send({ id: SERVER_ID, url: simulator().url });
      assert.equal(failed.status, 502);
      assert.equal(typeof failed.body.error, 'string');
      assert.ok(!failed.text.includes(API_KEY), failed.text);

      const stopped = await startSimulator();
      await stopped.stop();
      const down = await helper.request().post('/roboflow-server/info').send({ id: SERVER_ID, url: stopped.url });
      assert.equal(down.status, 502);
      assert.match(down.body.error, /ECONNREFUSED|connect|refused/i);
    });
  });
});

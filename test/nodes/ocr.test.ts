import assert from 'node:assert/strict';
import { standardImage } from '../fixtures/images';
import { coreNodes, debugNamed, exampleFlow, nodeOfType } from './examples';
import { API_KEY, collect, eventually, flowOnTab, helper, nodeModules, SERVER_ID, serverNode, useNodeRedWithSimulator, type FlowNode } from './helpers';

const NODES = () => nodeModules('roboflow-server', 'roboflow-ocr');
const CREDENTIALS = { [SERVER_ID]: { apiKey: API_KEY } };

function flow(simulatorUrl: string, ocr: Record<string, unknown> = {}): FlowNode[] {
  return flowOnTab(
    [
      serverNode(simulatorUrl),
      { id: 'ocr1', type: 'roboflow-ocr', server: SERVER_ID, image: 'payload', imageType: 'msg', model: 'doctr', annotationsProperty: 'annotations', wires: [['out']], ...ocr },
      { id: 'out', type: 'helper' },
    ],
    ['ocr1'],
  );
}

describe('roboflow-ocr', function () {
  const simulator = useNodeRedWithSimulator();

  it('puts the recognised text in msg.payload and the response in msg.ocr, sending only what is set', async () => {
    await helper.load(NODES(), flow(simulator().url), CREDENTIALS);
    const out = collect('out');
    const statuses = collect('statuses');
    helper.getNode('ocr1').receive({ payload: await standardImage(), topic: 'sign' });
    const [msg] = await out.atLeast(1);

    // The simulator reads the coloured boxes as words, in reading order.
    assert.equal(msg.payload, 'RED BLUE');
    assert.equal(msg.topic, 'sign');
    assert.equal(msg.ocr.result, 'RED BLUE');
    assert.equal(msg.annotations, undefined);
    const [request] = simulator().requests('/doctr/ocr');
    const body = request.body as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['api_key', 'image']);
    assert.equal(body.api_key, API_KEY);
    await eventually(() => statuses.messages.some((status) => /^RED BLUE · \d+ ms$/.test(status.status.text)));
  });

  it('sends the model, version, languages and quantize of EasyOCR', async () => {
    await helper.load(NODES(), flow(simulator().url, { model: 'easy_ocr', version: 'english_g2', languages: 'en, fr', quantize: 'true' }), CREDENTIALS);
    const out = collect('out');
    helper.getNode('ocr1').receive({ payload: await standardImage() });
    await out.atLeast(1);
    const [request] = simulator().requests('/easy_ocr/ocr');
    const { image, api_key, ...options } = request.body as Record<string, unknown>;
    assert.ok(image && api_key);
    assert.deepEqual(options, { easy_ocr_version_id: 'english_g2', quantize: true, language_codes: ['en', 'fr'] });
  });

  it('routes TrOCR and PP-OCR to their endpoints with their version fields', async () => {
    for (const [model, version, path, field] of [
      ['trocr', 'trocr-small-printed', '/ocr/trocr', 'trocr_version_id'],
      ['pp_ocr', 'tiny-small', '/ocr/pp-ocr', 'pp_ocr_version_id'],
    ]) {
      // Options of other models, left in the dialog's hidden fields, are not sent.
      await helper.load(NODES(), flow(simulator().url, { model, version, languages: 'en', quantize: 'true', boundingBoxes: true }), CREDENTIALS);
      const out = collect('out');
      helper.getNode('ocr1').receive({ payload: await standardImage() });
      await out.atLeast(1);
      const [request] = simulator().requests(path);
      assert.deepEqual(Object.keys(request.body as object).sort(), ['api_key', 'image', field], model);
      assert.equal((request.body as Record<string, unknown>)[field], version, model);
      await helper.unload();
    }
  });

  it('asks for word boxes and turns them into annotations', async () => {
    await helper.load(NODES(), flow(simulator().url, { boundingBoxes: true }), CREDENTIALS);
    const out = collect('out');
    helper.getNode('ocr1').receive({ payload: await standardImage() });
    const [msg] = await out.atLeast(1);
    assert.equal((simulator().requests('/doctr/ocr')[0].body as Record<string, unknown>).generate_bounding_boxes, true);
    assert.deepEqual(msg.ocr.predictions.map((word: { class: string }) => word.class), ['RED', 'BLUE']);
    assert.deepEqual(
      msg.annotations.map((annotation: { label: string; bbox: number[] }) => [annotation.label, annotation.bbox.map(Math.round)]),
      [
        ['RED', [100, 80, 200, 150]],
        ['BLUE', [400, 300, 120, 100]],
      ],
    );
  });

  it('reads a batch into a list of texts, one request per image', async () => {
    await helper.load(NODES(), flow(simulator().url), CREDENTIALS);
    const out = collect('out');
    const image = await standardImage();
    helper.getNode('ocr1').receive({ payload: [image, image] });
    const [msg] = await out.atLeast(1);
    assert.deepEqual(msg.payload, ['RED BLUE', 'RED BLUE']);
    assert.equal(simulator().requests('/doctr/ocr').length, 2);
  });

  it('reports failures to Catch and the status, with the message', async () => {
    await helper.load(NODES(), flow(simulator().url), CREDENTIALS);
    const caught = collect('caught');
    const statuses = collect('statuses');
    simulator().inject({ route: '/doctr/ocr', status: 500, body: { message: 'Internal error.' } });
    helper.getNode('ocr1').receive({ payload: await standardImage(), _msgid: 'm1' });
    const [failure] = await caught.atLeast(1);
    assert.match(failure.error.message, /HTTP 500: Internal error\./);
    assert.equal(failure.error.source.id, 'ocr1');
    assert.equal(failure._msgid, 'm1');
    await eventually(() => statuses.messages.some((msg) => msg.status.fill === 'red'));
    assert.ok(!JSON.stringify(caught.messages).includes(API_KEY));

    helper.getNode('ocr1').receive({ payload: '' });
    await caught.atLeast(2);
    assert.equal(caught.messages[1].error.message, 'Error: No image in the chosen property');
  });
});

describe('examples/ocr.json', function () {
  const simulator = useNodeRedWithSimulator({ scope: 'suite' });

  it('reads the embedded image and shows the text in its debug node', async () => {
    const example = exampleFlow('ocr', simulator().url);
    await helper.load([...NODES(), ...coreNodes], example);
    const text = collect(debugNamed(example, 'text'));
    helper.getNode(nodeOfType(example, 'inject')).receive({});
    const [msg] = await text.atLeast(1);
    assert.equal(msg.payload, 'RED BLUE');
    assert.equal(msg.annotations.length, 2);
  });
});

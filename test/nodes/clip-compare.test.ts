import assert from 'node:assert/strict';
import { makeImage } from '../fixtures/images';
import { coreNodes, debugNamed, exampleFlow, nodeOfType } from './examples';
import { API_KEY, collect, eventually, flowOnTab, helper, nodeModules, SERVER_ID, serverNode, useNodeRedWithSimulator, type FlowNode } from './helpers';

const NODES = () => nodeModules('roboflow-server', 'roboflow-clip-compare');
const CREDENTIALS = { [SERVER_ID]: { apiKey: API_KEY } };

function flow(simulatorUrl: string, clip: Record<string, unknown> = {}): FlowNode[] {
  return flowOnTab(
    [
      serverNode(simulatorUrl),
      {
        id: 'clip1',
        type: 'roboflow-clip-compare',
        server: SERVER_ID,
        mode: 'compare',
        subject: 'payload',
        subjectType: 'msg',
        subjectKind: 'image',
        prompts: 'a red box, a blue box, a green box',
        promptsType: 'str',
        promptKind: 'text',
        wires: [['out']],
        ...clip,
      },
      { id: 'out', type: 'helper' },
    ],
    ['clip1'],
  );
}

/** The simulator's CLIP sees colours: a mostly red image is closest to "a red box". */
const redImage = () => makeImage({ boxes: [{ colour: 'red', left: 50, top: 50, width: 400, height: 300 }] });
const blueImage = () => makeImage({ boxes: [{ colour: 'blue', left: 50, top: 50, width: 400, height: 300 }] });

describe('roboflow-clip-compare', function () {
  const simulator = useNodeRedWithSimulator();

  async function run(clip: Record<string, unknown>, msg: Record<string, unknown>): Promise<Record<string, any>> {
    await helper.load(NODES(), flow(simulator().url, clip), CREDENTIALS);
    const out = collect('out');
    const caught = collect('caught');
    helper.getNode('clip1').receive(msg);
    await eventually(() => out.messages.length + caught.messages.length > 0);
    assert.deepEqual(caught.messages.map((failure) => failure.error.message), []);
    return out.messages[0];
  }

  it('compares an image with prompts typed in the node and answers which one is best', async () => {
    const msg = await run({}, { payload: await redImage(), topic: 'cam' });
    assert.equal(msg.topic, 'cam');
    assert.equal(msg.payload.best.label, 'a red box');
    assert.equal(msg.payload.best.index, 0);
    assert.deepEqual(Object.keys(msg.payload.similarities), ['a red box', 'a blue box', 'a green box']);
    assert.deepEqual(msg.payload.scores, msg.clip.similarity);
    assert.deepEqual(msg.payload.scores, Object.values(msg.payload.similarities));
    assert.deepEqual(
      msg.payload.ranked.map((entry: { similarity: number }) => entry.similarity),
      [...msg.payload.scores].sort((a: number, b: number) => b - a),
    );

    const [request] = simulator().requests('/clip/compare');
    const body = request.body as Record<string, any>;
    assert.deepEqual(Object.keys(body), ['api_key', 'subject_type', 'prompt_type', 'subject', 'prompt']);
    assert.equal(body.subject_type, 'image');
    assert.equal(body.prompt_type, 'text');
    assert.equal(body.subject.type, 'base64');
    assert.deepEqual(body.prompt, ['a red box', 'a blue box', 'a green box']);
  });

  it('shows the best prompt, or the embeddings made, as its status', async () => {
    await helper.load(NODES(), flow(simulator().url), CREDENTIALS);
    const statuses = collect('statuses');
    helper.getNode('clip1').receive({ payload: await redImage() });
    await eventually(() => statuses.messages.some((status) => /^a red box \d\.\d\d$/.test(status.status.text)));

    await helper.unload();
    await helper.load(NODES(), flow(simulator().url, { mode: 'imageEmbedding' }), CREDENTIALS);
    const embedded = collect('statuses');
    helper.getNode('clip1').receive({ payload: [await redImage(), await blueImage()] });
    await eventually(() => embedded.messages.some((status) => /^2 × \d+-d embedding$/.test(status.status.text)));
  });

  it('takes prompts as a JSON array, with the CLIP version chosen in the node', async () => {
    const msg = await run(
      { prompts: '["a blue box, large", "a yellow box"]', promptsType: 'json', clipVersion: 'ViT-L-14' },
      { payload: await blueImage() },
    );
    assert.equal(msg.payload.best.label, 'a blue box, large');
    const body = simulator().requests('/clip/compare')[0].body as Record<string, unknown>;
    assert.equal(body.clip_version_id, 'ViT-L-14');
    assert.deepEqual(body.prompt, ['a blue box, large', 'a yellow box']);
  });

  it('takes named prompts from the message and labels the scores with their names', async () => {
    const msg = await run(
      { prompts: 'prompts', promptsType: 'msg' },
      { payload: await blueImage(), prompts: { cat: 'a red box', dog: 'a blue box' } },
    );
    assert.deepEqual(Object.keys(msg.payload.similarities), ['cat', 'dog']);
    assert.equal(msg.payload.best.label, 'dog');
    assert.deepEqual((simulator().requests('/clip/compare')[0].body as Record<string, unknown>).prompt, { cat: 'a red box', dog: 'a blue box' });
  });

  it('compares a text subject with image prompts', async () => {
    const msg = await run(
      { subject: 'a blue box', subjectType: 'str', subjectKind: 'text', prompts: 'images', promptsType: 'msg', promptKind: 'image' },
      { images: [await redImage(), await blueImage()] },
    );
    assert.deepEqual(msg.payload.ranked.map((entry: { label: string }) => entry.label), ['image 2', 'image 1']);
    const body = simulator().requests('/clip/compare')[0].body as Record<string, any>;
    assert.equal(body.subject, 'a blue box');
    assert.equal(body.subject_type, 'text');
    assert.equal(body.prompt_type, 'image');
    assert.deepEqual(body.prompt.map((prompt: { type: string }) => prompt.type), ['base64', 'base64']);
  });

  it('gives an image embedding as a vector, and one vector per image for a batch', async () => {
    const single = await run({ mode: 'imageEmbedding' }, { payload: await redImage() });
    assert.equal(single.payload.length, 512);
    assert.deepEqual(single.clip.embeddings[0], single.payload);
    await helper.unload();
    const batch = await run({ mode: 'imageEmbedding' }, { payload: [await redImage(), await blueImage()] });
    assert.equal(batch.payload.length, 2);
    assert.equal(batch.payload[1].length, 512);
    assert.ok(simulator().requests('/clip/embed_image').length >= 2);
  });

  it('gives text embeddings in one request', async () => {
    const msg = await run({ mode: 'textEmbedding', clipVersion: 'RN50' }, { payload: ['a red box', 'a blue box'] });
    assert.equal(msg.payload.length, 2);
    assert.equal(msg.payload[0].length, 512);
    const requests = simulator().requests('/clip/embed_text');
    assert.equal(requests.length, 1);
    assert.deepEqual(requests[0].body, { api_key: API_KEY, text: ['a red box', 'a blue box'], clip_version_id: 'RN50' });
  });

  it('applies the flow control chosen in the node: drop new messages while busy', async () => {
    await helper.load(NODES(), flow(simulator().url, { maxInFlight: 1, overflow: 'drop' }), CREDENTIALS);
    const out = collect('out');
    const completed = collect('completed');
    const caught = collect('caught');
    const image = await redImage();
    // Received back to back, the second and third arrive while the first is in flight.
    for (const id of ['a', 'b', 'c']) helper.getNode('clip1').receive({ payload: image, _msgid: id });
    await completed.atLeast(3);
    assert.deepEqual(out.messages.map((msg) => msg._msgid), ['a']);
    assert.equal(simulator().requests('/clip/compare').length, 1);
    assert.equal(caught.messages.length, 0);
  });

  it('sends missing prompts and server errors to Catch', async () => {
    await helper.load(NODES(), flow(simulator().url, { prompts: '' }), CREDENTIALS);
    const caught = collect('caught');
    helper.getNode('clip1').receive({ payload: await redImage() });
    await caught.atLeast(1);
    assert.match(caught.messages[0].error.message, /No prompts/);
    assert.equal(simulator().requests('/clip/compare').length, 0);

    await helper.unload();
    await helper.load(NODES(), flow(simulator().url), CREDENTIALS);
    const caughtAgain = collect('caught');
    simulator().inject({ route: '/clip/compare', status: 503, body: { message: 'Model temporarily not ready.' }, count: Infinity });
    helper.getNode('clip1').receive({ payload: await redImage(), _msgid: 'm7' });
    await caughtAgain.atLeast(1);
    assert.equal(caughtAgain.messages[0]._msgid, 'm7');
    assert.match(caughtAgain.messages[0].error.message, /HTTP 503/);
  });
});

describe('examples/clip-compare.json', function () {
  const simulator = useNodeRedWithSimulator({ scope: 'suite' });

  it('finds the red box and routes it through the switch', async () => {
    const example = exampleFlow('clip-compare', simulator().url);
    await helper.load([...NODES(), ...coreNodes], example);
    const red = collect(debugNamed(example, 'it is red'));
    helper.getNode(nodeOfType(example, 'inject')).receive({});
    const [msg] = await red.atLeast(1);
    assert.equal(msg.payload.best.label, 'a red box');
  });
});

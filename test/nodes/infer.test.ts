import assert from 'node:assert/strict';
import sharp from 'sharp';
import { makeImage, standardImage } from '../fixtures/images';
import { startSimulator, type Simulator } from '../simulator';
import {
  activeResources,
  API_KEY,
  collect,
  eventually,
  flowOnTab,
  helper,
  inferNode,
  nodeModules,
  SERVER_ID,
  serverNode,
  useNodeRedWithSimulator,
  type FlowNode,
} from './helpers';

const NODES = () => nodeModules('roboflow-server', 'roboflow-infer');
// A fresh object each time: the runtime keeps and mutates the credentials object it is given.
const credentials = () => ({ [SERVER_ID]: { apiKey: API_KEY } });

function flow(simulatorUrl: string, infer: Record<string, unknown> = {}, server: Record<string, unknown> = {}): FlowNode[] {
  return flowOnTab([serverNode(simulatorUrl, server), inferNode(infer), { id: 'out', type: 'helper' }], ['infer1']);
}

const inferRequests = (simulator: Simulator) => simulator.requests('/infer/');

describe('roboflow-infer', function () {
  const simulator = useNodeRedWithSimulator();

  it('outputs the predictions, annotations, counts and timings, and passes the message through', async () => {
    await helper.load(NODES(), flow(simulator().url, { originalImageProperty: 'original' }), credentials());
    const out = collect('out');
    const image = await standardImage();
    helper.getNode('infer1').receive({ payload: image, topic: 'camera-1', keep: { me: true } });
    const [msg] = await out.atLeast(1);

    assert.equal(msg.topic, 'camera-1');
    assert.deepEqual(msg.keep, { me: true });
    assert.equal(msg.original, image);
    const predictions = msg.payload.predictions as Array<Record<string, any>>;
    assert.deepEqual(predictions.map((p) => p.class).sort(), ['blue', 'red']);
    const red = predictions.find((p) => p.class === 'red')!;
    assert.ok(Math.abs(red.x - 200) <= 2 && Math.abs(red.y - 155) <= 2, `red box centre ${red.x},${red.y}`);
    assert.deepEqual(msg.counts, { red: 1, blue: 1 });
    assert.equal(msg.annotations.length, 2);
    const redAnnotation = msg.annotations.find((a: Record<string, any>) => a.label.startsWith('red'));
    assert.equal(redAnnotation.type, 'rect');
    assert.ok(Math.abs(redAnnotation.bbox[0] - 100) <= 2 && Math.abs(redAnnotation.bbox[2] - 200) <= 2, String(redAnnotation.bbox));
    assert.equal(msg.inference.modelId, 'shapes/1');
    assert.equal(msg.inference.inferenceId, msg.payload.inference_id);
    assert.equal(typeof msg.inference.timeMs, 'number');
    assert.equal(typeof msg.inference.serverTimeMs, 'number');
    assert.equal(msg.inference.dropped, 0);
  });

  it('infers a batch given as an array, with one annotation list per image', async () => {
    await helper.load(NODES(), flow(simulator().url, { annotatedImageProperty: 'annotated' }), credentials());
    const out = collect('out');
    const second = await makeImage({ boxes: [{ colour: 'green', left: 10, top: 10, width: 50, height: 50 }] });
    helper.getNode('infer1').receive({ payload: [await standardImage(), second.toString('base64')] });
    const [msg] = await out.atLeast(1);
    assert.equal(msg.payload.length, 2);
    assert.deepEqual(msg.annotations.map((list: unknown[]) => list.length), [2, 1]);
    assert.deepEqual(msg.counts, { red: 1, blue: 1, green: 1 });
    assert.equal(msg.annotated.length, 2);
    assert.ok(msg.annotated.every((jpeg: Buffer) => Buffer.isBuffer(jpeg)));
  });

  it("passes a stub model's placeholder answer through as a result, not an error", async () => {
    await helper.load(NODES(), flow(simulator().url, { model: 'shapes/0' }), credentials());
    const out = collect('out');
    helper.getNode('infer1').receive({ payload: await standardImage() });
    const [msg] = await out.atLeast(1);
    assert.equal(msg.payload.is_stub, true);
    assert.deepEqual(msg.counts, {});
    assert.deepEqual(msg.annotations, []);
  });

  it('draws an annotated JPEG of the input size with pixels changed inside the predicted boxes', async () => {
    await helper.load(NODES(), flow(simulator().url, { annotatedImageProperty: 'annotated' }), credentials());
    const out = collect('out');
    const image = await makeImage({ width: 500, height: 400, boxes: [{ colour: 'red', left: 100, top: 100, width: 200, height: 150 }] });
    helper.getNode('infer1').receive({ payload: image });
    const [msg] = await out.atLeast(1);

    const annotated = msg.annotated as Buffer;
    const metadata = await sharp(annotated).metadata();
    assert.equal(metadata.format, 'jpeg');
    assert.deepEqual([metadata.width, metadata.height], [500, 400]);
    const [before, after] = await Promise.all([image, annotated].map((jpeg) => sharp(jpeg).raw().toBuffer({ resolveWithObject: true })));
    const changeIn = (left: number, top: number, width: number, height: number) => {
      let total = 0;
      for (let y = top; y < top + height; y++) {
        for (let x = left; x < left + width; x++) {
          const offset = (y * before.info.width + x) * before.info.channels;
          for (let channel = 0; channel < 3; channel++) total += Math.abs(before.data[offset + channel] - after.data[offset + channel]);
        }
      }
      return total / (width * height);
    };
    const box = msg.annotations[0].bbox as number[];
    // The box outline runs along the box's edges: its top band changes a lot; a far corner barely (JPEG noise).
    assert.ok(changeIn(box[0], box[1], box[2], 4) > 30, `top edge change ${changeIn(box[0], box[1], box[2], 4)}`);
    assert.ok(changeIn(420, 320, 60, 60) < 5, `background change ${changeIn(420, 320, 60, 60)}`);
  });

  it('keeps the API key out of the flow and sends it only to the server', async () => {
    const nodes = flow(simulator().url);
    await helper.load(NODES(), nodes, credentials());
    const out = collect('out');
    helper.getNode('infer1').receive({ payload: await standardImage() });
    await out.atLeast(1);
    assert.ok(!JSON.stringify(nodes).includes(API_KEY));
    assert.ok(!JSON.stringify(out.messages).includes(API_KEY));
    const [request] = inferRequests(simulator());
    assert.equal((request.body as Record<string, unknown>).api_key, API_KEY);
  });

  describe('failures reach Catch nodes with the original message', function () {
    async function failureOf(message: Record<string, unknown>, infer: Record<string, unknown> = {}, server: Record<string, unknown> = {}, url = simulator().url) {
      await helper.load(NODES(), flow(url, infer, server), credentials());
      const caught = collect('caught');
      const statuses = collect('statuses');
      const out = collect('out');
      helper.getNode('infer1').receive({ topic: 'failing', ...message });
      const [msg] = await caught.atLeast(1);
      await eventually(() => statuses.messages.some((status) => status.status.fill === 'red'));
      assert.equal(out.messages.length, 0);
      assert.equal(msg.topic, 'failing');
      assert.equal(msg.error.source.id, 'infer1');
      assert.ok(!JSON.stringify(msg.error).includes(API_KEY), 'the key is masked');
      const red = statuses.messages.find((status) => status.status.fill === 'red')!;
      assert.ok(!red.status.text.includes(API_KEY));
      return msg.error.message as string;
    }

    it('a payload that is not an image', async () => {
      assert.match(await failureOf({ payload: 'definitely not an image' }), /image|base64|decode|input/i);
    });

    it('a missing image', async () => {
      assert.match(await failureOf({}), /No image/);
    });

    it('an unknown model', async () => {
      assert.match(await failureOf({ payload: await standardImage() }, { model: 'no-such-model/9' }), /404|not found/i);
    });

    it('a server that is down', async () => {
      const stopped = await startSimulator();
      const url = stopped.url;
      await stopped.stop();
      assert.match(await failureOf({ payload: await standardImage() }, {}, {}, url), /ECONNREFUSED|connect|refused/i);
    });

    it('a server that does not answer in time', async () => {
      simulator().inject({ route: '/infer/*', latencyMs: 3000, count: Infinity });
      assert.match(await failureOf({ payload: await standardImage() }, {}, { requestTimeoutMs: '300' }), /tim(e|ed) ?out/i);
    });

    it('also on the second output when enabled, with msg.error', async () => {
      await helper.load(
        NODES(),
        flowOnTab(
          [serverNode(simulator().url), inferNode({ errorOutput: true, wires: [['out'], ['failed']] }), { id: 'out', type: 'helper' }, { id: 'failed', type: 'helper' }],
          ['infer1'],
        ),
        credentials(),
      );
      const failed = collect('failed');
      const caught = collect('caught');
      helper.getNode('infer1').receive({ payload: 'not an image', topic: 't' });
      const [msg] = await failed.atLeast(1);
      await caught.atLeast(1);
      assert.equal(msg.topic, 't');
      assert.equal(typeof msg.error.message, 'string');
    });
  });

  it('shows busy, then the result, in its status', async () => {
    await helper.load(NODES(), flow(simulator().url), credentials());
    const statuses = collect('statuses');
    const out = collect('out');
    helper.getNode('infer1').receive({ payload: await standardImage() });
    await out.atLeast(1);
    await eventually(() => statuses.messages.some((status) => status.status.fill === 'green'));
    const [busy] = statuses.messages;
    assert.equal(busy.status.fill, 'yellow');
    const done = statuses.messages.at(-1)!;
    assert.match(done.status.text, /^2 objects · \d+ ms$/);
  });

  describe('flow control with a slow server', function () {
    async function sendFive(infer: Record<string, unknown>) {
      simulator().setLatency(300);
      await helper.load(NODES(), flow(simulator().url, infer), credentials());
      const out = collect('out');
      const completed = collect('completed');
      const caught = collect('caught');
      const image = await standardImage();
      const node = helper.getNode('infer1');
      for (let index = 1; index <= 5; index++) node.receive({ payload: image, index });
      await completed.atLeast(5);
      assert.equal(caught.messages.length, 0, 'dropping is not an error');
      return { out: out.messages, completed: completed.messages };
    }

    it('drop: discards messages arriving while busy', async () => {
      const { out } = await sendFive({ overflow: 'drop' });
      assert.deepEqual(out.map((msg) => msg.index), [1]);
      assert.equal(inferRequests(simulator()).length, 1);
    });

    it('latest: keeps only the newest waiting message', async () => {
      const { out } = await sendFive({ overflow: 'latest' });
      assert.deepEqual(out.map((msg) => msg.index), [1, 5]);
      assert.equal(out[1].inference.dropped, 3);
      assert.equal(inferRequests(simulator()).length, 2);
    });

    it('queue: keeps order up to the queue size and drops the rest', async () => {
      const { out } = await sendFive({ overflow: 'queue', queueSize: 2 });
      assert.deepEqual(out.map((msg) => msg.index), [1, 2, 3]);
      assert.equal(out[2].inference.dropped, 2);
      assert.equal(inferRequests(simulator()).length, 3);
    });

    it('counts dropped messages in its status', async () => {
      simulator().setLatency(300);
      await helper.load(NODES(), flow(simulator().url, { overflow: 'drop' }), credentials());
      const statuses = collect('statuses');
      const completed = collect('completed');
      const image = await standardImage();
      for (let index = 0; index < 3; index++) helper.getNode('infer1').receive({ payload: image });
      await completed.atLeast(3);
      await eventually(() => statuses.messages.some((status) => /2 dropped/.test(status.status.text)));
      // The result keeps the count, so it stays visible after the burst.
      await eventually(() => /^2 objects · \d+ ms · 2 dropped$/.test(statuses.messages.at(-1)?.status.text));
    });

    it('runs up to the in-flight limit in parallel', async () => {
      const { out } = await sendFive({ overflow: 'drop', maxInFlight: 3 });
      assert.deepEqual(out.map((msg) => msg.index).sort(), [1, 2, 3]);
    });
  });

  describe('per-message overrides', function () {
    it('honours inference parameters from the message', async () => {
      await helper.load(NODES(), flow(simulator().url, { iouThreshold: '0.45' }), credentials());
      const out = collect('out');
      helper.getNode('infer1').receive({
        payload: await standardImage(),
        confidence: 0.77,
        classFilter: ['red'],
        inferenceConfiguration: { maxDetections: 7 },
      });
      const [msg] = await out.atLeast(1);
      const body = inferRequests(simulator())[0].body as Record<string, unknown>;
      assert.equal(body.confidence, 0.77);
      assert.equal(body.max_detections, 7);
      assert.equal(body.iou_threshold, 0.45, 'the node override still applies');
      assert.deepEqual(body.class_filter, ['red']);
      assert.deepEqual(msg.counts, { red: 1 });
    });

    it('never lets a message change the server, the key or headers', async () => {
      await helper.load(NODES(), flow(simulator().url), credentials());
      const out = collect('out');
      helper.getNode('infer1').receive({
        payload: await standardImage(),
        url: 'http://127.0.0.1:1/elsewhere',
        apiUrl: 'http://127.0.0.1:1',
        apiKey: 'message-key',
        api_key: 'message-key',
        headers: { authorization: 'Bearer message-key' },
      });
      await out.atLeast(1);
      const [request] = inferRequests(simulator());
      assert.equal((request.body as Record<string, unknown>).api_key, API_KEY);
      assert.ok(!JSON.stringify(request).includes('message-key'));
    });

    it('refuses msg.inferenceConfiguration keys that are not inference parameters', async () => {
      await helper.load(NODES(), flow(simulator().url), credentials());
      const caught = collect('caught');
      for (const refused of [{ apiKeyTransport: 'header' }, { apiUrl: 'http://127.0.0.1:1' }, { requestTimeoutMs: 1 }]) {
        helper.getNode('infer1').receive({ payload: await standardImage(), inferenceConfiguration: refused });
      }
      const errors = await caught.atLeast(3);
      assert.ok(errors.every((msg) => /cannot set/.test(msg.error.message)));
      assert.equal(inferRequests(simulator()).length, 0);
    });
  });

  it('aborts in-flight requests and leaves no sockets or timers behind on redeploy', async () => {
    await helper.load(NODES(), flow(simulator().url), credentials());
    const idle = activeResources();
    const out = collect('out');
    const caught = collect('caught');
    const image = await standardImage();
    helper.getNode('infer1').receive({ payload: image });
    await out.atLeast(1);
    simulator().setLatency(1500);
    helper.getNode('infer1').receive({ payload: image });
    await eventually(() => inferRequests(simulator()).length === 2);
    assert.ok(activeResources().TCPSocketWrap > idle.TCPSocketWrap, 'a request is in flight');

    await helper.setFlows([], 'full');
    await eventually(() => activeResources().TCPSocketWrap <= idle.TCPSocketWrap);
    assert.equal(inferRequests(simulator())[1].respondedAt, undefined, 'the connection closed before the server answered');
    // The simulator's own latency timer ends later; then nothing of ours may be left.
    await eventually(() => activeResources().Timeout <= idle.Timeout);
    assert.equal(caught.messages.length, 0, 'an aborted request is not an error');
  });
});

// The fault matrix, message side: inputs a flow may hand the nodes by mistake. Each reaches Catch
// with the original message and a clear error, and the node serves the next good message.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { makeImage, standardImage } from '../fixtures/images';
import { helper } from '../nodes/helpers';
import {
  assertRecovers,
  assertRuntimeAlive,
  caughtError,
  loadInferFlow,
  outcomeOf,
  loadWorkflowFlow,
  VALID_SPECIFICATION,
  watchProcess,
  useNodeRedGuardingSecrets,
  type InferFlow,
} from './harness';

const FIFTY_MEGAPIXELS = { width: 10_000, height: 5_000 };
/** Decoding 50 MP would take 150 MB of pixels; refusing from the header must cost far less. */
const MAX_RSS_GROWTH_BYTES = 60 * 1024 * 1024;

describe('reliability: bad inputs reach Catch and the node carries on', function () {
  this.timeout(60_000);
  const recorded = watchProcess();
  const simulator = useNodeRedGuardingSecrets(recorded);
  let folder: string;
  let image: Buffer;

  before(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'roboflow-inputs-'));
    image = await standardImage();
    writeFileSync(path.join(folder, 'empty.jpg'), Buffer.alloc(0));
    writeFileSync(path.join(folder, 'notes.txt'), 'This is a text file, not an image.\n');
  });
  after(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  /** One bad message to a fresh infer node: its error as Catch saw it, after checking recovery. */
  async function failureOf(payload: unknown, options: Parameters<typeof loadInferFlow>[1] = {}): Promise<{ message: string; flow: InferFlow }> {
    const flow = await loadInferFlow(simulator().url, options);
    const message = await caughtError(flow, { payload, topic: 'bad input', sensor: 'door' });
    await assertRecovers(flow, image);
    await assertRuntimeAlive(simulator().url);
    return { message, flow };
  }

  it('an empty Buffer', async () => {
    const { message } = await failureOf(Buffer.alloc(0));
    assert.equal(message, 'InvalidInputFormatError: Empty buffer submitted as an image.');
    assert.equal(simulator().requests('/infer/').length, 1, 'only the recovery reached the server');
  });

  it('a zero-byte file', async () => {
    const file = path.join(folder, 'empty.jpg');
    const { message } = await failureOf(file);
    assert.equal(message, `InvalidInputFormatError: Image file '${file}' is empty (0 bytes).`);
  });

  it('a missing file', async () => {
    const file = path.join(folder, 'missing.jpg');
    const { message } = await failureOf(file);
    assert.equal(message, `InvalidInputFormatError: Image input is neither an existing file, an http(s) URL nor base64: ${file}`);
  });

  it('a text file', async () => {
    const { message } = await failureOf(path.join(folder, 'notes.txt'));
    assert.match(message, /^HTTPCallErrorError: HTTP 400: Could not load input image\./);
  });

  it('a text file, with client-side downsizing on', async () => {
    const file = path.join(folder, 'notes.txt');
    const { message } = await failureOf(file, { server: { clientDownsizingDisabled: 'false' } });
    assert.match(message, new RegExp(`^EncodingError: Could not decode image from ${escape(file)}: `));
  });

  it('a corrupt JPEG', async () => {
    const corrupt = Buffer.concat([image.subarray(0, 600), Buffer.alloc(400, 0x55)]);
    const { message } = await failureOf(corrupt);
    assert.match(message, /^HTTPCallErrorError: HTTP 400: Could not load input image\. Cause: /);
  });

  it('a 50-megapixel image: refused from its header, without decoding it', async () => {
    const huge = await sharp({ create: { ...FIFTY_MEGAPIXELS, channels: 3, background: { r: 90, g: 90, b: 90 } } }).jpeg().toBuffer();
    const flow = await loadInferFlow(simulator().url, { server: { clientDownsizingDisabled: 'false' } });
    const rssBefore = process.memoryUsage().rss;
    const message = await caughtError(flow, { payload: huge, topic: 'huge image' });
    const growth = process.memoryUsage().rss - rssBefore;
    assert.equal(message, 'EncodingError: Image from buffer is 10000x5000 (50 megapixels); the limit is 40 megapixels.');
    assert.ok(growth < MAX_RSS_GROWTH_BYTES, `RSS grew by ${Math.round(growth / 1e6)} MB`);
    assert.equal(simulator().requests('/infer/').length, 0);
    await assertRecovers(flow, image);
  });

  it('a 50-megapixel image to draw on: refused from its header, without decoding it', async () => {
    const huge = await sharp({ create: { ...FIFTY_MEGAPIXELS, channels: 3, background: { r: 90, g: 90, b: 90 } } }).jpeg().toBuffer();
    const flow = await loadInferFlow(simulator().url, { infer: { annotatedImageProperty: 'annotated' } });
    await assertRecovers(flow, image);
    // The server's answer is canned: only the node's own handling of the image is measured.
    simulator().inject({ route: '/infer/*', status: 200, body: { predictions: [], image: FIFTY_MEGAPIXELS } });
    const rssBefore = process.memoryUsage().rss;
    const message = await caughtError(flow, { payload: huge, topic: 'huge image' });
    const growth = process.memoryUsage().rss - rssBefore;
    assert.equal(message, 'EncodingError: Cannot draw on a 10000x5000 image (50 megapixels); the limit is 40 megapixels.');
    assert.ok(growth < MAX_RSS_GROWTH_BYTES, `RSS grew by ${Math.round(growth / 1e6)} MB`);
    await assertRecovers(flow, image);
  });

  it('a 10,000-element batch with one bad element: refused before any request', async () => {
    const batch: unknown[] = Array.from({ length: 10_000 }, () => image);
    batch[9_999] = 42;
    const { message } = await failureOf(batch);
    assert.equal(message, 'InvalidInputFormatError: Unknown type of input (number) submitted.');
    assert.equal(simulator().requests('/infer/').length, 1, 'only the recovery reached the server');
  });

  it('a 10,000-element batch: answered in order, in batches of maxBatchSize', async () => {
    const tiny = await makeImage({ width: 16, height: 16, boxes: [{ colour: 'red', left: 4, top: 4, width: 8, height: 8 }] });
    const flow = await loadInferFlow(simulator().url, { infer: { maxBatchSize: '500', maxConcurrentRequests: '2' }, server: { requestTimeoutMs: '30000' } });
    helper.getNode('infer1').receive({ payload: Array.from({ length: 10_000 }, () => tiny), topic: 'big batch' });
    const [output] = await flow.out.atLeast(1);
    assert.equal(output.payload.length, 10_000);
    assert.ok(output.payload.every((result: { predictions: Array<{ class: string }> }) => result.predictions[0]?.class === 'red'));
    assert.deepEqual(output.counts, { red: 10_000 });
    assert.equal(simulator().requests('/infer/').length, 20);
    assert.equal(flow.caught.messages.length, 0);
  });

  it('undefined as msg.payload', async () => {
    const { message } = await failureOf(undefined);
    assert.equal(message, 'Error: No image in the chosen property');
  });

  it('a number as msg.payload', async () => {
    const { message } = await failureOf(12345);
    assert.equal(message, 'InvalidInputFormatError: Unknown type of input (number) submitted.');
  });

  it('an unknown model', async () => {
    const flow = await loadInferFlow(simulator().url, { infer: { model: 'model', modelType: 'msg' } });
    const message = await caughtError(flow, { payload: image, model: 'no-such-model/9' });
    assert.match(message, /^HTTPCallErrorError: HTTP 404: Requested Roboflow resource not found\..* for url: http:\/\/127\.0\.0\.1:\d+\/model\/add\)$/);
    const { output } = await outcomeOf(flow, { payload: image, model: 'shapes/1' });
    assert.ok(Array.isArray(output?.payload?.predictions), 'a known model still works');
    await assertRuntimeAlive(simulator().url);
  });

  it('a v0 call without an API key', async () => {
    const flow = await loadInferFlow(simulator().url, { server: { apiMode: 'v0' }, credentials: {} });
    for (const topic of ['first', 'second']) {
      assert.equal(await caughtError(flow, { payload: image, topic }), 'APIKeyNotProvided: API key must be provided in this case');
    }
    assert.equal(simulator().log.length, 0, 'nothing was sent');
    await assertRuntimeAlive(simulator().url);
  });

  it('a malformed workflow specification', async () => {
    const { caught, out } = await loadWorkflowFlow(simulator().url);
    const malformed = { version: '1.0', inputs: 'image', steps: {}, outputs: null };
    helper.getNode('workflow1').receive({ payload: image, specification: malformed, topic: 'wf' });
    const [failure] = await caught.atLeast(1);
    assert.equal(failure.topic, 'wf');
    assert.deepEqual(failure.specification, malformed);
    assert.match(failure.error.message, /^HTTPCallErrorError: HTTP 400: Could not parse workflow definition\. Details provided in inner error\.+ More details: Workflow specification requires/);

    helper.getNode('workflow1').receive({ payload: image, specification: VALID_SPECIFICATION, topic: 'wf ok' });
    const [result] = await out.atLeast(1);
    assert.equal(result.topic, 'wf ok');
    assert.equal(caught.messages.length, 1);
    await assertRuntimeAlive(simulator().url);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { InferenceHTTPClient } from '../../src/core/client';
import { InferenceConfiguration } from '../../src/core/configuration';
import { HTTPClientError, ModelTaskTypeNotSupportedError } from '../../src/core/errors';
import type { StreamInference } from '../../src/core/streams';
import { makeImage } from '../fixtures/images';
import { ffmpegChildren, makeTempDir, makeTestVideo } from '../fixtures/videos';
import { startSimulator, type Simulator } from '../simulator';

/** One second at 10 fps of a grey frame with the fixtures' red box at 40,30 (100x80) and blue box at 200,120 (60x60). */
const BOXES_GRAPH =
  'lavfi:color=c=0x808080:size=320x240:rate=10:duration=1,' +
  'drawbox=x=40:y=30:w=100:h=80:color=0xE61414:t=fill,drawbox=x=200:y=120:w=60:h=60:color=0x1414E6:t=fill';

interface Box {
  class: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

function assertNear(actual: number, expected: number, label: string): void {
  assert.ok(Math.abs(actual - expected) <= 4, `${label}: ${actual} is not near ${expected}`);
}

describe('inferOnStream', () => {
  let simulator: Simulator;
  let client: InferenceHTTPClient;
  let folder: string;

  before(async () => {
    simulator = await startSimulator();
    folder = makeTempDir();
  });

  after(async () => {
    await simulator.stop();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  beforeEach(() => {
    simulator.clearLog();
    client = new InferenceHTTPClient(simulator.url, 'stream-test-key');
  });

  afterEach(async () => {
    await client.close();
    assert.deepEqual(ffmpegChildren(), { running: [], zombies: [] });
  });

  async function collect(...args: Parameters<InferenceHTTPClient['inferOnStream']>): Promise<StreamInference[]> {
    const results: StreamInference[] = [];
    for await (const result of client.inferOnStream(...args)) results.push(result);
    return results;
  }

  it('infers each video frame with one request, indexed from 0, after a single registry query', async () => {
    const results = await collect(BOXES_GRAPH, 'shapes/1');
    assert.deepEqual(results.map((result) => result.reference), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(simulator.requests('/infer/object_detection').length, 10);
    assert.equal(simulator.requests('/model/registry').length, 1);
    assert.ok(simulator.requests('/model/add').length <= 1);

    const sent = simulator.requests('/infer/object_detection').map((request) => (request.body as { image: { value: string } }).image.value);
    assert.deepEqual(sent, results.map((result) => result.frame.toString('base64')));
    for (const { prediction } of results) {
      const boxes = (prediction as { predictions: Box[] }).predictions;
      assert.deepEqual(boxes.map((box) => box.class).sort(), ['blue', 'red']);
      const red = boxes.find((box) => box.class === 'red')!;
      assertNear(red.x, 90, 'red x');
      assertNear(red.y, 70, 'red y');
      assertNear(red.width, 100, 'red width');
      assertNear(red.height, 80, 'red height');
    }
  });

  it('sends only the frames under maxFps: 5 s at 30 fps with maxFps 5 makes 25 ± 1 requests', async () => {
    const video = await makeTestVideo(path.join(folder, 'clip.mp4'), { seconds: 5, fps: 30 });
    const results = await collect(video, 'shapes/1', { maxFps: 5 });
    assert.ok(Math.abs(results.length - 25) <= 1, `${results.length} frames`);
    assert.equal(simulator.requests('/infer/object_detection').length, results.length);
    assert.equal(simulator.requests('/model/registry').length, 1);
  });

  it('infers a folder in name order with the file paths as references, using the configured extensions', async () => {
    const images = path.join(folder, 'Shots');
    fs.mkdirSync(images);
    await fs.promises.writeFile(path.join(images, 'B.jpg'), await makeImage({ boxes: [{ colour: 'blue', left: 10, top: 10, width: 50, height: 50 }] }));
    await fs.promises.writeFile(path.join(images, 'a.jpg'), await makeImage({ boxes: [{ colour: 'red', left: 10, top: 10, width: 50, height: 50 }] }));
    await fs.promises.writeFile(path.join(images, 'c.png'), await makeImage({ format: 'png' }));
    client.configure(new InferenceConfiguration({ imageExtensionsForDirectoryScan: ['jpg'] }));
    const results = await collect(images, 'shapes/1');
    assert.deepEqual(results.map((result) => result.reference), [path.join(images, 'a.jpg'), path.join(images, 'B.jpg')]);
    assert.deepEqual(results.map((result) => (result.prediction as { predictions: Box[] }).predictions.map((box) => box.class)), [['red'], ['blue']]);
    assert.deepEqual(results[0].frame, fs.readFileSync(path.join(images, 'a.jpg')));
  });

  it('uses the selected model when none is given', async () => {
    client.selectModel('shapes/1');
    const results = await collect('lavfi:testsrc=duration=0.2:size=64x48:rate=10');
    assert.equal(results.length, 2);
    assert.equal(simulator.requests('/infer/object_detection').length, 2);
  });

  it('stops ffmpeg and sends nothing more when the loop is left', async () => {
    let seen = 0;
    for await (const result of client.inferOnStream('lavfi:testsrc=size=64x48:rate=30', 'shapes/1')) {
      seen += 1;
      if (result.reference === 2) break;
    }
    assert.equal(seen, 3);
    assert.deepEqual(ffmpegChildren(), { running: [], zombies: [] });
    assert.equal(simulator.requests('/infer/object_detection').length, 3);
  });

  it('stops on abort', async () => {
    const controller = new AbortController();
    await assert.rejects(
      (async () => {
        for await (const result of client.inferOnStream('lavfi:testsrc=size=64x48:rate=30', 'shapes/1', { signal: controller.signal })) {
          if (result.reference === 1) controller.abort();
        }
      })(),
    );
  });

  it('runs the example flow\'s test pattern: the model sees its red and blue boxes', async () => {
    const flow = JSON.parse(fs.readFileSync(path.join(__dirname, '../../examples/stream-test-pattern.json'), 'utf8')) as Array<Record<string, unknown>>;
    const node = flow.find((entry) => entry.type === 'roboflow-stream-source')!;
    const results: StreamInference[] = [];
    for await (const result of client.inferOnStream({ kind: 'lavfi', location: node.source as string }, 'shapes/1', { maxFps: 5 })) {
      results.push(result);
      if (results.length === 2) break;
    }
    for (const { prediction } of results) {
      assert.deepEqual((prediction as { predictions: Box[] }).predictions.map((box) => box.class).sort(), ['blue', 'red']);
    }
  });

  it('raises the client\'s errors, e.g. for a task type v1 cannot infer', async () => {
    await assert.rejects(collect(BOXES_GRAPH, 'shapes-sem/1'), ModelTaskTypeNotSupportedError);
    assert.equal(simulator.requests('/infer/').length, 0);
  });

  it('reports server failures as HTTPClientError without the API key', async () => {
    simulator.inject({ route: '/infer/object_detection', status: 500, body: { message: 'boom' }, count: Infinity });
    try {
      await assert.rejects(collect(BOXES_GRAPH, 'shapes/1'), (error: Error) => {
        assert.ok(error instanceof HTTPClientError);
        assert.doesNotMatch(`${error.message} ${error.stack}`, /stream-test-key/);
        return true;
      });
    } finally {
      simulator.clearFaults();
    }
  });
});

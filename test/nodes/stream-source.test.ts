import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import { makeImage } from '../fixtures/images';
import { ffmpegChildren, makeTempDir, makeTestVideo, startMjpegServer, type MjpegServer } from '../fixtures/videos';

const { default: streamSourceNode, reconnectDelayMs } = require('../../dist/nodes/roboflow-stream-source.js');

helper.init(require.resolve('node-red'));

/** helper.settings() exists (0.3.x) but the package's local typings leave it out. */
function runtimeSettings(settings: Record<string, unknown>): void {
  (helper as unknown as { settings(userSettings: Record<string, unknown>): void }).settings(settings);
}

interface Message {
  payload?: unknown;
  topic?: string;
  frame?: { id: number; timestamp: number; source: string; width: number; height: number };
  complete?: boolean;
  frames?: number;
  error?: { message: string; source: { id: string } };
  status?: { text?: string; fill?: string };
}


/** The node under test wired to a helper, plus Catch and Status nodes on the same tab. */
function flowWith(properties: Record<string, unknown>) {
  return [
    { id: 'tab', type: 'tab', label: 'stream' },
    { id: 'streamNode', z: 'tab', type: 'roboflow-stream-source', name: '', startOnDeploy: false, maxFps: '', realtime: false, stallTimeout: '10', wires: [['framesOut']], ...properties },
    { id: 'framesOut', z: 'tab', type: 'helper' },
    { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caughtOut']] },
    { id: 'caughtOut', z: 'tab', type: 'helper' },
    { id: 'watcher', z: 'tab', type: 'status', scope: null, wires: [['statusOut']] },
    { id: 'statusOut', z: 'tab', type: 'helper' },
  ];
}

interface Recorder {
  frames: Message[];
  errors: Message[];
  statuses: string[];
  /** Resolves once `predicate` holds over what has been recorded. */
  until(predicate: () => boolean): Promise<void>;
}

function record(): Recorder {
  const recorder: Recorder = {
    frames: [],
    errors: [],
    statuses: [],
    until(predicate) {
      return new Promise((resolve) => {
        const check = () => (predicate() ? resolve() : setTimeout(check, 10));
        check();
      });
    },
  };
  helper.getNode('framesOut').on('input', (msg: Message) => recorder.frames.push(msg));
  helper.getNode('caughtOut').on('input', (msg: Message) => recorder.errors.push(msg));
  helper.getNode('statusOut').on('input', (msg: Message) => recorder.statuses.push(msg.status?.text ?? ''));
  return recorder;
}

async function load(properties: Record<string, unknown>, credentials?: Record<string, string>): Promise<Recorder> {
  await helper.load(streamSourceNode, flowWith(properties), credentials ? { streamNode: credentials } : undefined);
  return record();
}

function source() {
  return helper.getNode('streamNode');
}

describe('roboflow-stream-source node', function () {
  this.timeout(30_000);
  let folder: string;
  let video: string;
  let jpeg: Buffer;

  before(async () => {
    folder = makeTempDir();
    video = await makeTestVideo(path.join(folder, 'clip.mp4'), { seconds: 5, fps: 30 });
    jpeg = await makeImage({ width: 160, height: 120, boxes: [{ colour: 'red', left: 10, top: 10, width: 40, height: 40 }] });
  });

  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  beforeEach(async () => {
    await helper.startServer();
  });

  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    assert.deepEqual(ffmpegChildren(), { running: [], zombies: [] });
  });

  it('sends every frame of a file as a JPEG with its metadata, then a complete message', async () => {
    const recorder = await load({ name: 'clip', source: video, startOnDeploy: true, maxFps: '5' });
    await recorder.until(() => recorder.frames.some((msg) => msg.complete));
    const frames = recorder.frames.filter((msg) => !msg.complete);
    assert.ok(Math.abs(frames.length - 25) <= 1, `${frames.length} frames`);
    assert.deepEqual(frames.map((msg) => msg.frame?.id), frames.map((_msg, index) => index));
    const [first] = frames;
    assert.ok(Buffer.isBuffer(first.payload));
    assert.equal((first.payload as Buffer).subarray(0, 2).toString('hex'), 'ffd8');
    assert.equal(first.topic, 'clip');
    assert.deepEqual([first.frame?.source, first.frame?.width, first.frame?.height], [video, 320, 240]);
    assert.equal(typeof first.frame?.timestamp, 'number');
    const last = recorder.frames.at(-1)!;
    assert.deepEqual([last.complete, last.frames, last.topic, last.payload], [true, frames.length, 'clip', undefined]);
    await recorder.until(() => recorder.statuses.includes('roboflow-stream-source.status.complete'));
  });

  it('loops a file when asked', async () => {
    const recorder = await load({ source: 'lavfi:testsrc=duration=0.3:size=64x48:rate=10', sourceType: 'auto', loop: true, startOnDeploy: true });
    await recorder.until(() => recorder.frames.length >= 7);
    assert.ok(recorder.frames.every((msg) => !msg.complete));
    assert.deepEqual(recorder.frames.slice(0, 7).map((msg) => msg.frame?.id), [0, 1, 2, 0, 1, 2, 0]);
  });

  it('starts, stops and restarts on msg.action, leaving no ffmpeg behind', async () => {
    const recorder = await load({ source: 'testsrc=size=64x48:rate=25', sourceType: 'lavfi', realtime: true });
    assert.equal(ffmpegChildren().running.length, 0);
    source().receive({ action: 'start' });
    await recorder.until(() => recorder.frames.length >= 3);
    assert.equal(ffmpegChildren().running.length, 1);
    source().receive({ action: 'stop' });
    await recorder.until(() => recorder.statuses.includes('roboflow-stream-source.status.stopped'));
    assert.deepEqual(ffmpegChildren(), { running: [], zombies: [] });
    const countAfterStop = recorder.frames.length;
    source().receive({ action: 'restart' });
    await recorder.until(() => recorder.frames.length >= countAfterStop + 3);
    assert.equal(recorder.frames[countAfterStop].frame?.id, 0);
    assert.equal(ffmpegChildren().running.length, 1);
  });

  it('kills ffmpeg on close and closes quickly', async () => {
    const recorder = await load({ source: 'lavfi:testsrc=size=64x48:rate=25', realtime: true, startOnDeploy: true });
    await recorder.until(() => recorder.frames.length >= 2);
    assert.equal(ffmpegChildren().running.length, 1);
    await helper.unload();
    assert.deepEqual(ffmpegChildren(), { running: [], zombies: [] });
  });

  it('refuses msg.source unless allowed, through Catch', async () => {
    const recorder = await load({ source: video });
    source().receive({ action: 'start', source: 'lavfi:testsrc' });
    await recorder.until(() => recorder.errors.length === 1);
    assert.match(recorder.errors[0].error!.message, /msg.source|msgSourceNotAllowed/);
    assert.equal(recorder.errors[0].error!.source.id, 'streamNode');
    assert.equal(recorder.frames.length, 0);
  });

  it('reads the source a message gives when allowed', async () => {
    const recorder = await load({ source: video, allowMsgSource: true });
    source().receive({ source: { kind: 'lavfi', location: 'testsrc=duration=0.2:size=32x32:rate=10' } });
    await recorder.until(() => recorder.frames.some((msg) => msg.complete));
    assert.deepEqual(recorder.frames.map((msg) => msg.frame?.width ?? 'complete'), [32, 32, 'complete']);
  });

  it('reports a file it cannot read to Catch', async () => {
    const missing = path.join(folder, 'missing.mp4');
    const recorder = await load({ source: missing });
    source().receive({ action: 'start', topic: 'trigger' });
    await recorder.until(() => recorder.errors.length === 1);
    assert.match(recorder.errors[0].error!.message, /missing\.mp4/);
    assert.equal((recorder.errors[0] as { topic?: string }).topic, 'trigger');
  });

  it('waits 1 s after a loss, doubling up to 30 s', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 20].map(reconnectDelayMs), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  describe('live streams', () => {
    let server: MjpegServer | undefined;

    afterEach(async () => {
      await server?.stop();
      server = undefined;
    });

    it('reconnects after the stream drops and comes back', async () => {
      server = await startMjpegServer([jpeg], 30);
      const recorder = await load({ source: server.url, startOnDeploy: true });
      await recorder.until(() => recorder.frames.length >= 3);
      await server.drop();
      await recorder.until(() => recorder.statuses.includes('roboflow-stream-source.status.reconnecting'));
      const beforeReturn = recorder.frames.length;
      await server.resume();
      await recorder.until(() => recorder.frames.length >= beforeReturn + 3);
      assert.ok(server.connections >= 2);
      assert.ok(recorder.frames.every((msg) => msg.frame?.width === 160 && !msg.complete));
    });

    it('restarts a stream that stalls, and says why', async () => {
      server = await startMjpegServer([jpeg], 30);
      const recorder = await load({ source: server.url, startOnDeploy: true, stallTimeout: '1' });
      await recorder.until(() => recorder.frames.length >= 2);
      server.stall();
      await recorder.until(() => recorder.errors.length === 1);
      assert.match(recorder.errors[0].error!.message, /no frame for 1 s/);
      await recorder.until(() => server!.connections >= 2);
    });

    it('fails at once, without retrying, when ffmpeg is missing', async () => {
      server = await startMjpegServer([jpeg], 30);
      runtimeSettings({ roboflowStreamSourceFfmpegPath: '/nonexistent/ffmpeg' });
      try {
        const recorder = await load({ source: server.url, startOnDeploy: true });
        await recorder.until(() => recorder.errors.length === 1);
        assert.match(recorder.errors[0].error!.message, /ffmpeg was not found at \/nonexistent\/ffmpeg.*apt install ffmpeg/);
        assert.ok(!recorder.statuses.includes('roboflow-stream-source.status.reconnecting'));
      } finally {
        runtimeSettings({});
      }
    });

    it('logs in with the credentials and never shows the password', async () => {
      const expected = `Basic ${Buffer.from('admin:s3cret!').toString('base64')}`;
      const body = jpeg;
      const protectedServer = http.createServer((request, response) => {
        if (request.headers.authorization !== expected) {
          response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
          return;
        }
        response.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(body);
      });
      await new Promise<void>((resolve) => protectedServer.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(protectedServer.address() as AddressInfo).port}/snapshot.jpg`;
      try {
        const recorder = await load({ source: url, sourceType: 'snapshot', snapshotInterval: '20', startOnDeploy: true }, { username: 'admin', password: 's3cret!' });
        await recorder.until(() => recorder.frames.length >= 2);
        assert.deepEqual([recorder.frames[0].frame?.width, recorder.frames[0].frame?.source], [160, url]);
        await helper.unload();

        const rejected = await load({ source: url.replace('127.0.0.1', 'admin:s3cret!@127.0.0.1'), sourceType: 'stream', startOnDeploy: true }, { username: 'admin', password: 'wrong-s3cret!' });
        await rejected.until(() => rejected.errors.length === 1);
        const shown = JSON.stringify([rejected.errors, rejected.statuses, rejected.frames]);
        assert.doesNotMatch(shown, /s3cret/);
        assert.match(rejected.errors[0].error!.message, /\*\*\*@127\.0\.0\.1/);
      } finally {
        await new Promise<void>((resolve) => protectedServer.close(() => resolve()));
      }
    });
  });
});

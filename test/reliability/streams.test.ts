// The fault matrix, camera side: ffmpeg missing or killed, a camera that cannot be reached or
// stops sending frames. The stream source reports each to Catch, keeps retrying, recovers when
// the fault ends, and never shows the camera password.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { makeImage } from '../fixtures/images';
import { ffmpegChildren, startMjpegServer, type MjpegServer } from '../fixtures/videos';
import { collect, eventually, flowOnTab, helper, nodeModules, type Collected } from '../nodes/helpers';
import { assertNoSecret, nodeRedOutputs, serialise, watchProcess } from './harness';

const CAMERA_PASSWORD = 'MARKERPASS-9d41e7c2b5a8';


interface StreamFlow {
  frames: Collected;
  caught: Collected;
  statuses: Collected;
}

async function loadStream(config: Record<string, unknown>, credentials: Record<string, Record<string, string>> = { stream1: { username: 'admin', password: CAMERA_PASSWORD } }): Promise<StreamFlow> {
  const source = { id: 'stream1', type: 'roboflow-stream-source', startOnDeploy: false, realtime: false, stallTimeout: '10', wires: [['frames']], ...config };
  await helper.load(nodeModules('roboflow-stream-source'), flowOnTab([source, { id: 'frames', type: 'helper' }], ['stream1']), credentials);
  return { frames: collect('frames'), caught: collect('caught'), statuses: collect('statuses') };
}

function statusTexts(flow: StreamFlow): string[] {
  return flow.statuses.messages.map((msg) => String(msg.status?.text ?? ''));
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('reliability: stream faults reach Catch and the stream source recovers', function () {
  this.timeout(30_000);
  const recorded = watchProcess();
  let camera: MjpegServer | undefined;
  let jpeg: Buffer;
  const ffmpegPathBefore = process.env.FFMPEG_PATH;

  before(async () => {
    jpeg = await makeImage({ width: 160, height: 120, boxes: [{ colour: 'red', left: 10, top: 10, width: 40, height: 40 }] });
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
  });
  afterEach(async function () {
    if (ffmpegPathBefore === undefined) delete process.env.FFMPEG_PATH;
    else process.env.FFMPEG_PATH = ffmpegPathBefore;
    const shown = serialise([nodeRedOutputs(), recorded.console]);
    await helper.unload();
    await camera?.stop();
    camera = undefined;
    assert.deepEqual(ffmpegChildren(), { running: [], zombies: [] }, 'no ffmpeg left behind');
    assert.ok(!shown.includes(CAMERA_PASSWORD), `outputs of "${this.currentTest?.title}" contain the camera password`);
    assertNoSecret(shown, `outputs of "${this.currentTest?.title}"`);
  });

  it('ffmpeg missing: a clear error with the trigger message, frames on the next start once it is back', async () => {
    camera = await startMjpegServer([jpeg], 30);
    process.env.FFMPEG_PATH = '/nonexistent/bin/ffmpeg';
    const flow = await loadStream({ source: camera.url });
    helper.getNode('stream1').receive({ action: 'start', topic: 'front door' });
    const [failure] = await flow.caught.atLeast(1);
    assert.equal(failure.topic, 'front door');
    assert.equal(failure.action, 'start');
    assert.match(failure.error.message, /^FfmpegNotFoundError: ffmpeg was not found at FFMPEG_PATH=\/nonexistent\/bin\/ffmpeg\. Install it/);
    await eventually(() => statusTexts(flow).some((text) => /ffmpeg was not found/.test(text)));

    // Retrying cannot install ffmpeg, so the node stops; the next start after installing it works.
    delete process.env.FFMPEG_PATH;
    helper.getNode('stream1').receive({ action: 'start', topic: 'front door' });
    await flow.frames.atLeast(3);
    assert.equal(flow.caught.messages.length, 1);
  });

  it('ffmpeg killed from outside: reported, restarted, frames resume', async () => {
    camera = await startMjpegServer([jpeg], 30);
    const flow = await loadStream({ source: camera.url, startOnDeploy: true });
    await flow.frames.atLeast(3);
    const [victim] = ffmpegChildren().running;
    assert.ok(victim, 'ffmpeg runs');
    process.kill(victim, 'SIGKILL');

    const [failure] = await flow.caught.atLeast(1);
    assert.match(failure.error.message, /ffmpeg/i);
    assert.match(failure.error.message, /SIGKILL|signal|killed/i);
    const framesAtKill = flow.frames.messages.length;
    await flow.frames.atLeast(framesAtKill + 3);
    const [successor] = ffmpegChildren().running;
    assert.ok(successor && successor !== victim, 'a new ffmpeg took over');
  });

  it('an unreachable RTSP URL: reported once with the password masked, retried with backoff', async () => {
    const port = await closedPort();
    const flow = await loadStream({ source: `rtsp://127.0.0.1:${port}/live`, sourceType: 'stream' });
    helper.getNode('stream1').receive({ action: 'start', topic: 'yard' });
    const [failure] = await flow.caught.atLeast(1);
    assert.equal(failure.topic, 'yard');
    assert.match(failure.error.message, new RegExp(`rtsp://\\*\\*\\*@127\\.0\\.0\\.1:${port}/live`));
    assert.match(failure.error.message, /refused|Connection|exited/i);
    await eventually(() => statusTexts(flow).some((text) => /reconnect/i.test(text)));
    helper.getNode('stream1').receive({ action: 'stop' });
    await eventually(() => statusTexts(flow).some((text) => /stopped/i.test(text)));
    assert.deepEqual(ffmpegChildren().running, []);
  });

  it('a stream that stops sending frames: the stall watchdog restarts it', async () => {
    camera = await startMjpegServer([jpeg], 30);
    const flow = await loadStream({ source: camera.url, startOnDeploy: true, stallTimeout: '1' });
    await flow.frames.atLeast(3);
    camera.stall();
    const [failure] = await flow.caught.atLeast(1);
    assert.equal(failure.error.message, 'StallError: no frame for 1 s');
    await eventually(() => camera!.connections >= 2);

    // The camera comes back: frames flow again on a fresh connection.
    await camera.drop();
    await camera.resume();
    const framesAtReturn = flow.frames.messages.length;
    await flow.frames.atLeast(framesAtReturn + 3);
  });
});

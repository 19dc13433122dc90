import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { FfmpegNotFoundError } from '../../src/core/ffmpeg';
import { FrameSlot, ffmpegInput, listImages, readFrames, resolveSource, sourceName, withCredentials, type Frame, type FrameSourceInput, type FrameSourceOptions } from '../../src/core/frameSources';
import { makeImage } from '../fixtures/images';
import { ffmpegChildren, makeTempDir, makeTestVideo, startMjpegServer, type MjpegServer } from '../fixtures/videos';

async function collect(source: FrameSourceInput, options: FrameSourceOptions = {}, limit = Infinity): Promise<Frame[]> {
  const frames: Frame[] = [];
  for await (const frame of readFrames(source, options)) {
    frames.push(frame);
    if (frames.length >= limit) break;
  }
  return frames;
}

function assertNoFfmpegLeft(): void {
  assert.deepEqual(ffmpegChildren(), { running: [], zombies: [] });
}

describe('frame sources', () => {
  let folder: string;
  let video: string;

  before(async () => {
    folder = makeTempDir();
    video = await makeTestVideo(path.join(folder, 'clip.mp4'), { seconds: 5, fps: 30 });
  });

  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  afterEach(assertNoFfmpegLeft);

  describe('resolving a source', () => {
    it('tells lavfi graphs, stream URLs, webcams, folders and files apart', async () => {
      assert.deepEqual(await resolveSource('lavfi:testsrc'), { kind: 'lavfi', location: 'testsrc', live: false });
      for (const url of ['rtsp://cam/1', 'rtsps://cam/1', 'http://cam/video.mjpg', 'https://cam/live.m3u8']) {
        assert.deepEqual(await resolveSource(url), { kind: 'stream', location: url, live: true });
      }
      assert.equal((await resolveSource('/dev/video0')).kind, 'webcam');
      assert.equal((await resolveSource(folder)).kind, 'folder');
      assert.equal((await resolveSource(video)).kind, 'file');
      assert.deepEqual(await resolveSource({ kind: 'snapshot', location: 'http://cam/snap.jpg' }), { kind: 'snapshot', location: 'http://cam/snap.jpg', live: true });
    });

    it('names a source without its login, and adds the login only on request', async () => {
      assert.equal(sourceName(await resolveSource('rtsp://admin:secret@cam/1')), 'rtsp://***@cam/1');
      assert.equal(withCredentials('rtsp://cam:554/1', { username: 'ad min', password: 'p@ss:w' }), 'rtsp://ad%20min:p%40ss%3Aw@cam:554/1');
      assert.equal(withCredentials('rtsp://cam:554/1', {}), 'rtsp://cam:554/1');
    });
  });

  describe('ffmpeg inputs', () => {
    it('reads RTSP over TCP by default, with the login in the URL ffmpeg gets', async () => {
      const rtsp = await resolveSource('rtsp://cam.local:554/live');
      assert.deepEqual(ffmpegInput(rtsp, {}), { input: 'rtsp://cam.local:554/live', inputOptions: ['-rtsp_transport', 'tcp'] });
      assert.deepEqual(ffmpegInput(rtsp, { rtspTransport: 'udp', credentials: { username: 'admin', password: 'pw' } }), {
        input: 'rtsp://admin:pw@cam.local:554/live',
        inputOptions: ['-rtsp_transport', 'udp'],
      });
    });

    it('opens webcams through v4l2 and lavfi graphs through lavfi', async () => {
      assert.deepEqual(ffmpegInput(await resolveSource('/dev/video0'), {}), { input: '/dev/video0', inputOptions: ['-f', 'v4l2'] });
      assert.deepEqual(ffmpegInput(await resolveSource('lavfi:testsrc'), {}), { input: 'testsrc', inputOptions: ['-f', 'lavfi'] });
      assert.deepEqual(ffmpegInput(await resolveSource('http://cam/video.mjpg'), {}), { input: 'http://cam/video.mjpg', inputOptions: [] });
    });
  });

  describe('video files', () => {
    it('decodes every frame, indexed from 0', async () => {
      const frames = await collect(video);
      assert.equal(frames.length, 150);
      assert.deepEqual(frames.map((frame) => frame.id), frames.map((_frame, index) => index));
      assert.ok(frames.every((frame) => frame.reference === frame.id && frame.width === 320 && frame.height === 240));
      assert.ok(frames.every((frame) => frame.data[0] === 0xff && frame.data[1] === 0xd8));
    });

    it('caps the frame rate: a 5 s 30 fps file at maxFps 5 yields 25 ± 1 frames', async () => {
      const frames = await collect(video, { maxFps: 5 });
      assert.ok(Math.abs(frames.length - 25) <= 1, `${frames.length} frames`);
    });

    it('resizes frames and reports the output size', async () => {
      const [frame] = await collect(video, { width: 160 }, 1);
      assert.deepEqual([frame.width, frame.height], [160, 120]);
      const metadata = await sharp(frame.data).metadata();
      assert.deepEqual([metadata.format, metadata.width, metadata.height], ['jpeg', 160, 120]);
    });

    it('gives a slow consumer every frame of a file (ffmpeg waits)', async () => {
      const frames: Frame[] = [];
      for await (const frame of readFrames({ kind: 'lavfi', location: 'testsrc=duration=1:size=160x120:rate=10' })) {
        frames.push(frame);
        await sleep(20);
      }
      assert.deepEqual(frames.map((frame) => frame.id), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('stops ffmpeg at once when the loop is left', async () => {
      for await (const frame of readFrames('lavfi:testsrc=size=320x240:rate=30')) {
        assert.equal(ffmpegChildren().running.length, 1);
        if (frame.id === 3) break;
      }
      assertNoFfmpegLeft();
    });

    it('stops when the signal is aborted, with the abort reason', async () => {
      const controller = new AbortController();
      await assert.rejects(
        (async () => {
          for await (const frame of readFrames('lavfi:testsrc=size=320x240:rate=30', { signal: controller.signal })) {
            if (frame.id === 2) controller.abort(new Error('enough'));
          }
        })(),
        /enough/,
      );
    });

    it('fails with the install hint when ffmpeg is missing', async () => {
      await assert.rejects(collect(video, { ffmpegPath: '/nonexistent/ffmpeg' }), (error: Error) => {
        assert.ok(error instanceof FfmpegNotFoundError);
        assert.match(error.message, /apt install ffmpeg/);
        return true;
      });
    });

    it('fails with ffmpeg\'s reason for a file it cannot read', async () => {
      await assert.rejects(collect(path.join(folder, 'missing.mp4')), /ffmpeg failed on .*missing\.mp4.*No such file/);
    });
  });

  describe('folders', () => {
    let images: string;

    before(async () => {
      images = path.join(folder, 'Images');
      fs.mkdirSync(images);
      fs.mkdirSync(path.join(images, 'nested.jpg'));
      const jpeg = await makeImage({ width: 40, height: 30 });
      for (const name of ['frame10.jpg', 'frame2.JPG', 'Frame1.jpeg', 'b.PNG']) fs.writeFileSync(path.join(images, name), jpeg);
      fs.writeFileSync(path.join(images, 'a.png'), await makeImage({ width: 20, height: 10, format: 'png' }));
      fs.writeFileSync(path.join(images, 'notes.txt'), 'not an image');
      fs.writeFileSync(path.join(images, 'scan.tiff'), jpeg);
      fs.writeFileSync(path.join(images, 'nested.jpg', 'inner.jpg'), jpeg);
      fs.symlinkSync(path.join(images, 'frame10.jpg'), path.join(images, 'linked.JPEG'));
    });

    it('lists image files only, by name with numbers in order, paths as on disk', async () => {
      const names = (await listImages(images, ['jpg', 'jpeg', 'JPG', 'JPEG', 'png', 'PNG'])).map((file) => path.basename(file));
      assert.deepEqual(names, ['a.png', 'b.PNG', 'Frame1.jpeg', 'frame2.JPG', 'frame10.jpg', 'linked.JPEG']);
      assert.deepEqual((await listImages(images, ['jpg'])).map((file) => path.basename(file)), ['frame10.jpg']);
    });

    it('yields each image as a JPEG with its path as reference', async () => {
      const frames = await collect(images, { imageExtensions: ['png', 'jpg'] });
      assert.deepEqual(frames.map((frame) => frame.reference), [path.join(images, 'a.png'), path.join(images, 'frame10.jpg')]);
      assert.deepEqual(frames.map((frame) => [frame.id, frame.width, frame.height]), [[0, 20, 10], [1, 40, 30]]);
      assert.equal((await sharp(frames[0].data).metadata()).format, 'jpeg');
      assert.deepEqual(frames[1].data, fs.readFileSync(path.join(images, 'frame10.jpg')));
    });

    it('resizes folder images when asked', async () => {
      const [frame] = await collect(images, { imageExtensions: ['jpg'], width: 20 });
      assert.deepEqual([frame.width, frame.height], [20, 15]);
    });
  });

  describe('MJPEG over HTTP', () => {
    let server: MjpegServer;

    before(async () => {
      const red = await makeImage({ width: 160, height: 120, boxes: [{ colour: 'red', left: 10, top: 10, width: 40, height: 40 }] });
      const blue = await makeImage({ width: 160, height: 120, boxes: [{ colour: 'blue', left: 60, top: 30, width: 40, height: 40 }] });
      server = await startMjpegServer([red, blue], 20);
    });

    after(() => server.stop());

    it('reads frames from a multipart/x-mixed-replace stream', async () => {
      const frames = await collect(server.url, {}, 5);
      assert.equal(frames.length, 5);
      assert.ok(frames.every((frame) => frame.width === 160 && frame.height === 120));
    });

    it('keeps only the newest frame for a slow consumer', async () => {
      const frames: Frame[] = [];
      for await (const frame of readFrames(server.url)) {
        frames.push(frame);
        if (frames.length === 4) break;
        await sleep(200);
      }
      const ids = frames.map((frame) => frame.id);
      assert.ok(ids.at(-1)! > ids.length, `frames were dropped between ${ids}`);
    });

    it('ends when the stream goes away, and fails when it cannot connect', async () => {
      const dropping = await startMjpegServer([await makeImage({ width: 32, height: 32 })], 20);
      const frames: Frame[] = [];
      await assert.doesNotReject(async () => {
        for await (const frame of readFrames(dropping.url)) {
          frames.push(frame);
          if (frames.length === 2) await dropping.drop();
        }
      });
      assert.ok(frames.length >= 2);
      await assert.rejects(collect(dropping.url), /ffmpeg failed on http:\/\/127\.0\.0\.1/);
    });
  });

  describe('HLS over HTTP', () => {
    let server: http.Server;

    before(async () => {
      const hls = path.join(folder, 'hls');
      fs.mkdirSync(hls);
      await new Promise<void>((resolve, reject) =>
        execFile('ffmpeg', ['-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=160x120:rate=10', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-f', 'hls', '-hls_time', '1', '-hls_list_size', '0', path.join(hls, 'index.m3u8')], (error) => (error ? reject(error) : resolve())),
      );
      server = http.createServer((request, response) => {
        const file = path.join(hls, path.basename(request.url ?? ''));
        if (!fs.existsSync(file)) return response.writeHead(404).end();
        response.writeHead(200, { 'Content-Type': file.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t' }).end(fs.readFileSync(file));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });

    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('reads an HLS playlist through ffmpeg', async () => {
      const frames = await collect(`http://127.0.0.1:${(server.address() as AddressInfo).port}/index.m3u8`, { backpressure: 'pause' });
      assert.equal(frames.length, 20);
      assert.ok(frames.every((frame) => frame.width === 160 && frame.height === 120));
    });
  });

  describe('snapshot URLs', () => {
    let server: http.Server;
    let url: string;
    const authorizations: Array<string | undefined> = [];
    let failWith: number | undefined;

    before(async () => {
      const jpeg = await makeImage({ width: 64, height: 48 });
      const png = await makeImage({ width: 30, height: 20, format: 'png' });
      server = http.createServer((request, response) => {
        authorizations.push(request.headers.authorization);
        if (failWith) return response.writeHead(failWith).end('nope');
        const body = request.url === '/snap.png' ? png : jpeg;
        response.writeHead(200, { 'Content-Type': request.url === '/snap.png' ? 'image/png' : 'image/jpeg' }).end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('polls the URL, sending the login as Basic auth', async () => {
      authorizations.length = 0;
      const frames = await collect({ kind: 'snapshot', location: `${url}/snap.jpg` }, { snapshotIntervalMs: 10, credentials: { username: 'admin', password: 'secret' } }, 3);
      assert.deepEqual(frames.map((frame) => [frame.id, frame.width, frame.height]), [[0, 64, 48], [1, 64, 48], [2, 64, 48]]);
      assert.equal(authorizations.length, 3);
      assert.ok(authorizations.every((value) => value === `Basic ${Buffer.from('admin:secret').toString('base64')}`));
    });

    it('turns other image formats into JPEG', async () => {
      const [frame] = await collect({ kind: 'snapshot', location: `${url}/snap.png` }, {}, 1);
      assert.equal((await sharp(frame.data).metadata()).format, 'jpeg');
      assert.deepEqual([frame.width, frame.height], [30, 20]);
    });

    it('fails on an HTTP error', async () => {
      failWith = 401;
      try {
        await assert.rejects(collect({ kind: 'snapshot', location: `${url}/snap.jpg` }, {}, 1), /answered HTTP 401/);
      } finally {
        failWith = undefined;
      }
    });
  });

  describe('FrameSlot', () => {
    it('latest: a new frame replaces one not yet taken', async () => {
      const slot = new FrameSlot<string>('latest');
      assert.equal(slot.offer('a'), undefined);
      slot.offer('b');
      assert.deepEqual(await slot.take(), { value: 'b', index: 1 });
      slot.close();
      assert.equal(await slot.take(), undefined);
    });

    it('pause: the producer waits until its frame is taken', async () => {
      const slot = new FrameSlot<string>('pause');
      let released = false;
      void slot.offer('a')!.then(() => (released = true));
      await sleep(1);
      assert.equal(released, false);
      assert.deepEqual(await slot.take(), { value: 'a', index: 0 });
      await sleep(1);
      assert.equal(released, true);
    });

    it('hands out the frames it has before the failure', async () => {
      const slot = new FrameSlot<string>('latest');
      slot.offer('a');
      slot.fail(new Error('lost'));
      assert.deepEqual(await slot.take(), { value: 'a', index: 0 });
      await assert.rejects(slot.take(), /lost/);
    });
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  FfmpegError,
  FfmpegNotFoundError,
  JpegSplitter,
  findFfmpeg,
  maskUrlCredentials,
  qualityToQscale,
  readJpegSize,
  startJpegPipe,
  type JpegImage,
} from '../../src/core/ffmpeg';
import { makeImage } from '../fixtures/images';
import { ffmpegChildren, makeTempDir } from '../fixtures/videos';

const LAVFI = ['-f', 'lavfi'];

/** Feeds `data` to the splitter in chunks of the given sizes, cycling. */
function splitInChunks(data: Buffer, sizes: number[]): JpegImage[] {
  const splitter = new JpegSplitter();
  const images: JpegImage[] = [];
  for (let offset = 0, turn = 0; offset < data.length; turn += 1) {
    const size = sizes[turn % sizes.length];
    images.push(...splitter.push(data.subarray(offset, offset + size)));
    offset += size;
  }
  return images;
}

/** Inserts an APP1 segment holding an embedded EOI right after the SOI, as EXIF thumbnails do. */
function withThumbnailSegment(jpeg: Buffer): Buffer {
  const payload = Buffer.from([0x45, 0x78, 0x69, 0x66, 0x00, 0x00, 0xff, 0xd8, 0x01, 0x02, 0xff, 0xd9, 0x03]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)]);
}

describe('ffmpeg: JPEG splitting', () => {
  let first: Buffer;
  let second: Buffer;

  before(async () => {
    first = await makeImage({ width: 64, height: 48, boxes: [{ colour: 'red', left: 4, top: 4, width: 20, height: 20 }] });
    second = await makeImage({ width: 100, height: 30 });
  });

  it('cuts concatenated JPEGs apart whatever the chunk boundaries, skipping bytes between them', () => {
    const stream = Buffer.concat([Buffer.from('garbage\xff'), first, Buffer.from([0x00, 0xff]), second, first]);
    for (const sizes of [[1], [2, 3], [7, 1000], [stream.length]]) {
      const images = splitInChunks(stream, sizes);
      assert.equal(images.length, 3, `chunk sizes ${sizes}`);
      assert.deepEqual(images[0].data, first);
      assert.deepEqual(images[1].data, second);
      assert.deepEqual(images[2].data, first);
      assert.deepEqual(images.map(({ width, height }) => [width, height]), [[64, 48], [100, 30], [64, 48]]);
    }
  });

  it('does not end an image at an EOI inside a marker segment', () => {
    const withThumbnail = withThumbnailSegment(first);
    const images = splitInChunks(Buffer.concat([withThumbnail, second]), [5]);
    assert.equal(images.length, 2);
    assert.deepEqual(images[0].data, withThumbnail);
    assert.equal(images[0].width, 64);
  });

  it('keeps an unfinished image until its end arrives', () => {
    const splitter = new JpegSplitter();
    assert.deepEqual(splitter.push(first.subarray(0, first.length - 1)), []);
    const images = splitter.push(first.subarray(first.length - 1));
    assert.equal(images.length, 1);
    assert.deepEqual(images[0].data, first);
  });

  it('gives up an image that grows beyond the size cap and finds the next one', async () => {
    const small = await makeImage({ width: 8, height: 8 });
    const cap = Math.floor(first.length / 2);
    assert.ok(small.length < cap);
    const splitter = new JpegSplitter(cap);
    const images: JpegImage[] = [];
    for (let offset = 0; offset < first.length; offset += 50) images.push(...splitter.push(first.subarray(offset, offset + 50)));
    images.push(...splitter.push(small));
    assert.deepEqual(images.map((image) => image.data), [small]);
  });

  it('reads the size from the SOF header without decoding', () => {
    assert.deepEqual(readJpegSize(second), { width: 100, height: 30 });
    assert.deepEqual(readJpegSize(withThumbnailSegment(first)), { width: 64, height: 48 });
    assert.equal(readJpegSize(Buffer.from('not a jpeg')), undefined);
  });
});

describe('ffmpeg: discovery', () => {
  it('uses an explicit path, then FFMPEG_PATH, then PATH', () => {
    assert.equal(findFfmpeg('/usr/bin/ffmpeg', {}), '/usr/bin/ffmpeg');
    assert.equal(findFfmpeg(undefined, { FFMPEG_PATH: '/usr/bin/ffmpeg', PATH: '' }), '/usr/bin/ffmpeg');
    assert.equal(findFfmpeg(undefined, { PATH: `/nonexistent${path.delimiter}/usr/bin` }), '/usr/bin/ffmpeg');
  });

  it('says how to install ffmpeg when it is missing', () => {
    for (const attempt of [
      () => findFfmpeg(undefined, { PATH: '/nonexistent' }),
      () => findFfmpeg('/nonexistent/ffmpeg', {}),
      () => findFfmpeg(undefined, { FFMPEG_PATH: '/nonexistent/ffmpeg' }),
    ]) {
      assert.throws(attempt, (error: Error) => {
        assert.ok(error instanceof FfmpegNotFoundError);
        assert.match(error.message, /ffmpeg was not found/);
        assert.match(error.message, /apt install ffmpeg/);
        return true;
      });
    }
  });

  it('does not take a directory or a non-executable file for ffmpeg', () => {
    const folder = makeTempDir();
    try {
      fs.mkdirSync(path.join(folder, 'ffmpeg'));
      assert.throws(() => findFfmpeg(undefined, { PATH: folder }), FfmpegNotFoundError);
      const plain = path.join(folder, 'plain');
      fs.mkdirSync(plain);
      fs.writeFileSync(path.join(plain, 'ffmpeg'), '', { mode: 0o644 });
      assert.throws(() => findFfmpeg(undefined, { PATH: plain }), FfmpegNotFoundError);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('ffmpeg: JPEG pipe', () => {
  afterEach(() => {
    assert.deepEqual(ffmpegChildren(), { running: [], zombies: [] });
  });

  it('caps the frame rate before encoding: 5 s at 30 fps with maxFps 5 gives 25 ± 1 frames', async () => {
    const images: JpegImage[] = [];
    const pipe = startJpegPipe({ input: 'testsrc=duration=5:size=320x240:rate=30', inputOptions: LAVFI, maxFps: 5 }, (image) => {
      images.push(image);
    });
    await pipe.done;
    assert.ok(Math.abs(images.length - 25) <= 1, `${images.length} frames`);
    assert.ok(images.every((image) => image.width === 320 && image.height === 240));
  });

  it('resizes, keeping the aspect ratio when one side is given', async () => {
    const sizes: Array<[number, number]> = [];
    await startJpegPipe({ input: 'testsrc=duration=0.2:size=320x240:rate=10', inputOptions: LAVFI, width: 160 }, (image) => {
      sizes.push([image.width, image.height]);
    }).done;
    assert.deepEqual(sizes, [[160, 120], [160, 120]]);
  });

  it('encodes smaller files at lower quality', async () => {
    const sizeAt = async (quality: number) => {
      let bytes = 0;
      await startJpegPipe({ input: 'testsrc=duration=0.1:size=320x240:rate=10', inputOptions: LAVFI, quality }, (image) => {
        bytes += image.data.length;
      }).done;
      return bytes;
    };
    assert.ok((await sizeAt(10)) < (await sizeAt(95)));
    assert.equal(qualityToQscale(100), 2);
    assert.equal(qualityToQscale(1), 31);
  });

  it('makes ffmpeg wait while the consumer is busy, and stop() ends the process', async () => {
    let delivered = 0;
    let releaseFirst: () => void = () => {};
    const firstTaken = new Promise<void>((resolve) => (releaseFirst = resolve));
    const pipe = startJpegPipe({ input: 'testsrc=size=320x240:rate=30', inputOptions: LAVFI }, () => {
      delivered += 1;
      releaseFirst();
      return new Promise<void>(() => {});
    });
    await firstTaken;
    assert.equal(ffmpegChildren().running.length, 1);
    await pipe.stop();
    await pipe.done;
    assert.equal(delivered, 1);
  });

  it('kills an ffmpeg that ignores SIGTERM once the grace period is over', async () => {
    const folder = makeTempDir();
    const stubborn = path.join(folder, 'ffmpeg');
    // Answers fluent-ffmpeg's capability queries with the real ffmpeg, then ignores SIGTERM.
    fs.writeFileSync(
      stubborn,
      '#!/bin/sh\ncase "$*" in *-formats*|*-encoders*|*-codecs*) exec /usr/bin/ffmpeg "$@";; esac\ntrap "" TERM\nwhile :; do sleep 0.1; done\n',
      { mode: 0o755 },
    );
    try {
      const pipe = startJpegPipe({ input: 'anything', ffmpegPath: stubborn }, () => {});
      while (ffmpegChildren().running.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      const [pid] = ffmpegChildren().running;
      process.kill(pid, 'SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(ffmpegChildren().running, [pid], 'the stub survives SIGTERM');
      await pipe.stop();
      await pipe.done;
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('reports a failing input with ffmpeg\'s reason and no credentials', async () => {
    const pipe = startJpegPipe({ input: 'http://admin:secret@127.0.0.1:1/cam.mjpg' }, () => {});
    await assert.rejects(pipe.done, (error: Error) => {
      assert.ok(error instanceof FfmpegError);
      assert.match(error.message, /ffmpeg failed on http:\/\/\*\*\*@127\.0\.0\.1:1\/cam\.mjpg/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    });
  });

  it('throws the clear error at start when ffmpeg is missing', () => {
    assert.throws(() => startJpegPipe({ input: 'x.mp4', ffmpegPath: '/nonexistent/ffmpeg' }, () => {}), /apt install ffmpeg/);
  });

  it('masks logins in URLs', () => {
    assert.equal(maskUrlCredentials('open rtsp://user:p%40ss@cam:554/a failed; http://x/y'), 'open rtsp://***@cam:554/a failed; http://x/y');
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { InferenceHTTPClient } from '../../src/core/client';
import type { ImagesInput, LoadImagesOptions } from '../../src/core/context';
import {
  EncodingError,
  HTTPCallErrorError,
  HTTPClientError,
  InvalidInputFormatError,
  InvalidURLImageInput,
  URLAddressNotAllowedError,
} from '../../src/core/errors';
import { Transport, type TransportOptions } from '../../src/core/execution';
import { rescalePrediction, scalingAspectRatio } from '../../src/core/images';
import { checkImageUrl, isGlobalAddress, resolveUrlPolicy } from '../../src/core/urlPolicy';
import { makeImage } from '../fixtures/images';

/** A tiny PNG whose header claims `width` x `height`: what a decompression bomb looks like to a decoder. */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: 'white' } }).png().toBuffer();
  const ihdr = png.indexOf('IHDR');
  png.writeUInt32BE(width, ihdr + 4);
  png.writeUInt32BE(height, ihdr + 8);
  png.writeUInt32BE(crc32(png.subarray(ihdr, ihdr + 17)), ihdr + 17);
  return png;
}

async function size(base64: string): Promise<[number | undefined, number | undefined]> {
  const { width, height } = await sharp(Buffer.from(base64, 'base64')).metadata();
  return [width, height];
}

describe('images', () => {
  let folder: string;
  let jpeg: Buffer;
  const transports: Transport[] = [];

  const load = (input: ImagesInput, options: LoadImagesOptions = {}, transportOptions: TransportOptions = {}) => {
    const transport = new Transport('http://127.0.0.1:1', undefined, transportOptions);
    transports.push(transport);
    return transport.loadImages(input, options);
  };

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'images-test-'));
    jpeg = await makeImage({ width: 128, height: 128 });
    await writeFile(join(folder, 'image.jpg'), jpeg);
    await writeFile(join(folder, 'empty.jpg'), Buffer.alloc(0));
    await writeFile(join(folder, 'notes.txt'), 'not an image');
  });
  after(() => rm(folder, { recursive: true, force: true }));
  afterEach(async () => {
    await Promise.all(transports.splice(0).map((transport) => transport.close()));
  });

  describe('inputs', () => {
    it('sends encoded bytes, files, base64, data URIs and base64 objects as they are', async () => {
      const base64 = jpeg.toString('base64');
      const loaded = await load([
        jpeg,
        join(folder, 'image.jpg'),
        base64,
        `data:image/jpeg;base64,${base64}`,
        { type: 'base64', value: base64 },
      ]);
      assert.deepEqual(loaded, Array.from({ length: 5 }, () => ({ base64, scalingFactor: null })));
    });

    it('flattens nested lists in order', async () => {
      const other = await makeImage({ width: 10, height: 10 });
      const loaded = await load([[jpeg, [other]], jpeg]);
      assert.deepEqual(
        loaded.map((image) => image.base64),
        [jpeg, other, jpeg].map((bytes) => bytes.toString('base64')),
      );
    });

    it('encodes raw pixels as JPEG', async () => {
      const data = Buffer.alloc(40 * 30 * 3, 200);
      const [image] = await load({ data, width: 40, height: 30, channels: 3 });
      assert.deepEqual(await size(image.base64), [40, 30]);
      assert.equal((await sharp(Buffer.from(image.base64, 'base64')).metadata()).format, 'jpeg');
      await assert.rejects(load({ data, width: 41, height: 30, channels: 3 }), InvalidInputFormatError);
    });

    it('rejects unsupported, empty and missing inputs with a clear error', async () => {
      for (const bad of [42, null, {}, { type: 'url', value: 'x' }, { type: 'base64', value: '' }, [jpeg, true], Buffer.alloc(0), '', '   ']) {
        await assert.rejects(load(bad as ImagesInput), InvalidInputFormatError, JSON.stringify(bad));
      }
      await assert.rejects(load(join(folder, 'empty.jpg')), { name: 'InvalidInputFormatError', message: /empty \(0 bytes\)/ });
      await assert.rejects(load(folder), { name: 'InvalidInputFormatError', message: /not a file/ });
      await assert.rejects(load(join(folder, 'missing.jpg')), {
        name: 'InvalidInputFormatError',
        message: /neither an existing file, an http\(s\) URL nor base64/,
      });
    });

    it('confines file paths to fileBaseDir', async () => {
      const options = { fileBaseDir: folder };
      const [inside] = await load('image.jpg', {}, options);
      assert.equal(inside.base64, jpeg.toString('base64'));
      await assert.rejects(load('../../etc/hostname', {}, options), { name: 'InvalidInputFormatError', message: /outside the allowed folder/ });
      await assert.rejects(load('/etc/hostname', {}, options), /outside the allowed folder/);
    });

    it('passes fileBaseDir and the URL policy through the client constructor', async () => {
      const client = new InferenceHTTPClient('http://127.0.0.1:1', 'key', { fileBaseDir: folder, urlPolicy: 'strict' });
      try {
        client.selectApiV0();
        await assert.rejects(client.infer('/etc/hostname', 'project/1'), /outside the allowed folder/);
        await assert.rejects(client.infer('http://127.0.0.1:1/image.jpg', 'project/1'), InvalidURLImageInput);
      } finally {
        await client.close();
      }
    });
  });

  describe('downsizing', () => {
    it('uses upstream ratio: min of the two bounds, never upscaling', () => {
      assert.equal(scalingAspectRatio(512, 512, 256, 512), 0.5);
      assert.equal(scalingAspectRatio(640, 480, 640, 640), null);
      assert.equal(scalingAspectRatio(1280, 960, 640, 640), 0.5);
      assert.equal(scalingAspectRatio(100, 100, 200, 200), null);
    });

    it('resizes 128x128 with bounds 64 wide x 128 high to 64x64 (factor 0.5)', async () => {
      for (const input of [jpeg, join(folder, 'image.jpg'), jpeg.toString('base64'), { data: Buffer.alloc(128 * 128 * 3), width: 128, height: 128, channels: 3 as const }]) {
        const [image] = await load(input, { maxWidth: 64, maxHeight: 128 });
        assert.equal(image.scalingFactor, 0.5);
        assert.deepEqual(await size(image.base64), [64, 64]);
      }
    });

    it('rounds the new size like upstream', async () => {
      const odd = await makeImage({ width: 333, height: 101 });
      const [image] = await load(odd, { maxWidth: 100, maxHeight: 100 });
      assert.equal(image.scalingFactor, 100 / 333);
      assert.deepEqual(await size(image.base64), [100, Math.round(101 * (100 / 333))]);
    });

    it('keeps the EXIF orientation of a downsized photo', async () => {
      const rotated = await sharp({ create: { width: 200, height: 100, channels: 3, background: 'white' } })
        .jpeg()
        .withMetadata({ orientation: 6 })
        .toBuffer();
      const [image] = await load(rotated, { maxWidth: 100, maxHeight: 100 });
      const metadata = await sharp(Buffer.from(image.base64, 'base64')).metadata();
      assert.deepEqual([metadata.width, metadata.height, metadata.orientation], [100, 50, 6]);
    });

    it('leaves an image within bounds untouched', async () => {
      const [image] = await load(jpeg, { maxWidth: 640, maxHeight: 640 });
      assert.deepEqual(image, { base64: jpeg.toString('base64'), scalingFactor: null });
    });

    it('raises EncodingError for bytes that are not an image, only when decoding is needed', async () => {
      const notes = join(folder, 'notes.txt');
      await assert.rejects(load(notes, { maxWidth: 64, maxHeight: 64 }), EncodingError);
      assert.equal((await load(notes))[0].base64, Buffer.from('not an image').toString('base64'));
    });

    it('refuses a decompression bomb with a clear EncodingError', async () => {
      const bomb = await pngClaiming(7100, 7100);
      await assert.rejects(load(bomb, { maxWidth: 640, maxHeight: 640 }), {
        name: 'EncodingError',
        message: /7100x7100 \(50 megapixels\); the limit is 40 megapixels/,
      });
    });
  });

  describe('rescaling predictions', () => {
    it('maps boxes, image size, points and keypoints back, keeping other keys', () => {
      const detection = rescalePrediction(
        {
          image: { width: 320, height: 240, extra: 1 },
          inference_id: 'abc',
          predictions: [{ x: 100, y: 200, width: 200, height: 300, class: 'red', confidence: 0.9 }],
        },
        0.5,
      );
      assert.deepEqual(detection, {
        image: { width: 640, height: 480 },
        inference_id: 'abc',
        predictions: [{ x: 200, y: 400, width: 400, height: 600, class: 'red', confidence: 0.9 }],
      });
      const segmentation = rescalePrediction({ predictions: [{ x: 1, y: 2, width: 3, height: 4, points: [{ x: 5, y: 6 }] }] }, 0.5);
      assert.deepEqual(segmentation.predictions[0].points, [{ x: 10, y: 12 }]);
      const pose = rescalePrediction(
        { predictions: [{ x: 1, y: 1, width: 1, height: 1, keypoints: [{ x: 3, y: 4, confidence: 0.7, class: 'nose', class_id: 0 }] }] },
        0.5,
      );
      assert.deepEqual(pose.predictions[0].keypoints, [{ x: 6, y: 8, confidence: 0.7, class: 'nose', class_id: 0 }]);
    });

    it('leaves stubs, classification and unscaled results alone', () => {
      const stub = { is_stub: true, image: { width: 1, height: 1 } };
      assert.equal(rescalePrediction(stub, 0.5), stub);
      const unscaled = { predictions: [{ x: 1, y: 1 }] };
      assert.equal(rescalePrediction(unscaled, null), unscaled);
      const classification = rescalePrediction(
        { image: { width: 224, height: 150 }, predictions: [{ class: 'cat', class_id: 0, confidence: 0.9 }] },
        0.5,
      );
      assert.deepEqual(classification, { image: { width: 448, height: 300 }, predictions: [{ class: 'cat', class_id: 0, confidence: 0.9 }] });
      const multiLabel = { image: { width: 10, height: 10 }, predictions: { cat: { confidence: 0.9, class_id: 0 } } };
      assert.deepEqual(rescalePrediction(multiLabel, 0.5).predictions, multiLabel.predictions);
    });
  });

  describe('URL inputs', () => {
    let server: Server;
    let base: string;
    let hits: string[];

    before(async () => {
      server = createServer((request, response) => {
        const path = request.url ?? '/';
        hits.push(path);
        const hop = /^\/hop\/(\d+)$/.exec(path);
        if (path === '/image.jpg') response.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg);
        else if (hop) {
          const left = Number(hop[1]);
          response.writeHead(302, { location: left > 0 ? `/hop/${left - 1}` : '/image.jpg' }).end();
        } else if (path === '/to-denied') response.writeHead(301, { location: 'https://blocked.example.com/x.jpg' }).end();
        else if (path === '/big') response.writeHead(200).end(Buffer.alloc(4096, 1));
        else response.writeHead(404, { 'content-type': 'text/plain' }).end('no such image');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    beforeEach(() => {
      hits = [];
    });

    it('downloads the image client-side and sends its bytes', async () => {
      const [image] = await load(`${base}/image.jpg`);
      assert.equal(image.base64, jpeg.toString('base64'));
    });

    it('follows redirects, re-checking every hop, up to the limit', async () => {
      const [image] = await load(`${base}/hop/3`);
      assert.equal(image.base64, jpeg.toString('base64'));
      await assert.rejects(load(`${base}/hop/5`, {}, { urlPolicy: { maxRedirects: 3 } }), { name: 'HTTPClientError', message: /more than 3 redirects/ });
      hits = [];
      await assert.rejects(load(`${base}/to-denied`, {}, { urlPolicy: { deniedHosts: ['example.com'] } }), URLAddressNotAllowedError);
      assert.deepEqual(hits, ['/to-denied']);
    });

    it('reports an HTTP error status as HTTPCallErrorError', async () => {
      await assert.rejects(load(`${base}/missing.jpg?api_key=secret-key-0123`), (error: unknown) => {
        assert.ok(error instanceof HTTPCallErrorError);
        assert.equal(error.statusCode, 404);
        assert.equal(error.apiMessage, 'no such image');
        assert.ok(!error.description.includes('secret-key-0123'));
        return true;
      });
    });

    it('caps the download size', async () => {
      await assert.rejects(load(`${base}/big`, {}, { urlPolicy: { maxDownloadBytes: 1000 } }), { name: 'HTTPClientError', message: /larger than 1000 bytes/ });
    });

    it('enforces the policy: disabled URLs, https only, non-global addresses, allow list', async () => {
      await assert.rejects(load(`${base}/image.jpg`, {}, { urlPolicy: { allowUrlInput: false } }), InvalidURLImageInput);
      await assert.rejects(load(`${base}/image.jpg`, {}, { urlPolicy: 'strict' }), InvalidURLImageInput);
      await assert.rejects(load(`${base}/image.jpg`, {}, { urlPolicy: { allowNonGlobalAddresses: false } }), URLAddressNotAllowedError);
      await assert.rejects(load(`${base}/image.jpg`, {}, { urlPolicy: { allowedHosts: ['example.com'] } }), URLAddressNotAllowedError);
      const port = new URL(base).port;
      await assert.rejects(
        load(`http://localhost:${port}/image.jpg`, {}, { urlPolicy: { allowNonGlobalAddresses: false } }),
        URLAddressNotAllowedError,
        'a name resolving to loopback is refused at connection time',
      );
      assert.deepEqual(hits, [], 'nothing reached the server');
    });

    it('rejects a backslash in the authority and non-http schemes', () => {
      const policy = resolveUrlPolicy();
      assert.throws(() => checkImageUrl('https://example.com\\@evil.com/a.jpg', policy), InvalidURLImageInput);
      assert.throws(() => checkImageUrl('ftp://example.com/a.jpg', policy), InvalidURLImageInput);
      assert.equal(checkImageUrl('https://sub.example.com/a.jpg', resolveUrlPolicy('strict')).hostname, 'sub.example.com');
      for (const host of ['localhost', '10.0.0.1', 'intranet', 'printer.local']) {
        assert.throws(() => checkImageUrl(`https://${host}/a.jpg`, resolveUrlPolicy('strict')), InvalidURLImageInput, host);
      }
    });

    it('classifies addresses like upstream', () => {
      assert.equal(isGlobalAddress('8.8.8.8'), true);
      assert.equal(isGlobalAddress('2606:4700:4700::1111'), true);
      for (const address of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '100.64.0.1', '192.168.1.1', '172.16.0.1', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1', 'fe80::1', 'fd00::1']) {
        assert.equal(isGlobalAddress(address), false, address);
      }
    });

    it('gives a transport failure as HTTPClientError', async () => {
      await assert.rejects(load('http://127.0.0.1:9/image.jpg'), (error: unknown) => {
        assert.ok(error instanceof HTTPClientError);
        assert.match(error.message, /^Could not load image from URL\. Details: /);
        return true;
      });
    });
  });
});

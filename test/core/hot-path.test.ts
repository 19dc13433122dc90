// What the per-request shortcuts must keep: request bodies byte for byte, the caller's image
// bytes, and aborting an image download from the caller or by closing the client.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EncodedImage, ImagesInput } from '../../src/core/context';
import { imagesBody, Transport } from '../../src/core/execution';
import { hasCanonicalBase64 } from '../../src/core/images';
import { makeImage } from '../fixtures/images';

/** What the body must equal byte for byte: the plain JSON.stringify of `{ ...payload, image }`. */
function expectedBody(payload: Record<string, unknown>, batch: EncodedImage[]): string {
  const wire = batch.map((image) => ({ type: 'base64', value: image.base64 }));
  return JSON.stringify({ ...payload, image: batch.length === 1 ? wire[0] : wire });
}

describe('hot path', () => {
  const transport = new Transport('http://127.0.0.1:1', undefined);
  const load = (input: ImagesInput) => transport.loadImages(input);
  after(() => transport.close());

  it('marks only base64 the client encoded or checked as safe to copy unescaped', async () => {
    const jpeg = await makeImage({ width: 32, height: 32 });
    const [fromBuffer, fromString, fromDataUri, fromObject] = await load([
      jpeg,
      jpeg.toString('base64'),
      `data:image/jpeg;base64,${jpeg.toString('base64')}`,
      { type: 'base64', value: jpeg.toString('base64') },
    ]);
    assert.equal(hasCanonicalBase64(fromBuffer), true);
    assert.equal(hasCanonicalBase64(fromString), true);
    assert.equal(hasCanonicalBase64(fromDataUri), false);
    assert.equal(hasCanonicalBase64(fromObject), false);
  });

  it('encodes exactly the bytes a Uint8Array views, not the rest of its ArrayBuffer', async () => {
    const jpeg = await makeImage({ width: 32, height: 32 });
    const backing = new Uint8Array(jpeg.length + 20);
    backing.set(jpeg, 10);
    // Typed as Buffer, but JavaScript callers (a Node-RED function node) may pass any Uint8Array.
    const [image] = await load(new Uint8Array(backing.buffer, 10, jpeg.length) as unknown as Buffer);
    assert.equal(image.base64, jpeg.toString('base64'));
  });

  it('equals JSON.stringify of the payload with the image last, for one image and for batches', async () => {
    const jpeg = await makeImage({ width: 32, height: 32 });
    const images = await load([jpeg, jpeg.subarray(0), { type: 'base64', value: 'needs "escaping"\n\u2028é' }]);
    const payload = { api_key: 'key', model_id: 'shapes/1', source: 'caméra "nord"', class_filter: ['a', 'b'], skipped: undefined };
    for (const batch of [[images[0]], [images[2]], images, [images[0], images[1]]]) {
      assert.equal(imagesBody(payload, batch).toString('utf8'), expectedBody(payload, batch));
    }
    assert.equal(imagesBody({}, [images[0]]).toString('utf8'), expectedBody({}, [images[0]]));
  });

  it('keeps the position of an image key the payload already has, as the spread would', async () => {
    const [image] = await load(await makeImage({ width: 16, height: 16 }));
    const payload = { image: 'placeholder', model_id: 'shapes/1' };
    assert.equal(imagesBody(payload, [image]).toString('utf8'), expectedBody(payload, [image]));
    assert.ok(imagesBody(payload, [image]).toString('utf8').startsWith('{"image":{'));
  });

  describe('image downloads', () => {
    const held: ServerResponse[] = [];
    // Answers nothing until the test is over: a download stays in flight until it is aborted.
    const server = createServer((_request, response) => void held.push(response));
    let url = '';
    const received = () => new Promise((resolve) => server.once('request', resolve));
    before(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/image.jpg`;
    });
    after(async () => {
      held.forEach((response) => response.destroy());
      await new Promise((resolve) => server.close(resolve));
    });

    it("stop with the caller's reason when its signal aborts", async () => {
      const downloads = new Transport('http://127.0.0.1:1', undefined);
      try {
        const controller = new AbortController();
        const arrived = received();
        const loading = downloads.loadImages(url, { signal: controller.signal });
        await arrived;
        controller.abort(new Error('caller gave up'));
        await assert.rejects(loading, /caller gave up/);
      } finally {
        await downloads.close();
      }
    });

    it('stop when the client closes', async () => {
      const downloads = new Transport('http://127.0.0.1:1', undefined);
      const arrived = received();
      const loading = downloads.loadImages(url);
      await arrived;
      const rejected = assert.rejects(loading, { name: 'HTTPClientError', message: 'The client was closed.' });
      await downloads.close();
      await rejected;
    });
  });
});

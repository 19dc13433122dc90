import assert from 'node:assert/strict';
import type { EncodedImage, ImagesInput } from '../../src/core/context';
import { imagesBody, Transport } from '../../src/core/execution';
import { hasCanonicalBase64 } from '../../src/core/images';
import { makeImage } from '../fixtures/images';

/** What the body must equal byte for byte: the plain JSON.stringify of `{ ...payload, image }`. */
function expectedBody(payload: Record<string, unknown>, batch: EncodedImage[]): string {
  const wire = batch.map((image) => ({ type: 'base64', value: image.base64 }));
  return JSON.stringify({ ...payload, image: batch.length === 1 ? wire[0] : wire });
}

describe('image request bodies', () => {
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
    const [image] = await load(new Uint8Array(backing.buffer, 10, jpeg.length));
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
});

// The bytes of an image input, for drawing on it after the server has answered. The client
// already validated and loaded the same input, so this only re-reads what it accepted.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import sharp from 'sharp';
import type { ImageInput, RawPixels } from '../../core';

const DATA_URI = /^data:[^,]*;base64,/;

function isRawPixels(input: unknown): input is RawPixels {
  return typeof input === 'object' && input !== null && 'data' in input && 'width' in input && 'channels' in input;
}

/** Encoded bytes of the image, or undefined for URLs (downloading twice is not worth an overlay). */
export async function imageBytes(input: ImageInput, fileBaseDir = ''): Promise<Buffer | undefined> {
  if (Buffer.isBuffer(input)) return input;
  if (isRawPixels(input)) {
    const { data, width, height, channels } = input;
    return sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } }).jpeg().toBuffer();
  }
  if (typeof input === 'object') return Buffer.from(input.value, 'base64');
  if (/^https?:\/\//i.test(input)) return undefined;
  if (DATA_URI.test(input)) return Buffer.from(input.replace(DATA_URI, ''), 'base64');
  return readFile(resolve(fileBaseDir, input)).catch(() => Buffer.from(input, 'base64'));
}

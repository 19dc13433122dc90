// Image inputs -> base64 for the wire, optional client-side downsizing with sharp, and the
// rescaling of predictions back into the caller's pixel coordinates (upstream's loaders,
// pre_processing and post_processing utils).
import { realpath, readFile, stat } from 'node:fs/promises';
import { resolve as resolvePath, sep } from 'node:path';
import sharp from 'sharp';
import { request, type Dispatcher } from 'undici';
import type { EncodedImage, ImagesInput, LoadImagesOptions, RawPixels } from './context';
import {
  describeError,
  EncodingError,
  HTTPCallErrorError,
  HTTPClientError,
  InvalidInputFormatError,
  maskApiKey,
  truncate,
} from './errors';
import { checkImageUrl, type UrlPolicy } from './urlPolicy';

/** Decoding refuses larger images (a decompression bomb gives an EncodingError, not an OOM). */
export const MAX_INPUT_PIXELS = 40_000_000;
const JPEG_QUALITY = 95;
/** Strings longer than this cannot be file paths; they are not looked up on disk. */
const MAX_PATH_LENGTH = 4096;
const DATA_URI = /^data:[^,]*;base64,/i;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface ImageSources {
  urlPolicy: UrlPolicy;
  /** When set, file-path inputs must resolve inside this folder. */
  fileBaseDir?: string;
  /** The dispatcher image downloads go through (never the API pool). */
  downloadAgent: Dispatcher;
  /** Aborts downloads in flight when the client closes. */
  closed?: AbortSignal;
}

/**
 * Raw bytes of an image that still needs encoding, or base64 that can go to the wire as it is
 * (`canonical` when it is known to hold only base64 characters).
 */
type LoadedImage =
  | { kind: 'bytes'; bytes: Buffer; origin: string }
  | { kind: 'base64'; base64: string; canonical: boolean }
  | { kind: 'raw'; pixels: RawPixels };

/**
 * Images whose base64 came from Buffer#toString('base64') or passed the BASE64 check, so it can
 * go into a JSON body without escaping; a caller's unchecked base64 (data URI, base64 object) may
 * hold anything. Marked here rather than re-scanned when the body is built, since that scan costs
 * as much as JSON.stringify itself.
 */
const canonicalBase64 = new WeakSet<EncodedImage>();

export function hasCanonicalBase64(image: EncodedImage): boolean {
  return canonicalBase64.has(image);
}

function encoded(base64: string, scalingFactor: number | null, canonical = true): EncodedImage {
  const image = { base64, scalingFactor };
  if (canonical) canonicalBase64.add(image);
  return image;
}

// ---- input validation ----------------------------------------------------------------------

function isRawPixels(value: object): value is RawPixels {
  const candidate = value as Partial<RawPixels>;
  return (
    candidate.data instanceof Uint8Array &&
    typeof candidate.width === 'number' &&
    typeof candidate.height === 'number' &&
    typeof candidate.channels === 'number'
  );
}

function isBase64Object(value: object): value is { type: 'base64'; value: string } {
  const candidate = value as { type?: unknown; value?: unknown };
  return candidate.type === 'base64' && typeof candidate.value === 'string';
}

/** An object that is one image input itself (rather than, say, a dictionary of them). */
export function isImageObject(value: object): boolean {
  return isBase64Object(value) || isRawPixels(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'object';
}

/** Rejects unsupported inputs synchronously, so a bad element fails the call before any request. */
export function validateImagesInput(input: unknown): asserts input is ImagesInput {
  if (Array.isArray(input)) {
    input.forEach(validateImagesInput);
    return;
  }
  if (typeof input === 'string') {
    if (input.trim() === '') throw new InvalidInputFormatError('Empty string submitted as an image.');
    return;
  }
  if (input instanceof Uint8Array) {
    if (input.length === 0) throw new InvalidInputFormatError('Empty buffer submitted as an image.');
    return;
  }
  if (typeof input === 'object' && input !== null && isBase64Object(input)) {
    if (stripDataUri(input.value).trim() === '') throw new InvalidInputFormatError('Empty base64 value submitted as an image.');
    return;
  }
  if (typeof input === 'object' && input !== null && isRawPixels(input)) return;
  throw new InvalidInputFormatError(`Unknown type of input (${describeType(input)}) submitted.`);
}

function flatten(input: ImagesInput): Exclude<ImagesInput, ImagesInput[]>[] {
  return Array.isArray(input) ? input.flatMap(flatten) : [input];
}

// ---- loading ---------------------------------------------------------------------------------

/** Loads, validates and encodes images in input order (nested lists flattened). */
export async function loadImages(
  input: ImagesInput,
  options: LoadImagesOptions,
  sources: ImageSources,
): Promise<EncodedImage[]> {
  validateImagesInput(input);
  const bounds = downsizingBounds(options);
  const loaded = await Promise.all(flatten(input).map((item) => loadImage(item, sources, options.signal)));
  return Promise.all(loaded.map((image) => encodeImage(image, bounds)));
}

async function loadImage(
  input: Exclude<ImagesInput, ImagesInput[]>,
  sources: ImageSources,
  signal: AbortSignal | undefined,
): Promise<LoadedImage> {
  if (input instanceof Uint8Array) return { kind: 'bytes', bytes: asBuffer(input), origin: 'buffer' };
  if (typeof input !== 'string') {
    return isRawPixels(input) ? { kind: 'raw', pixels: input } : { kind: 'base64', base64: stripDataUri(input.value), canonical: false };
  }
  if (/^https?:\/\//i.test(input)) {
    return { kind: 'bytes', bytes: await downloadImage(input, sources, signal), origin: 'URL' };
  }
  if (DATA_URI.test(input)) return { kind: 'base64', base64: stripDataUri(input), canonical: false };
  const file = await readImageFile(input, sources.fileBaseDir);
  if (file) return { kind: 'bytes', bytes: file, origin: input };
  const compact = input.replace(/\s+/g, '');
  if (BASE64.test(compact) && compact.length % 4 !== 1) return { kind: 'base64', base64: compact, canonical: true };
  throw new InvalidInputFormatError(
    `Image input is neither an existing file, an http(s) URL nor base64: ${truncate(input, 120)}`,
  );
}

/**
 * A view of the caller's bytes, not a copy (a frame's copy cost as much as its base64): they are
 * only read, and, as with socket.write or fs.write, must not change until the call settles.
 */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function stripDataUri(value: string): string {
  return value.replace(DATA_URI, '');
}

async function readImageFile(path: string, fileBaseDir: string | undefined): Promise<Buffer | undefined> {
  if (path.length > MAX_PATH_LENGTH || path.includes('\n')) return undefined;
  const candidate = fileBaseDir ? resolvePath(fileBaseDir, path) : path;
  const real = await realpath(candidate).catch(() => undefined);
  if (!real) return undefined;
  if (fileBaseDir) {
    const base = await realpath(fileBaseDir).catch(() => resolvePath(fileBaseDir));
    if (real !== base && !real.startsWith(base + sep)) {
      throw new InvalidInputFormatError(`Image file '${path}' is outside the allowed folder.`);
    }
  }
  const info = await stat(real);
  if (!info.isFile()) throw new InvalidInputFormatError(`Image path '${path}' is not a file.`);
  if (info.size === 0) throw new InvalidInputFormatError(`Image file '${path}' is empty (0 bytes).`);
  return readFile(real);
}

async function downloadImage(rawUrl: string, sources: ImageSources, signal: AbortSignal | undefined): Promise<Buffer> {
  const policy = sources.urlPolicy;
  let url = checkImageUrl(rawUrl, policy);
  // One signal for the whole redirect chain: the caller's abort, the client closing or the download deadline.
  const download = new AbortController();
  const timer = setTimeout(() => download.abort(), policy.downloadTimeoutMs);
  const stoppers = [signal, sources.closed].filter((stopper) => stopper !== undefined);
  const stop = (event: Event) => download.abort((event.target as AbortSignal).reason);
  for (const stopper of stoppers) {
    if (stopper.aborted) download.abort(stopper.reason);
    else stopper.addEventListener('abort', stop, { once: true });
  }
  try {
    for (let hop = 0; hop <= policy.maxRedirects; hop += 1) {
      const response = await request(url, { method: 'GET', dispatcher: sources.downloadAgent, signal: download.signal });
      const location = response.headers.location;
      if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
        await response.body.dump();
        url = checkImageUrl(new URL(location, url).href, policy);
        continue;
      }
      if (response.statusCode >= 400) {
        const text = truncate((await response.body.text().catch(() => '')).trim(), 200);
        throw new HTTPCallErrorError(
          `${response.statusCode} error downloading image for url: ${maskApiKey(url.href)}`,
          response.statusCode,
          text || null,
        );
      }
      return await readCapped(response.body, response.headers['content-length'], policy.maxDownloadBytes, url);
    }
    throw new HTTPClientError(`Could not load image from URL. Details: more than ${policy.maxRedirects} redirects.`);
  } catch (error) {
    if (error instanceof HTTPClientError) throw error;
    const stopped = stoppers.find((stopper) => stopper.aborted);
    if (stopped) throw stopped.reason;
    const details = download.signal.aborted ? `download timed out after ${policy.downloadTimeoutMs} ms` : describeError(error);
    throw new HTTPClientError(`Could not load image from URL. Details: ${maskApiKey(details)}`);
  } finally {
    clearTimeout(timer);
    for (const stopper of stoppers) stopper.removeEventListener('abort', stop);
  }
}

async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  contentLength: string | string[] | undefined,
  maxBytes: number,
  url: URL,
): Promise<Buffer> {
  const tooLarge = () =>
    new HTTPClientError(`Could not load image from URL. Details: ${maskApiKey(url.href)} is larger than ${maxBytes} bytes.`);
  if (typeof contentLength === 'string' && Number(contentLength) > maxBytes) {
    body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  if (total === 0) throw new InvalidInputFormatError(`The image downloaded from ${maskApiKey(url.href)} is empty.`);
  return Buffer.concat(chunks);
}

// ---- encoding and downsizing -----------------------------------------------------------------

interface Bounds {
  maxWidth: number;
  maxHeight: number;
}

function downsizingBounds(options: LoadImagesOptions): Bounds | undefined {
  if (options.maxWidth === undefined && options.maxHeight === undefined) return undefined;
  return { maxWidth: options.maxWidth ?? Infinity, maxHeight: options.maxHeight ?? Infinity };
}

/** Upstream's `determine_scaling_aspect_ratio`: the factor to shrink by, or null when it would not shrink. */
export function scalingAspectRatio(width: number, height: number, maxWidth: number, maxHeight: number): number | null {
  const ratio = Math.min(maxHeight / height, maxWidth / width);
  return ratio < 1 ? ratio : null;
}

async function encodeImage(image: LoadedImage, bounds: Bounds | undefined): Promise<EncodedImage> {
  switch (image.kind) {
    case 'raw':
      return encodeRawPixels(image.pixels, bounds);
    case 'base64':
      if (!bounds) return encoded(image.base64, null, image.canonical);
      return downsizeEncoded(Buffer.from(image.base64, 'base64'), 'base64 input', bounds, image);
    case 'bytes':
      if (!bounds) return encoded(image.bytes.toString('base64'), null);
      return downsizeEncoded(image.bytes, image.origin, bounds);
  }
}

async function downsizeEncoded(
  bytes: Buffer,
  origin: string,
  bounds: Bounds,
  given?: { base64: string; canonical: boolean },
): Promise<EncodedImage> {
  try {
    const { width, height } = await sharp(bytes, { limitInputPixels: false }).metadata();
    if (!width || !height) throw new Error('unknown image dimensions');
    checkPixelCount(width, height, origin);
    const ratio = scalingAspectRatio(width, height, bounds.maxWidth, bounds.maxHeight);
    if (ratio === null) return given ? encoded(given.base64, null, given.canonical) : encoded(bytes.toString('base64'), null);
    // EXIF kept so the server still auto-orients a phone photo as it would the original
    // (upstream's OpenCV re-encode drops the orientation and the server then sees it sideways).
    const resized = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS })
      .resize(Math.round(width * ratio), Math.round(height * ratio), { fit: 'fill' })
      .keepExif()
      .jpeg({ quality: JPEG_QUALITY })
      .toBuffer();
    return encoded(resized.toString('base64'), ratio);
  } catch (error) {
    throw asEncodingError(error, origin);
  }
}

async function encodeRawPixels(pixels: RawPixels, bounds: Bounds | undefined): Promise<EncodedImage> {
  const { width, height, channels } = pixels;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || ![1, 2, 3, 4].includes(channels)) {
    throw new InvalidInputFormatError(`Invalid raw pixel dimensions ${width}x${height}x${channels}.`);
  }
  if (pixels.data.length !== width * height * channels) {
    throw new InvalidInputFormatError(
      `Raw pixel data has ${pixels.data.length} bytes; ${width}x${height}x${channels} needs ${width * height * channels}.`,
    );
  }
  checkPixelCount(width, height, 'raw pixels');
  const ratio = bounds ? scalingAspectRatio(width, height, bounds.maxWidth, bounds.maxHeight) : null;
  try {
    let pipeline = sharp(pixels.data, { raw: { width, height, channels }, limitInputPixels: MAX_INPUT_PIXELS });
    if (ratio !== null) pipeline = pipeline.resize(Math.round(width * ratio), Math.round(height * ratio), { fit: 'fill' });
    const jpeg = await pipeline.jpeg({ quality: JPEG_QUALITY }).toBuffer();
    return encoded(jpeg.toString('base64'), ratio);
  } catch (error) {
    throw asEncodingError(error, 'raw pixels');
  }
}

function checkPixelCount(width: number, height: number, origin: string): void {
  if (width * height > MAX_INPUT_PIXELS) {
    throw new EncodingError(
      `Image from ${origin} is ${width}x${height} (${Math.round((width * height) / 1e6)} megapixels); ` +
        `the limit is ${MAX_INPUT_PIXELS / 1e6} megapixels.`,
    );
  }
}

function asEncodingError(error: unknown, origin: string): Error {
  if (error instanceof HTTPClientError) return error;
  return new EncodingError(`Could not decode image from ${truncate(origin, 120)}: ${describeError(error)}`);
}

// ---- rescaling predictions -------------------------------------------------------------------

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scaleBox(item: Json, factor: number, keys: readonly string[]): Json {
  const scaled: Json = { ...item };
  for (const key of keys) if (typeof item[key] === 'number') scaled[key] = (item[key] as number) / factor;
  return scaled;
}

const BOX_KEYS = ['x', 'y', 'width', 'height'] as const;
const POINT_KEYS = ['x', 'y'] as const;

/**
 * Upstream's `adjust_prediction_to_client_scaling_factor`: maps a result for an image downsized by
 * `factor` back to the caller's image. Stubs and classification results keep their predictions;
 * the shape is picked from the first prediction, as upstream does.
 */
export function rescalePrediction<T>(prediction: T, factor: number | null): T {
  if (factor === null || !isRecord(prediction) || prediction.is_stub) return prediction;
  const result: Json = { ...prediction };
  const image = prediction.image;
  if (isRecord(image) && typeof image.width === 'number' && typeof image.height === 'number') {
    result.image = { width: Math.round(image.width / factor), height: Math.round(image.height / factor) };
  }
  const predictions = prediction.predictions;
  if (!Array.isArray(predictions) || predictions.length === 0 || !isRecord(predictions[0])) return result as T;
  const first = predictions[0];
  const pointsKey = 'points' in first ? 'points' : 'keypoints' in first ? 'keypoints' : undefined;
  if (!pointsKey && !('x' in first && 'y' in first)) return result as T;
  result.predictions = predictions.map((item: unknown) => {
    if (!isRecord(item)) return item;
    const scaled = scaleBox(item, factor, BOX_KEYS);
    const points = item[pointsKey ?? ''];
    if (pointsKey && Array.isArray(points)) {
      scaled[pointsKey] = points.map((point: unknown) => (isRecord(point) ? scaleBox(point, factor, POINT_KEYS) : point));
    }
    return scaled;
  });
  return result as T;
}

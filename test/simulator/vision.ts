// The simulator's "model": decodes request images with sharp and finds the strongly coloured
// regions that test/fixtures/images.ts draws. Everything here is deterministic.
import { readFile } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { COLOURS, type ColourName } from '../fixtures/images';
import { HttpError, MESSAGES, isRecord, messageError } from './http';

export const COLOUR_NAMES = Object.keys(COLOURS) as ColourName[];

/** Base confidence per colour, so confidence thresholds can keep some colours and drop others. */
export const COLOUR_CONFIDENCE: Record<ColourName, number> = { red: 0.95, green: 0.85, blue: 0.75, yellow: 0.65 };

/** Squared RGB distance under which a pixel counts as one of the reference colours. */
const MATCH_DISTANCE_SQUARED = 60 * 60;
/** Fewer matching pixels than this is JPEG noise, not an object. */
const MIN_REGION_PIXELS = 16;
/** Max minus min channel below which a pixel is too grey to be near any reference colour. */
const MIN_SATURATION_SPREAD = 80;

export interface ColourRegion {
  colour: ColourName;
  colourIndex: number;
  /** Inclusive pixel bounds. */
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  pixelCount: number;
}

export interface DecodedImage {
  width: number;
  height: number;
  /** Raw RGB pixels, as decoded (auto-oriented unless disabled). */
  pixels: Buffer;
  regions: ColourRegion[];
  /** Mean of each RGB channel, 0..255. */
  meanColour: [number, number, number];
}

export interface DecodeOptions {
  disableAutoOrient?: boolean;
}

/** Decodes one `InferenceRequestImage`, with the real server's 400s for unusable images. */
export async function decodeImageObject(image: unknown, options: DecodeOptions = {}): Promise<DecodedImage> {
  if (!isRecord(image) || typeof image.type !== 'string') throw messageError(400, MESSAGES.badImageType);
  const bytes = await imageBytes(image.type.toLowerCase(), image.value);
  return decodeImageBytes(bytes, options);
}

async function imageBytes(type: string, value: unknown): Promise<Buffer> {
  switch (type) {
    case 'base64': {
      if (typeof value !== 'string' || value.length === 0) throw loadError('Malformed base64 input image.');
      const payload = value.replace(/^data:image\/[a-z0-9.+-]+;base64,/i, '');
      if (!/^[A-Za-z0-9+/=\s_-]+$/.test(payload)) throw loadError('Malformed base64 input image.');
      return Buffer.from(payload, 'base64');
    }
    case 'url':
      if (typeof value !== 'string' || !value.startsWith('https://')) {
        throw loadError('Providing images via non https:// URL is not supported in this configuration of `inference`.');
      }
      throw loadError('Error while loading image from url.');
    case 'file':
      if (typeof value !== 'string') throw loadError('Could not load image from file.');
      return readFile(value).catch(() => {
        throw loadError('Could not load image from file.');
      });
    case 'numpy':
    case 'numpy_object':
      throw loadError('Loading images from numpy arrays is disabled.');
    case 'pil':
    case 'multipart':
      throw loadError(`Image type ${type} is not supported in requests over HTTP.`);
    default:
      throw messageError(400, MESSAGES.badImageType);
  }
}

export function loadError(cause: string): HttpError {
  return messageError(400, `Could not load input image. Cause: ${cause}`);
}

export async function decodeImageBytes(bytes: Buffer, options: DecodeOptions = {}): Promise<DecodedImage> {
  if (bytes.length === 0) throw loadError('Malformed base64 input image.');
  try {
    const oriented = options.disableAutoOrient ? sharp(bytes) : sharp(bytes).rotate();
    const { data, info } = await oriented.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, pixels: data, ...scanPixels(data, info.width, info.height) };
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw loadError('Malformed base64 input image.');
  }
}

/** One pass over the pixels: colour regions and the mean colour. */
function scanPixels(pixels: Buffer, width: number, height: number): Pick<DecodedImage, 'regions' | 'meanColour'> {
  const references = COLOUR_NAMES.map((name) => COLOURS[name]);
  const regions: ColourRegion[] = COLOUR_NAMES.map((colour, colourIndex) => ({
    colour,
    colourIndex,
    minX: width,
    minY: height,
    maxX: -1,
    maxY: -1,
    pixelCount: 0,
  }));
  const sums = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      const r = pixels[offset];
      const g = pixels[offset + 1];
      const b = pixels[offset + 2];
      sums[0] += r;
      sums[1] += g;
      sums[2] += b;
      // Every reference colour is strongly saturated; greyish pixels cannot match any of them.
      if (Math.max(r, g, b) - Math.min(r, g, b) < MIN_SATURATION_SPREAD) continue;
      const match = nearestReference(r, g, b, references);
      if (match < 0) continue;
      const region = regions[match];
      region.pixelCount++;
      if (x < region.minX) region.minX = x;
      if (x > region.maxX) region.maxX = x;
      if (y < region.minY) region.minY = y;
      if (y > region.maxY) region.maxY = y;
    }
  }
  const count = Math.max(1, width * height);
  return {
    regions: regions.filter((region) => region.pixelCount >= MIN_REGION_PIXELS),
    meanColour: [sums[0] / count, sums[1] / count, sums[2] / count],
  };
}

function nearestReference(r: number, g: number, b: number, references: { r: number; g: number; b: number }[]): number {
  let best = -1;
  let bestDistance = MATCH_DISTANCE_SQUARED;
  for (let index = 0; index < references.length; index++) {
    const reference = references[index];
    const distance = (r - reference.r) ** 2 + (g - reference.g) ** 2 + (b - reference.b) ** 2;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = index;
    }
  }
  return best;
}

export function regionBox(region: ColourRegion): { x: number; y: number; width: number; height: number } {
  const width = region.maxX - region.minX + 1;
  const height = region.maxY - region.minY + 1;
  return { x: region.minX + width / 2, y: region.minY + height / 2, width, height };
}

/** How much of the region's bounding box its colour fills, 0..1. */
export function regionFill(region: ColourRegion): number {
  const { width, height } = regionBox(region);
  return Math.min(1, region.pixelCount / (width * height));
}

export function regionConfidence(region: ColourRegion): number {
  return round(COLOUR_CONFIDENCE[region.colour] * (0.9 + 0.1 * regionFill(region)), 4);
}

/** Regions sorted by pixel count, largest first. */
export function dominantRegions(image: DecodedImage): ColourRegion[] {
  return [...image.regions].sort((a, b) => b.pixelCount - a.pixelCount);
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export interface DrawnBox {
  x: number;
  y: number;
  width: number;
  height: number;
  colour?: ColourName;
}

/** A base64 JPEG of the image with each box outlined, as the server's `visualization`. */
export async function visualise(image: DecodedImage, boxes: DrawnBox[], strokeWidth = 1): Promise<Buffer> {
  const rectangles = boxes
    .map((box) => {
      const stroke = box.colour ? COLOURS[box.colour] : { r: 255, g: 0, b: 255 };
      const position = `x="${box.x - box.width / 2}" y="${box.y - box.height / 2}" width="${box.width}" height="${box.height}"`;
      const outline = `stroke="rgb(${stroke.r},${stroke.g},${stroke.b})" stroke-width="${Math.max(1, strokeWidth) * 2}"`;
      return `<rect ${position} fill="none" ${outline}/>`;
    })
    .join('');
  const overlay = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${image.height}">${rectangles}</svg>`,
  );
  return rawSharp(image)
    .composite([{ input: overlay, left: 0, top: 0 }])
    .jpeg({ quality: 85 })
    .toBuffer();
}

export function encodeJpeg(image: DecodedImage): Promise<Buffer> {
  return rawSharp(image).jpeg({ quality: 90 }).toBuffer();
}

function rawSharp(image: DecodedImage): Sharp {
  return sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } });
}

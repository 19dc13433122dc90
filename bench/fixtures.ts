// Images and names the scenarios share.
import sharp from 'sharp';
import { InferenceConfiguration, InferenceHTTPClient, type InferenceConfigurationOptions } from '../src/core';
import { COLOURS, type ColourName } from '../test/fixtures/images';

export const DETECTION_MODEL = 'shapes/1';
/** Any non-empty key: the simulator accepts it, and it proves nothing leaks into output. */
export const BENCH_API_KEY = 'bench-not-a-real-key';

/**
 * The key in request bodies ('legacy'), as the raw POSTs beside the client send it and as the
 * bench's server node is set up (flows.ts); stating it also keeps the guidance warning away.
 */
export function benchConfiguration(options: InferenceConfigurationOptions = {}): InferenceConfiguration {
  return new InferenceConfiguration({ apiKeyTransport: 'legacy', ...options });
}

export function benchClient(url: string): InferenceHTTPClient {
  return new InferenceHTTPClient(url, BENCH_API_KEY).configure(benchConfiguration());
}

const BOXES: ReadonlyArray<{ colour: ColourName; left: number; top: number }> = [
  { colour: 'red', left: 0.1, top: 0.1 },
  { colour: 'green', left: 0.6, top: 0.1 },
  { colour: 'blue', left: 0.1, top: 0.6 },
  { colour: 'yellow', left: 0.6, top: 0.6 },
];

/**
 * A camera-like JPEG (quality 85) with four coloured boxes the simulator detects. The background
 * is softened grey noise so the file is as large as a real frame (about 44 KB at 640x480); a
 * flat test card would be a few KB and flatter every encoding cost.
 */
export async function benchImage(width: number, height: number): Promise<Buffer> {
  const noise = await sharp({
    create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 }, noise: { type: 'gaussian', mean: 128, sigma: 15 } },
  })
    .raw()
    .toBuffer();
  const boxWidth = Math.round(0.15 * width);
  const boxHeight = Math.round(0.2 * height);
  const overlays = await Promise.all(
    BOXES.map(async (box) => ({
      input: await sharp({ create: { width: boxWidth, height: boxHeight, channels: 3, background: COLOURS[box.colour] } }).png().toBuffer(),
      left: Math.round(box.left * width),
      top: Math.round(box.top * height),
    })),
  );
  return sharp(noise, { raw: { width, height, channels: 3 } }).blur(0.8).composite(overlays).jpeg({ quality: 85 }).toBuffer();
}

// Images and names the scenarios share.
import { makeImage } from '../test/fixtures/images';

export const DETECTION_MODEL = 'shapes/1';
/** Any non-empty key: the simulator accepts it, and it proves nothing leaks into output. */
export const BENCH_API_KEY = 'bench-not-a-real-key';

/** A JPEG of the given size with four coloured boxes, so every answer carries four predictions. */
export function benchImage(width: number, height: number): Promise<Buffer> {
  const box = (colour: 'red' | 'green' | 'blue' | 'yellow', left: number, top: number) => ({
    colour,
    left: Math.round(left * width),
    top: Math.round(top * height),
    width: Math.round(0.15 * width),
    height: Math.round(0.2 * height),
  });
  return makeImage({
    width,
    height,
    boxes: [box('red', 0.1, 0.1), box('green', 0.6, 0.1), box('blue', 0.1, 0.6), box('yellow', 0.6, 0.6)],
  });
}

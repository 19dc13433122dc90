// Scenario 1: how close a batch of images gets to `in-flight requests / server latency`.
import { DETECTION_ROUTE, detectionPayload, replayDetection } from '../answers';
import { DETECTION_MODEL, benchClient, benchConfiguration, benchImage } from '../fixtures';
import { rawPostWindow } from '../rawPosts';
import { RemoteSimulator } from '../remoteSimulator';
import type { Row } from '../report';
import { sized, type BenchOptions, type Scenario } from '../scenario';
import { measure } from '../stats';

const LATENCY_MS = 50;
const CONCURRENCIES = [1, 4, 8, 16];
const BATCH_SIZES = [1, 4];
/** The one configuration also run with the simulator analysing every image, for contrast. */
const ANALYSED_CONCURRENCY = 8;
const ANALYSED_IMAGES = 100;
const RAW_IMAGES = 100;

/**
 * The best a sliding window can do: every request takes exactly the latency and the window is
 * always full, so `requests / concurrency` rounds of `latency` (the last round may be partial).
 */
export function idealImagesPerSecond(images: number, batchSize: number, concurrency: number, latencyMs: number): number {
  const requests = Math.ceil(images / batchSize);
  const rounds = Math.ceil(requests / concurrency);
  return images / ((rounds * latencyMs) / 1000);
}

/**
 * The share of the ideal that raw POSTs of the same batches reach at the same concurrency (see
 * rawPosts.ts), over at most RAW_IMAGES images to keep the run short.
 */
async function rawShareOfIdeal(url: string, image: Buffer, imageCount: number, batchSize: number, concurrency: number): Promise<number> {
  const count = Math.min(imageCount, RAW_IMAGES);
  const payload = detectionPayload(image);
  const body = JSON.stringify(batchSize === 1 ? payload : { ...payload, image: Array.from({ length: batchSize }, () => payload.image) });
  const wallMs = await rawPostWindow(url, DETECTION_ROUTE, body, Math.ceil(count / batchSize), concurrency);
  return count / (wallMs / 1000) / idealImagesPerSecond(count, batchSize, concurrency, LATENCY_MS);
}

async function run(options: BenchOptions): Promise<Row[]> {
  const imageCount = sized(options, { quick: 32, default: 400, long: 400 });
  const image = await benchImage(640, 480);
  const images = Array.from({ length: imageCount }, () => image);
  const simulator = await RemoteSimulator.start({ latencyMs: LATENCY_MS, preloaded: [DETECTION_MODEL] });
  const client = benchClient(simulator.url);
  const rows: Row[] = [];
  const measureOne = async (count: number, batchSize: number, concurrency: number, figure: string, analysed = false) => {
    const batch = images.slice(0, count);
    client.configure(benchConfiguration({ maxConcurrentRequests: concurrency, maxBatchSize: batchSize }));
    // Warm-up: opens the pool's connections and caches the model description.
    await client.infer(images.slice(0, concurrency * batchSize), DETECTION_MODEL);
    const { wallMs } = await measure(() => client.infer(batch, DETECTION_MODEL));
    const value = count / (wallMs / 1000);
    const ideal = idealImagesPerSecond(count, batchSize, concurrency, LATENCY_MS);
    const rawShare = await rawShareOfIdeal(simulator.url, image, count, batchSize, concurrency);
    options.progress(`  ${figure}: ${value.toFixed(1)} img/s, ${(value / ideal).toFixed(2)} of ideal (raw POSTs ${rawShare.toFixed(2)})`);
    const rawNote = `raw POSTs reach ${rawShare.toFixed(2)} of ideal`;
    rows.push({
      scenario: '1 concurrency',
      figure,
      value,
      unit: 'img/s',
      ideal,
      target: concurrency <= 8 && !analysed ? 'ratio >= 0.95' : undefined,
      note: analysed ? `bound by the simulator's own CPU; ${rawNote}` : rawNote,
    });
  };
  try {
    for (const batchSize of BATCH_SIZES) {
      await simulator.clearFaults();
      await replayDetection(simulator, image, batchSize);
      for (const concurrency of CONCURRENCIES) {
        await measureOne(imageCount, batchSize, concurrency, `${imageCount} images, batch ${batchSize}, ${concurrency} in flight`);
      }
    }
    await simulator.clearFaults();
    const analysedCount = Math.min(imageCount, ANALYSED_IMAGES);
    await measureOne(
      analysedCount,
      1,
      ANALYSED_CONCURRENCY,
      `${analysedCount} images, batch 1, ${ANALYSED_CONCURRENCY} in flight, simulator analysing each image`,
      true,
    );
  } finally {
    await client.close();
    await simulator.stop();
  }
  return rows;
}

export const concurrencyScenario: Scenario = { name: 'concurrency', run };

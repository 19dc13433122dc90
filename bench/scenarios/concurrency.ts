// Scenario 1: how close a batch of images gets to `in-flight requests / server latency`.
import { InferenceConfiguration, InferenceHTTPClient } from '../../src/core';
import { replayDetection } from '../answers';
import { BENCH_API_KEY, DETECTION_MODEL, benchImage } from '../fixtures';
import { RemoteSimulator } from '../remoteSimulator';
import type { Row } from '../report';
import { sized, type BenchOptions, type Scenario } from '../scenario';
import { measure } from '../stats';

const LATENCY_MS = 50;
const CONCURRENCIES = [1, 4, 8, 16];
const BATCH_SIZES = [1, 4];
/** The one configuration also run with the simulator analysing every image, for contrast. */
const ANALYSED_CONCURRENCY = 8;

/**
 * The best a sliding window can do: every request takes exactly the latency and the window is
 * always full, so `requests / concurrency` rounds of `latency` (the last round may be partial).
 */
export function idealImagesPerSecond(images: number, batchSize: number, concurrency: number, latencyMs: number): number {
  const requests = Math.ceil(images / batchSize);
  const rounds = Math.ceil(requests / concurrency);
  return images / ((rounds * latencyMs) / 1000);
}

async function run(options: BenchOptions): Promise<Row[]> {
  const imageCount = sized(options, { quick: 32, default: 400, long: 400 });
  const image = await benchImage(640, 480);
  const images = Array.from({ length: imageCount }, () => image);
  const simulator = await RemoteSimulator.start({ latencyMs: LATENCY_MS, preloaded: [DETECTION_MODEL] });
  const client = new InferenceHTTPClient(simulator.url, BENCH_API_KEY);
  const rows: Row[] = [];
  const measureOne = async (batchSize: number, concurrency: number, figure: string, note?: string) => {
    client.configure(new InferenceConfiguration({ maxConcurrentRequests: concurrency, maxBatchSize: batchSize }));
    // Warm-up: opens the pool's connections and caches the model description.
    await client.infer(images.slice(0, concurrency * batchSize), DETECTION_MODEL);
    const { wallMs } = await measure(() => client.infer(images, DETECTION_MODEL));
    const value = imageCount / (wallMs / 1000);
    options.progress(`  ${figure}: ${value.toFixed(1)} img/s`);
    rows.push({
      scenario: '1 concurrency',
      figure,
      value,
      unit: 'img/s',
      ideal: idealImagesPerSecond(imageCount, batchSize, concurrency, LATENCY_MS),
      target: concurrency <= 8 && !note ? 'ratio >= 0.95' : undefined,
      note,
    });
  };
  try {
    for (const batchSize of BATCH_SIZES) {
      await simulator.clearFaults();
      await replayDetection(simulator, image, batchSize);
      for (const concurrency of CONCURRENCIES) {
        await measureOne(batchSize, concurrency, `${imageCount} images, batch ${batchSize}, ${concurrency} in flight`);
      }
    }
    await simulator.clearFaults();
    await measureOne(
      1,
      ANALYSED_CONCURRENCY,
      `same, batch 1, ${ANALYSED_CONCURRENCY} in flight, simulator analysing each image`,
      "bound by the simulator's own CPU, not the client",
    );
  } finally {
    await client.close();
    await simulator.stop();
  }
  return rows;
}

export const concurrencyScenario: Scenario = { name: 'concurrency', run };

// Scenario 4: a 30 fps 1280x720 camera through roboflow-stream-source and roboflow-infer
// (policy latest, 2 in flight) into a 100 ms server: throughput, drops, result age, memory.
import { replayDetection } from '../answers';
import { CameraPipeline } from '../cameraPipeline';
import { DETECTION_MODEL, benchImage } from '../fixtures';
import { RemoteSimulator } from '../remoteSimulator';
import type { Row } from '../report';
import { sized, type BenchOptions, type Scenario } from '../scenario';
import { mean, percentile, sleep } from '../stats';

const LATENCY_MS = 100;
const FPS = 30;
const MAX_IN_FLIGHT = 2;
const SETTLE_TIMEOUT_MS = 10_000;

/** Mean of the first and of the last third of the samples: growth shows as a ratio above 1. */
export function firstAndLastThird(samples: readonly number[]): { first: number | null; last: number | null } {
  const third = Math.max(1, Math.floor(samples.length / 3));
  return { first: mean(samples.slice(0, third)), last: mean(samples.slice(-third)) };
}

async function run(options: BenchOptions): Promise<Row[]> {
  const durationMs = sized(options, { quick: 12_000, default: 180_000, long: 1_800_000 });
  const rssIntervalMs = sized(options, { quick: 2_000, default: 10_000, long: 10_000 });
  const simulator = await RemoteSimulator.start({ latencyMs: LATENCY_MS, preloaded: [DETECTION_MODEL] });
  let pipeline: CameraPipeline | undefined;
  try {
    await replayDetection(simulator, await benchImage(1280, 720));
    pipeline = await CameraPipeline.start(
      { serverUrl: simulator.url, width: 1280, height: 720, fps: FPS, maxInFlight: MAX_IN_FLIGHT },
      rssIntervalMs,
    );
    const startedAt = Date.now();
    await sleep(durationMs);
    const seconds = (Date.now() - startedAt) / 1000;
    await pipeline.stopCamera(SETTLE_TIMEOUT_MS);
    const { frames, results, errors, completes } = pipeline.counts;
    const dropped = completes - results;
    const idealResults = Math.min(FPS, (MAX_IN_FLIGHT * 1000) / LATENCY_MS);
    const rss = firstAndLastThird(pipeline.rssSamples);
    const scenario = '4 camera';
    const label = `${FPS} fps 1280x720, latest, ${MAX_IN_FLIGHT} in flight, ${LATENCY_MS} ms server, ${Math.round(durationMs / 1000)} s`;
    options.progress(`  frames ${frames}, results ${results}, dropped ${dropped}, errors ${errors}, unsettled ${pipeline.unsettled}`);
    return [
      { scenario, figure: `frames from the source (${label})`, value: frames / seconds, unit: 'fps', ideal: FPS },
      { scenario, figure: 'delivered results', value: results / seconds, unit: 'res/s', ideal: idealResults },
      { scenario, figure: 'dropped frames (policy latest)', value: dropped / seconds, unit: 'fps', ideal: FPS - idealResults },
      { scenario, figure: 'errors', value: errors, unit: '', ideal: 0 },
      { scenario, figure: 'infer call time p50, as the node reports it (floor: server latency)', value: percentile(pipeline.callTimes, 0.5), unit: 'ms', ideal: LATENCY_MS },
      { scenario, figure: 'result frame age p50 (floor: server latency)', value: percentile(pipeline.ages, 0.5), unit: 'ms', ideal: LATENCY_MS },
      {
        scenario,
        figure: 'result frame age p95 (floor: server latency)',
        value: percentile(pipeline.ages, 0.95),
        unit: 'ms',
        ideal: LATENCY_MS,
        target: `< ${2 * LATENCY_MS + 50} ms`,
      },
      { scenario, figure: `RSS, mean of the last third of ${pipeline.rssSamples.length} samples (vs. first third)`, value: rss.last, unit: 'MB', ideal: rss.first, target: 'ratio <= 1.10' },
    ];
  } finally {
    await pipeline?.stop();
    await simulator.stop();
  }
}

export const cameraScenario: Scenario = { name: 'camera', run };

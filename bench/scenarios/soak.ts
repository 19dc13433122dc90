// Scenario 7 (`--soak N`): the camera pipeline for N minutes while the server misbehaves at
// random: 503 bursts, connection resets, requests that never answer, stalled and malformed
// bodies, and outright restarts. Every frame must end as a result, an error or a counted drop.
import type { Fault } from '../../test/simulator';
import { CameraPipeline } from '../cameraPipeline';
import { DETECTION_MODEL } from '../fixtures';
import { RemoteSimulator } from '../remoteSimulator';
import type { Row } from '../report';
import type { BenchOptions, Scenario } from '../scenario';
import { mean, sleep } from '../stats';
import { firstAndLastThird } from './camera';

const LATENCY_MS = 50;
const FPS = 15;
const REQUEST_TIMEOUT_MS = 2_000;
const MEAN_FAULT_INTERVAL_MS = 8_000;
/** Long enough for a request to exhaust its retries after timeouts. */
const SETTLE_TIMEOUT_MS = 30_000;
const RSS_INTERVAL_MS = 10_000;
const SEED = 20261127;
const INFER_ROUTE = '/infer/*';

type FaultKind = '503 burst' | 'reset' | 'no response' | 'stalled body' | 'slow answer' | 'malformed JSON' | 'restart';
const FAULT_KINDS: readonly FaultKind[] = ['503 burst', 'reset', 'no response', 'stalled body', 'slow answer', 'malformed JSON', 'restart'];

/** mulberry32: a seeded generator, so two soak runs inject the same faults. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function faultFor(kind: Exclude<FaultKind, 'restart'>, count: number): Fault {
  switch (kind) {
    case '503 burst':
      return { route: INFER_ROUTE, status: 503, count: count * 5, body: { message: 'Service Unavailable' } };
    case 'reset':
      return { route: INFER_ROUTE, kind: 'reset', count };
    case 'no response':
      return { route: INFER_ROUTE, kind: 'no-response', count };
    case 'stalled body':
      return { route: INFER_ROUTE, kind: 'stall-body', count };
    case 'slow answer':
      return { route: INFER_ROUTE, latencyMs: REQUEST_TIMEOUT_MS * 2, count };
    case 'malformed JSON':
      return { route: INFER_ROUTE, kind: 'malformed-json', count };
  }
}

/** Tracks streaks of errors and how long the pipeline took to deliver a result again. */
class RecoveryTracker {
  recoveries = 0;
  readonly recoveryTimesMs: number[] = [];
  private failingSince: number | undefined;

  observe(outcome: 'result' | 'error'): void {
    if (outcome === 'error') {
      this.failingSince ??= Date.now();
      return;
    }
    if (this.failingSince === undefined) return;
    this.recoveries += 1;
    this.recoveryTimesMs.push(Date.now() - this.failingSince);
    this.failingSince = undefined;
  }
}

async function injectFaults(simulator: RemoteSimulator, until: number, injected: Map<FaultKind, number>, progress: (line: string) => void): Promise<void> {
  const random = seededRandom(SEED);
  while (true) {
    // Exponential gaps: faults arrive as a Poisson process, sometimes back to back.
    const gap = -Math.log(1 - random()) * MEAN_FAULT_INTERVAL_MS;
    if (Date.now() + gap >= until) return;
    await sleep(gap);
    const kind = FAULT_KINDS[Math.floor(random() * FAULT_KINDS.length)];
    const count = 1 + Math.floor(random() * 4);
    injected.set(kind, (injected.get(kind) ?? 0) + 1);
    progress(`  soak: ${kind}${kind === 'restart' ? '' : ` x${count}`}`);
    if (kind === 'restart') await simulator.restart(Math.round(200 + random() * 2_800));
    else await simulator.inject(faultFor(kind, count));
  }
}

async function run(options: BenchOptions): Promise<Row[]> {
  const durationMs = options.soakMinutes * 60_000;
  const simulator = await RemoteSimulator.start({ latencyMs: LATENCY_MS, preloaded: [DETECTION_MODEL] });
  const injected = new Map<FaultKind, number>();
  const tracker = new RecoveryTracker();
  let pipeline: CameraPipeline | undefined;
  try {
    pipeline = await CameraPipeline.start(
      { serverUrl: simulator.url, width: 640, height: 480, fps: FPS, maxInFlight: 2, requestTimeoutMs: REQUEST_TIMEOUT_MS },
      RSS_INTERVAL_MS,
    );
    pipeline.onOutcome = (outcome) => tracker.observe(outcome);
    const until = Date.now() + durationMs;
    await injectFaults(simulator, until, injected, options.progress);
    await sleep(Math.max(0, until - Date.now()));
    await pipeline.stopCamera(SETTLE_TIMEOUT_MS);
    const { frames, results, errors, completes } = pipeline.counts;
    const rss = firstAndLastThird(pipeline.rssSamples);
    const faults = [...injected].map(([kind, count]) => `${kind} ${count}`).join(', ');
    const errorKinds = [...pipeline.errorMessages].sort((a, b) => b[1] - a[1]).map(([text, count]) => `${count}x ${text}`);
    options.progress(`  soak errors: ${errorKinds.join(' | ') || 'none'}`);
    const scenario = '7 soak';
    return [
      { scenario, figure: `${options.soakMinutes} min, ${FPS} fps 640x480, faults: ${faults || 'none'}`, value: frames, unit: 'frames' },
      { scenario, figure: 'results delivered', value: results, unit: 'msgs' },
      { scenario, figure: 'errors seen (Catch)', value: errors, unit: 'msgs', note: errorKinds.slice(0, 3).join('; ') },
      { scenario, figure: 'frames dropped by policy latest (Complete without output)', value: completes - results, unit: 'msgs' },
      { scenario, figure: 'recoveries (first result after errors)', value: tracker.recoveries, unit: '' },
      { scenario, figure: 'time to recover (first error to next result), mean', value: mean(tracker.recoveryTimesMs), unit: 'ms' },
      { scenario, figure: 'time to recover, worst', value: tracker.recoveryTimesMs.length ? Math.max(...tracker.recoveryTimesMs) : null, unit: 'ms' },
      { scenario, figure: 'messages lost (neither output, error nor drop)', value: pipeline.unsettled, unit: 'msgs', ideal: 0, target: 'must be 0' },
      { scenario, figure: 'RSS, last third (vs. first third)', value: rss.last, unit: 'MB', ideal: rss.first, target: 'ratio <= 1.10' },
    ];
  } finally {
    await pipeline?.stop();
    await simulator.stop();
  }
}

export const soakScenario: Scenario = { name: 'soak', run };

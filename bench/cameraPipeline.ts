// The camera flow the camera and soak scenarios run in embedded Node-RED:
//   roboflow-stream-source -> roboflow-infer (latest, 2 in flight) -> results
// with taps on every frame the source emits, a Catch and a Complete node scoped to the infer
// node, so every frame can be accounted for: it produced a result, an error or was dropped.
import { BENCH_API_KEY } from './fixtures';
import { inferNode, serverNode, SERVER_ID } from './flows';
import { embeddedNodeRed, sink, type EmbeddedNodeRed, type FlowNode } from './nodeRed';
import { rssMegabytes } from './stats';

export interface CameraPipelineOptions {
  serverUrl: string;
  width: number;
  height: number;
  fps: number;
  maxInFlight: number;
  /** The client's per-request timeout; the soak uses a short one so stalls turn into errors. */
  requestTimeoutMs?: number;
}

export interface PipelineCounts {
  frames: number;
  results: number;
  errors: number;
  /** Complete fires for results and for frames the overflow policy dropped; never for errors. */
  completes: number;
}

function cameraFlow(options: CameraPipelineOptions): FlowNode[] {
  return [
    serverNode(options.serverUrl, options.requestTimeoutMs ? { requestTimeoutMs: String(options.requestTimeoutMs) } : {}),
    {
      id: 'camera',
      type: 'roboflow-stream-source',
      sourceType: 'lavfi',
      source: `testsrc=size=${options.width}x${options.height}:rate=${options.fps}`,
      startOnDeploy: true,
      maxFps: String(options.fps),
      quality: '80',
      realtime: true,
      wires: [['infer', 'frames']],
    },
    sink('frames'),
    inferNode('infer', { maxInFlight: options.maxInFlight, overflow: 'latest', wires: [['results']] }),
    sink('results'),
    { id: 'error-watch', type: 'catch', scope: ['infer'], uncaught: false, wires: [['errors']] },
    sink('errors'),
    { id: 'done-watch', type: 'complete', scope: ['infer'], uncaught: false, wires: [['completes']] },
    sink('completes'),
  ];
}

/** When the frame was captured (ms since the epoch), as the stream source stamps it. */
export function frameTimestamp(msg: Record<string, unknown>): number | undefined {
  const frame = msg.frame as { timestamp?: unknown } | undefined;
  return typeof frame?.timestamp === 'number' ? frame.timestamp : undefined;
}

export class CameraPipeline {
  readonly counts: PipelineCounts = { frames: 0, results: 0, errors: 0, completes: 0 };
  /** Age of each result's frame when the result arrived, in ms. */
  readonly ages: number[] = [];
  /** How long each result's `client.infer` call took, as the infer node reports it, in ms. */
  readonly callTimes: number[] = [];
  readonly rssSamples: number[] = [];
  readonly errorMessages = new Map<string, number>();
  /** Called for every result and every error, in arrival order. */
  onOutcome: (outcome: 'result' | 'error') => void = () => undefined;
  private sampler: NodeJS.Timeout | undefined;

  private constructor(private readonly red: EmbeddedNodeRed) {}

  static async start(options: CameraPipelineOptions, rssIntervalMs: number): Promise<CameraPipeline> {
    const red = await embeddedNodeRed();
    const pipeline = new CameraPipeline(red);
    await red.deploy(cameraFlow(options), { [SERVER_ID]: { apiKey: BENCH_API_KEY } });
    pipeline.listen();
    pipeline.rssSamples.push(rssMegabytes());
    pipeline.sampler = setInterval(() => pipeline.rssSamples.push(rssMegabytes()), rssIntervalMs);
    return pipeline;
  }

  private listen(): void {
    this.red.tap('frames', () => {
      this.counts.frames += 1;
    });
    this.red.tap('results', (msg) => {
      this.counts.results += 1;
      const capturedAt = frameTimestamp(msg);
      if (capturedAt !== undefined) this.ages.push(Date.now() - capturedAt);
      const callTime = (msg.inference as { timeMs?: unknown } | undefined)?.timeMs;
      if (typeof callTime === 'number') this.callTimes.push(callTime);
      this.onOutcome('result');
    });
    this.red.tap('errors', (msg) => {
      this.counts.errors += 1;
      const message = String((msg.error as { message?: unknown } | undefined)?.message ?? 'unknown');
      // Grouped by wording: URLs and numbers differ between otherwise identical errors.
      const kind = message.replace(/https?:\/\/\S+/g, '<url>').replace(/\d+(\.\d+)?/g, 'N').slice(0, 60);
      this.errorMessages.set(kind, (this.errorMessages.get(kind) ?? 0) + 1);
      this.onOutcome('error');
    });
    this.red.tap('completes', () => {
      this.counts.completes += 1;
    });
  }

  /** Frames the infer node has not yet answered for (in flight or waiting). */
  get unsettled(): number {
    return this.counts.frames - this.counts.completes - this.counts.errors;
  }

  /** Stops the camera through its control message and waits for the frames in flight to settle. */
  async stopCamera(settleTimeoutMs: number): Promise<void> {
    clearInterval(this.sampler);
    this.red.node('camera').receive({ action: 'stop' });
    const deadline = Date.now() + settleTimeoutMs;
    while (this.unsettled > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  async stop(): Promise<void> {
    clearInterval(this.sampler);
    await this.red.clear();
  }
}

// roboflow-stream-source: frames of a video file, folder, network stream, webcam or snapshot URL
// as messages, one JPEG per message. Live sources reconnect with exponential backoff and are
// restarted by a stall watchdog; files and folders end with a `msg.complete` message or loop.
// Camera logins live in the node's credentials and are added to the URL only for ffmpeg.
import { setTimeout as sleep } from 'node:timers/promises';
import { FfmpegNotFoundError, maskUrlCredentials } from '../core/ffmpeg';
import {
  DEFAULT_SNAPSHOT_INTERVAL_MS,
  FRAME_SOURCE_KINDS,
  readFrames,
  resolveSource,
  sourceName,
  type Credentials,
  type Frame,
  type FrameSourceInput,
  type FrameSourceKind,
  type FrameSourceOptions,
  type ResolvedSource,
} from '../core/frameSources';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './shared/nodeRed';
import { numberSetting } from './shared/properties';
import { StatusReporter } from './shared/status';

interface StreamSourceDef extends NodeDef {
  sourceType?: 'auto' | FrameSourceKind;
  source?: string;
  allowMsgSource?: boolean;
  startOnDeploy?: boolean;
  maxFps?: string | number;
  width?: string | number;
  height?: string | number;
  quality?: string | number;
  realtime?: boolean;
  loop?: boolean;
  snapshotInterval?: string | number;
  stallTimeout?: string | number;
  rtspTransport?: 'tcp' | 'udp';
}

type StreamSourceNode = Node<Credentials>;

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
const FPS_INTERVAL_MS = 1_000;
const DEFAULT_STALL_SECONDS = 10;
const ACTIONS = ['start', 'stop', 'restart'] as const;
type Action = (typeof ACTIONS)[number];

/** 1 s, 2 s, 4 s ... capped at 30 s, for the n-th consecutive failure (1-based). */
export function reconnectDelayMs(failures: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1));
}

class StallError extends Error {
  constructor(seconds: number) {
    super(`no frame for ${seconds} s`);
    this.name = 'StallError';
  }
}

export default function registerRoboflowStreamSource(RED: NodeAPI): void {
  function RoboflowStreamSourceNode(this: StreamSourceNode, config: StreamSourceDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = new StatusReporter(node);
    const stallSeconds = numberSetting(config.stallTimeout, DEFAULT_STALL_SECONDS, 0);
    const frameOptions: FrameSourceOptions = {
      maxFps: positiveNumber(config.maxFps),
      width: positiveNumber(config.width),
      height: positiveNumber(config.height),
      quality: positiveNumber(config.quality),
      realtime: config.realtime !== false,
      snapshotIntervalMs: positiveNumber(config.snapshotInterval),
      rtspTransport: config.rtspTransport === 'udp' ? 'udp' : 'tcp',
      ffmpegPath: (RED.settings.roboflowStreamSourceFfmpegPath as string | undefined) || undefined,
    };

    let session: { controller: AbortController; finished: Promise<void> } | undefined;
    // Start, stop and restart run one after another, so a restart never overlaps its own stop.
    let lifecycle: Promise<unknown> = Promise.resolve();
    const serially = <T>(step: () => Promise<T>): Promise<T> => {
      const next = lifecycle.then(step);
      lifecycle = next.catch(() => {});
      return next;
    };

    /** Error text with the camera login hidden, whatever form it took. */
    function mask(text: string): string {
      let masked = maskUrlCredentials(text);
      const password = node.credentials?.password;
      if (password && password.length >= 3) {
        for (const form of new Set([password, encodeURIComponent(password)])) masked = masked.split(form).join('***');
      }
      return masked;
    }

    function maskedError(error: unknown): Error {
      const masked = new Error(mask(error instanceof Error ? error.message : String(error)));
      if (error instanceof Error) masked.name = error.name;
      return masked;
    }

    function configuredSource(): FrameSourceInput {
      const location = (config.source ?? '').trim();
      if (!location) throw new Error(RED._('roboflow-stream-source.errors.noSource'));
      const kind = config.sourceType && config.sourceType !== 'auto' ? config.sourceType : undefined;
      return kind ? { kind, location } : location;
    }

    function messageSource(value: unknown): FrameSourceInput {
      if (!config.allowMsgSource) throw new Error(RED._('roboflow-stream-source.errors.msgSourceNotAllowed'));
      if (typeof value === 'string' && value.trim()) return value.trim();
      const spec = value as { kind?: unknown; location?: unknown } | null;
      if (spec && typeof spec.location === 'string' && (spec.kind === undefined || FRAME_SOURCE_KINDS.includes(spec.kind as FrameSourceKind))) {
        return { kind: spec.kind as FrameSourceKind | undefined, location: spec.location };
      }
      throw new Error(RED._('roboflow-stream-source.errors.badMsgSource'));
    }

    async function start(input: FrameSourceInput, fromMessage: boolean, trigger: NodeMessage): Promise<void> {
      const source = await resolveSource(input);
      await stop();
      const controller = new AbortController();
      // The login goes only to the configured camera, never to a URL a message supplied.
      const credentials = fromMessage ? undefined : node.credentials;
      const finished = run(source, { ...frameOptions, credentials }, controller.signal, trigger);
      session = { controller, finished };
      // A file or folder that ran to its end no longer counts as running: 'start' reads it again.
      void finished.then(() => {
        if (session?.controller === controller) session = undefined;
      });
    }

    async function stop(): Promise<void> {
      const current = session;
      session = undefined;
      if (!current) return;
      current.controller.abort();
      await current.finished;
    }

    async function run(source: ResolvedSource, options: FrameSourceOptions, signal: AbortSignal, trigger: NodeMessage): Promise<void> {
      const name = sourceName(source);
      const topic = node.name || name;
      let failures = 0;
      let framesThisSecond = 0;
      let streaming = false;
      const meter = setInterval(() => {
        if (streaming) status.success(RED._('roboflow-stream-source.status.fps', { fps: framesThisSecond }));
        framesThisSecond = 0;
      }, FPS_INTERVAL_MS);
      status.busy(RED._('roboflow-stream-source.status.connecting'));
      try {
        while (!signal.aborted) {
          const { delivered, failure } = await readOnce(source, options, signal, (frame) => {
            failures = 0;
            streaming = true;
            framesThisSecond += 1;
            node.send({
              payload: frame.data,
              topic,
              frame: { id: frame.id, timestamp: frame.timestamp, source: typeof frame.reference === 'string' ? frame.reference : name, width: frame.width, height: frame.height },
            });
          });
          streaming = false;
          if (signal.aborted) return;
          if (!source.live) {
            if (failure) return fail(failure, trigger);
            if (config.loop && delivered > 0) continue;
            node.send({ topic, complete: true, frames: delivered });
            status.success(RED._('roboflow-stream-source.status.complete', { count: delivered }));
            return;
          }
          // Retrying cannot bring back a missing ffmpeg.
          if (failure instanceof FfmpegNotFoundError) return fail(failure, trigger);
          if (failure && failures === 0) node.error(maskedError(failure), trigger);
          failures += 1;
          status.busy(RED._('roboflow-stream-source.status.reconnecting', { attempt: failures }));
          await sleep(reconnectDelayMs(failures), undefined, { signal }).catch(() => {});
        }
      } finally {
        clearInterval(meter);
      }
    }

    /** One pass over the source (one connection, for live ones); a stalled live source is aborted. */
    async function readOnce(
      source: ResolvedSource,
      options: FrameSourceOptions,
      signal: AbortSignal,
      deliver: (frame: Frame) => void,
    ): Promise<{ delivered: number; failure?: unknown }> {
      const attempt = new AbortController();
      const stallMs = stallLimitMs(source, options);
      const watchdog = stallMs > 0 ? setTimeout(() => attempt.abort(new StallError(stallMs / 1000)), stallMs) : undefined;
      let delivered = 0;
      try {
        for await (const frame of readFrames(source, { ...options, signal: AbortSignal.any([signal, attempt.signal]) })) {
          watchdog?.refresh();
          delivered += 1;
          deliver(frame);
        }
        return { delivered };
      } catch (failure) {
        return { delivered, failure };
      } finally {
        clearTimeout(watchdog);
      }
    }

    /** How long a live source may send nothing; never less than two expected frame intervals. */
    function stallLimitMs(source: ResolvedSource, options: FrameSourceOptions): number {
      if (!source.live || stallSeconds <= 0) return 0;
      const frameIntervalMs = Math.max(
        options.maxFps ? 1000 / options.maxFps : 0,
        source.kind === 'snapshot' ? (options.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS) : 0,
      );
      return Math.max(stallSeconds * 1000, 2 * frameIntervalMs);
    }

    function fail(error: unknown, trigger: NodeMessage): void {
      const masked = maskedError(error);
      status.failure(masked.message);
      node.error(masked, trigger);
    }

    function showStopped(): void {
      status.clear();
      node.status({ fill: 'grey', shape: 'ring', text: RED._('roboflow-stream-source.status.stopped') });
    }

    async function handle(msg: NodeMessage): Promise<void> {
      const action = (msg.action ?? 'start') as Action;
      if (!ACTIONS.includes(action)) throw new Error(RED._('roboflow-stream-source.errors.badAction', { action: String(msg.action) }));
      if (action === 'stop') {
        await stop();
        return showStopped();
      }
      const fromMessage = msg.source !== undefined;
      const input = fromMessage ? messageSource(msg.source) : configuredSource();
      if (action === 'start' && session && !fromMessage) return;
      await start(input, fromMessage, msg);
    }

    node.on('input', (msg, _send, done) => {
      serially(() => handle(msg)).then(
        () => done(),
        (error: unknown) => done(maskedError(error)),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      serially(stop).finally(() => {
        status.clear();
        done();
      });
    });

    if (config.startOnDeploy) {
      const trigger: NodeMessage = {};
      serially(() => start(configuredSource(), false, trigger)).catch((error: unknown) => fail(error, trigger));
    }
  }

  RED.nodes.registerType('roboflow-stream-source', RoboflowStreamSourceNode as never, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
    settings: { roboflowStreamSourceFfmpegPath: { value: '', exportable: false } },
  });
}

/** An optional positive number from an editor field; blank or invalid means "not set". */
function positiveNumber(value: unknown): number | undefined {
  const number = Number(value);
  return value === '' || value === undefined || value === null || !Number.isFinite(number) || number <= 0 ? undefined : number;
}

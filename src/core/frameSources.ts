// Frame sources: video files, folders of images, network streams (RTSP, MJPEG, HLS, ...), V4L2
// webcams, snapshot URLs polled over HTTP and lavfi test graphs. Each is an async generator of
// JPEG frames; breaking out of the loop (or aborting the signal) stops it and its ffmpeg at once.
// No source ever holds more than one undelivered frame: finite sources make ffmpeg wait for
// the consumer, live ones keep only the newest frame so memory stays flat at any camera rate.
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { request } from 'undici';
import { DEFAULT_IMAGE_EXTENSIONS } from './configuration';
import {
  DEFAULT_JPEG_QUALITY,
  type JpegImage,
  type JpegPipeOptions,
  maskUrlCredentials,
  readJpegSize,
  startJpegPipe,
} from './ffmpeg';

export type FrameSourceKind = 'file' | 'folder' | 'stream' | 'webcam' | 'snapshot' | 'lavfi';
export const FRAME_SOURCE_KINDS: readonly FrameSourceKind[] = ['file', 'folder', 'stream', 'webcam', 'snapshot', 'lavfi'];

/** A source: a path, URL, device or `lavfi:<graph>`; `kind` overrides the guess from its form. */
export type FrameSourceInput = string | { kind?: FrameSourceKind; location: string };

export interface ResolvedSource {
  kind: FrameSourceKind;
  location: string;
  /** Live sources (streams, cameras, snapshots) drop frames for a slow consumer and can be reconnected. */
  live: boolean;
}

export type BackpressurePolicy = 'pause' | 'latest';

export interface Credentials {
  username?: string;
  password?: string;
}

/** Size and quality as ffmpeg takes them; images from folders and snapshot URLs are resized and re-encoded with them too. */
export interface FrameSourceOptions extends Pick<JpegPipeOptions, 'width' | 'height' | 'quality' | 'realtime' | 'ffmpegPath'> {
  /** Frame-rate cap: ffmpeg's fps filter for videos and streams, pacing for folders. */
  maxFps?: number;
  signal?: AbortSignal;
  /** RTSP lower transport, default 'tcp' (UDP loses packets on most networks). */
  rtspTransport?: 'tcp' | 'udp';
  /** ffmpeg input format of a webcam, default 'v4l2'. */
  webcamFormat?: string;
  /** Polling period of a snapshot URL, default 1000 ms. */
  snapshotIntervalMs?: number;
  /** Folder scan extensions (case-sensitive, without dot); default the upstream list. */
  imageExtensions?: string[];
  /** Camera login, put into the URL only for ffmpeg (or sent as Basic auth for snapshots). */
  credentials?: Credentials;
  /** Override of the per-kind default: 'pause' for files and folders, 'latest' for live sources. */
  backpressure?: BackpressurePolicy;
}

export interface Frame {
  /** 0-based index of the frame produced by the source (gaps mean frames were dropped). */
  id: number;
  /** The frame index for videos and streams, the file path for folders. */
  reference: number | string;
  /** Milliseconds since the epoch when the frame was produced. */
  timestamp: number;
  width: number;
  height: number;
  /** The JPEG. */
  data: Buffer;
}

export const DEFAULT_SNAPSHOT_INTERVAL_MS = 1_000;
const LAVFI_PREFIX = 'lavfi:';

/** Works out what a source string is: lavfi graph, stream URL, webcam device, folder or file. */
export async function resolveSource(input: FrameSourceInput): Promise<ResolvedSource> {
  const { kind, location } = typeof input === 'string' ? { kind: undefined, location: input } : input;
  const resolvedKind = kind ?? (await guessKind(location));
  const cleanLocation = resolvedKind === 'lavfi' && location.startsWith(LAVFI_PREFIX) ? location.slice(LAVFI_PREFIX.length) : location;
  return { kind: resolvedKind, location: cleanLocation, live: ['stream', 'webcam', 'snapshot'].includes(resolvedKind) };
}

async function guessKind(location: string): Promise<FrameSourceKind> {
  if (location.startsWith(LAVFI_PREFIX)) return 'lavfi';
  if (/^(rtsps?|rtmps?|https?|srt|udp|tcp):\/\//i.test(location)) return 'stream';
  if (location.startsWith('/dev/video')) return 'webcam';
  const stats = await fs.stat(location).catch(() => undefined);
  return stats?.isDirectory() ? 'folder' : 'file';
}

/** A readable name for logs and `msg.topic`: the location with any login hidden. */
export function sourceName(source: ResolvedSource): string {
  return maskUrlCredentials(source.kind === 'lavfi' ? `${LAVFI_PREFIX}${source.location}` : source.location);
}

/** The frames of a source; see the module comment for stopping and backpressure. */
export async function* readFrames(input: FrameSourceInput, options: FrameSourceOptions = {}): AsyncGenerator<Frame> {
  const source = await resolveSource(input);
  options.signal?.throwIfAborted();
  switch (source.kind) {
    case 'folder':
      yield* folderFrames(source.location, options);
      return;
    case 'snapshot':
      yield* snapshotFrames(source.location, options);
      return;
    default:
      yield* ffmpegFrames(source, options);
  }
}

export function withCredentials(url: string, credentials: Credentials | undefined): string {
  if (!credentials?.username && !credentials?.password) return url;
  const parsed = new URL(url);
  parsed.username = credentials.username ?? '';
  parsed.password = credentials.password ?? '';
  return parsed.toString();
}

/** What ffmpeg is told to read for a source, login included. */
export function ffmpegInput(source: ResolvedSource, options: FrameSourceOptions): { input: string; inputOptions: string[] } {
  switch (source.kind) {
    case 'lavfi':
      return { input: source.location, inputOptions: ['-f', 'lavfi'] };
    case 'webcam':
      return { input: source.location, inputOptions: ['-f', options.webcamFormat ?? 'v4l2'] };
    case 'stream': {
      const input = withCredentials(source.location, options.credentials);
      const rtsp = /^rtsps?:/i.test(input);
      return { input, inputOptions: rtsp ? ['-rtsp_transport', options.rtspTransport ?? 'tcp'] : [] };
    }
    default:
      return { input: source.location, inputOptions: [] };
  }
}

async function* ffmpegFrames(source: ResolvedSource, options: FrameSourceOptions): AsyncGenerator<Frame> {
  const policy = options.backpressure ?? (source.live ? 'latest' : 'pause');
  const slot = new FrameSlot<JpegImage & { timestamp: number }>(policy);
  const pipe = startJpegPipe(
    {
      ...ffmpegInput(source, options),
      ffmpegPath: options.ffmpegPath,
      maxFps: options.maxFps,
      width: options.width,
      height: options.height,
      quality: options.quality,
      // Pacing a live source would only add delay: it already arrives at its own rate.
      realtime: options.realtime && !source.live,
    },
    (image) => slot.offer({ ...image, timestamp: Date.now() }),
  );
  pipe.done.then(
    () => slot.close(),
    (error: unknown) => slot.fail(error),
  );
  try {
    for (;;) {
      const next = await slot.take(options.signal);
      if (!next) return;
      yield { id: next.index, reference: next.index, timestamp: next.value.timestamp, width: next.value.width, height: next.value.height, data: next.value.data };
    }
  } finally {
    await pipe.stop();
  }
}

async function* folderFrames(folder: string, options: FrameSourceOptions): AsyncGenerator<Frame> {
  const files = await listImages(folder, options.imageExtensions ?? DEFAULT_IMAGE_EXTENSIONS);
  const pacer = new Pacer(options.maxFps);
  for (const [index, file] of files.entries()) {
    await pacer.wait(options.signal);
    const encoded = await toJpeg(await fs.readFile(file, { signal: options.signal }), options);
    yield { id: index, reference: file, timestamp: Date.now(), ...encoded };
  }
}

/** Image files directly in `folder` with one of the extensions, by name (numbers in natural order), paths as on disk. */
export async function listImages(folder: string, extensions: readonly string[]): Promise<string[]> {
  const entries = await fs.readdir(folder, { withFileTypes: true });
  const collator = new Intl.Collator('en', { numeric: true });
  return entries
    .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && extensions.some((extension) => entry.name.endsWith(`.${extension}`)))
    .map((entry) => entry.name)
    .sort((a, b) => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => path.join(folder, name));
}

async function* snapshotFrames(url: string, options: FrameSourceOptions): AsyncGenerator<Frame> {
  const pacer = new Pacer(1000 / (options.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS));
  const headers: Record<string, string> = {};
  const { username, password } = options.credentials ?? {};
  if (username || password) headers.authorization = `Basic ${Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64')}`;
  for (let index = 0; ; index += 1) {
    await pacer.wait(options.signal);
    const response = await request(url, { headers, signal: options.signal });
    const body = Buffer.from(await response.body.arrayBuffer());
    if (response.statusCode !== 200) {
      throw new Error(`Snapshot ${maskUrlCredentials(url)} answered HTTP ${response.statusCode}`);
    }
    const timestamp = Date.now();
    yield { id: index, reference: index, timestamp, ...(await toJpeg(body, options)) };
  }
}

/** An image as JPEG: kept byte for byte when it already is one and needs no resizing. */
async function toJpeg(data: Buffer, options: FrameSourceOptions): Promise<{ data: Buffer; width: number; height: number }> {
  const size = readJpegSize(data);
  if (size && !options.width && !options.height) return { data, ...size };
  const { data: jpeg, info } = await sharp(data)
    .rotate()
    .resize({ width: options.width || undefined, height: options.height || undefined, fit: 'inside' })
    .jpeg({ quality: options.quality ?? DEFAULT_JPEG_QUALITY })
    .toBuffer({ resolveWithObject: true });
  return { data: jpeg, width: info.width, height: info.height };
}

/** Spaces events at most `ratePerSecond` apart in time, without catching up after a slow consumer. */
class Pacer {
  private next = 0;

  constructor(private readonly ratePerSecond: number | undefined) {}

  async wait(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (!this.ratePerSecond || this.ratePerSecond <= 0) return;
    const delay = this.next - Date.now();
    if (delay > 0) await sleep(delay, undefined, { signal });
    this.next = Math.max(this.next, Date.now()) + 1000 / this.ratePerSecond;
  }
}

/**
 * One frame between a producer and the consumer. `pause`: the producer's offer waits until the
 * frame is taken. `latest`: a new frame replaces one not yet taken.
 */
export class FrameSlot<T> {
  private value: { value: T; index: number } | undefined;
  private produced = 0;
  private taken: (() => void) | undefined;
  private waiter: (() => void) | undefined;
  private ended = false;
  private error: unknown;

  constructor(private readonly policy: BackpressurePolicy) {}

  offer(value: T): Promise<void> | void {
    if (this.ended) return;
    this.value = { value, index: this.produced++ };
    this.wake();
    if (this.policy === 'pause') return new Promise<void>((resolve) => (this.taken = resolve));
  }

  close(): void {
    this.ended = true;
    this.wake();
  }

  fail(error: unknown): void {
    this.error = error;
    this.close();
  }

  /** The next frame, undefined once the producer closed; rejects on failure or abort. */
  async take(signal?: AbortSignal): Promise<{ value: T; index: number } | undefined> {
    while (!this.value) {
      if (this.error) throw this.error;
      if (this.ended) return undefined;
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal?.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiter = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
      });
    }
    const current = this.value;
    this.value = undefined;
    const release = this.taken;
    this.taken = undefined;
    release?.();
    return current;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}

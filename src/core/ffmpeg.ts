// The only module that knows fluent-ffmpeg (archived upstream, so it must stay replaceable):
// finds the ffmpeg binary, runs it with JPEG frames written to a pipe, and splits that byte
// stream into images on JPEG markers. No temp files, no frame queue: the caller's callback
// decides whether ffmpeg waits (its promise) or keeps running (returns at once).
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import ffmpeg from 'fluent-ffmpeg';

const FFMPEG_INSTALL_HINT = 'Install it (Debian/Ubuntu: `apt install ffmpeg`) or set FFMPEG_PATH to the binary.';
const KILL_GRACE_MS = 2_000;
export const DEFAULT_JPEG_QUALITY = 85;
const DEFAULT_MAX_IMAGE_BYTES = 64 * 1024 * 1024;

export class FfmpegNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FfmpegNotFoundError';
  }
}

export class FfmpegError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FfmpegError';
  }
}

/** Hides `user:password@` in every URL of a text (ffmpeg echoes its input URL in errors). */
export function maskUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1***@');
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The ffmpeg binary: an explicit path, else FFMPEG_PATH, else the first `ffmpeg` on PATH. */
export function findFfmpeg(explicitPath?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicitPath) {
    if (isExecutable(explicitPath)) return explicitPath;
    throw new FfmpegNotFoundError(`ffmpeg was not found at ${explicitPath}. ${FFMPEG_INSTALL_HINT}`);
  }
  if (env.FFMPEG_PATH) {
    if (isExecutable(env.FFMPEG_PATH)) return env.FFMPEG_PATH;
    throw new FfmpegNotFoundError(`ffmpeg was not found at FFMPEG_PATH=${env.FFMPEG_PATH}. ${FFMPEG_INSTALL_HINT}`);
  }
  for (const directory of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(directory, 'ffmpeg');
    if (isExecutable(candidate)) return candidate;
  }
  throw new FfmpegNotFoundError(`ffmpeg was not found on PATH. ${FFMPEG_INSTALL_HINT}`);
}

export interface JpegImage {
  data: Buffer;
  width: number;
  height: number;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;

function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

/** Width and height from the SOF header of a buffer that starts with a whole JPEG, without decoding. */
export function readJpegSize(data: Buffer): { width: number; height: number } | undefined {
  if (data[0] !== 0xff || data[1] !== SOI) return undefined;
  const [image] = new JpegSplitter(data.length).push(data);
  return image && { width: image.width, height: image.height };
}

/**
 * Splits a byte stream of concatenated JPEGs into images. It walks the marker segments (so an
 * EOI inside an embedded thumbnail cannot cut an image short) and the entropy-coded data (where
 * 0xFF is always stuffed), reading the size from the SOF header on the way.
 */
export class JpegSplitter {
  /** Bytes kept between pushes, in a store that grows by doubling so large images are not re-copied per chunk. */
  private store: Buffer = Buffer.alloc(0);
  /** The filled part of `store`. */
  private buffer: Buffer = this.store;
  private scan = 0;
  private imageStart = -1;
  private inEntropyData = false;
  private width = 0;
  private height = 0;

  constructor(private readonly maxImageBytes = DEFAULT_MAX_IMAGE_BYTES) {}

  push(chunk: Buffer): JpegImage[] {
    this.append(chunk);
    const images: JpegImage[] = [];
    while (this.step(images));
    this.compact();
    return images;
  }

  /** Advances by one marker or segment; false when more bytes are needed. */
  private step(images: JpegImage[]): boolean {
    const buffer = this.buffer;
    if (this.imageStart < 0) return this.seekStartOfImage();
    if (!this.inEntropyData) return this.readSegment();
    const ff = buffer.indexOf(0xff, this.scan);
    if (ff < 0 || ff + 1 >= buffer.length) {
      this.scan = ff < 0 ? buffer.length : ff;
      return false;
    }
    const next = buffer[ff + 1];
    if (next === 0x00 || isStandalone(next)) {
      this.scan = ff + 2;
    } else if (next === 0xff) {
      this.scan = ff + 1;
    } else if (next === EOI) {
      // A copy: the store is reused for the bytes that follow.
      images.push({ data: Buffer.from(buffer.subarray(this.imageStart, ff + 2)), width: this.width, height: this.height });
      this.imageStart = -1;
      this.scan = ff + 2;
    } else {
      // Another table or scan (progressive JPEG): back to marker segments.
      this.inEntropyData = false;
      this.scan = ff;
    }
    return true;
  }

  private seekStartOfImage(): boolean {
    const buffer = this.buffer;
    let candidate = buffer.indexOf(0xff, this.scan);
    while (candidate >= 0 && candidate + 1 < buffer.length && buffer[candidate + 1] !== SOI) {
      candidate = buffer.indexOf(0xff, candidate + 1);
    }
    if (candidate < 0 || candidate + 1 >= buffer.length) {
      this.scan = candidate < 0 ? buffer.length : candidate;
      return false;
    }
    this.imageStart = candidate;
    this.scan = candidate + 2;
    this.inEntropyData = false;
    this.width = 0;
    this.height = 0;
    return true;
  }

  private readSegment(): boolean {
    const buffer = this.buffer;
    if (this.scan + 2 > buffer.length) return false;
    if (buffer[this.scan] !== 0xff) return this.abandonImage();
    const marker = buffer[this.scan + 1];
    if (marker === 0xff) {
      this.scan += 1;
      return true;
    }
    if (isStandalone(marker)) {
      this.scan += 2;
      return true;
    }
    if (marker === SOI || marker === EOI) return this.abandonImage();
    if (this.scan + 4 > buffer.length) return false;
    if (isStartOfFrame(marker)) {
      if (this.scan + 9 > buffer.length) return false;
      this.height = buffer.readUInt16BE(this.scan + 5);
      this.width = buffer.readUInt16BE(this.scan + 7);
    }
    this.scan += 2 + buffer.readUInt16BE(this.scan + 2);
    if (marker === SOS) this.inEntropyData = true;
    return true;
  }

  /** Corrupt data: look for the next SOI after this image's own. */
  private abandonImage(): boolean {
    this.scan = this.imageStart + 2;
    this.imageStart = -1;
    return true;
  }

  private compact(): void {
    if (this.imageStart >= 0 && this.buffer.length - this.imageStart > this.maxImageBytes) {
      this.imageStart = -1;
      this.scan = this.buffer.length;
    }
    const keepFrom = this.imageStart >= 0 ? this.imageStart : Math.min(this.scan, this.buffer.length);
    if (keepFrom === 0) return;
    const kept = this.buffer.length - keepFrom;
    this.store.copyWithin(0, keepFrom, this.buffer.length);
    this.buffer = this.store.subarray(0, kept);
    this.scan -= keepFrom;
    if (this.imageStart >= 0) this.imageStart -= keepFrom;
  }

  private append(chunk: Buffer): void {
    const length = this.buffer.length;
    if (length + chunk.length > this.store.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.store.length, length + chunk.length));
      this.buffer.copy(grown);
      this.store = grown;
    }
    chunk.copy(this.store, length);
    this.buffer = this.store.subarray(0, length + chunk.length);
  }
}

export interface JpegPipeOptions {
  /** What ffmpeg reads: a path, URL, device or lavfi graph. */
  input: string;
  /** Options placed before `-i` (e.g. `['-f', 'v4l2']`, `['-rtsp_transport', 'tcp']`). */
  inputOptions?: string[];
  ffmpegPath?: string;
  /** Frame-rate cap, applied by ffmpeg's fps filter before encoding. */
  maxFps?: number;
  /** Output size; one side alone keeps the aspect ratio. */
  width?: number;
  height?: number;
  /** JPEG quality 1 (smallest) to 100 (best), default 85. */
  quality?: number;
  /** Read the input at its native frame rate (`-re`) instead of as fast as possible. */
  realtime?: boolean;
}

export interface JpegPipe {
  /** Resolves when ffmpeg finished its input (or was stopped); rejects with FfmpegError. */
  readonly done: Promise<void>;
  /** SIGTERM now, SIGKILL after 2 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** Maps quality 1..100 onto ffmpeg's mjpeg qscale 31..2 (lower is better). */
export function qualityToQscale(quality: number): number {
  const clamped = Math.min(100, Math.max(1, quality));
  return Math.round(31 - ((clamped - 1) / 99) * 29);
}

function videoFilters(options: JpegPipeOptions): string[] {
  const filters: string[] = [];
  if (options.maxFps && options.maxFps > 0) filters.push(`fps=${options.maxFps}`);
  if (options.width || options.height) {
    // -2 keeps the aspect ratio with an even side, which the mjpeg encoder needs for 4:2:0.
    filters.push(`scale=${options.width || -2}:${options.height || -2}`);
  }
  return filters;
}

function ffmpegArguments(options: JpegPipeOptions): { inputOptions: string[]; outputOptions: string[] } {
  const filters = videoFilters(options);
  return {
    inputOptions: ['-nostdin', '-hide_banner', '-loglevel', 'error', ...(options.realtime ? ['-re'] : []), ...(options.inputOptions ?? [])],
    outputOptions: [
      '-an',
      ...(filters.length > 0 ? ['-vf', filters.join(',')] : []),
      '-f', 'image2pipe',
      '-c:v', 'mjpeg',
      '-q:v', String(qualityToQscale(options.quality ?? DEFAULT_JPEG_QUALITY)),
    ],
  };
}

/**
 * Runs ffmpeg and calls `onImage` for each JPEG it writes, one at a time. While the promise
 * `onImage` returns is pending, the pipe is not read, so ffmpeg blocks (pause); returning at once
 * keeps ffmpeg running (the caller keeps the latest). Throws FfmpegNotFoundError synchronously.
 */
export function startJpegPipe(options: JpegPipeOptions, onImage: (image: JpegImage) => void | Promise<void>): JpegPipe {
  const binary = findFfmpeg(options.ffmpegPath);
  const { inputOptions, outputOptions } = ffmpegArguments(options);
  const splitter = new JpegSplitter();
  let stopping = false;
  let releaseWaiting: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (releaseWaiting = resolve));

  const sink = new Writable({
    emitClose: false,
    write(chunk: Buffer, _encoding, callback) {
      if (stopping) return callback();
      deliver(splitter.push(chunk)).then(() => callback(), callback);
    },
  });

  async function deliver(images: JpegImage[]): Promise<void> {
    for (const image of images) {
      if (stopping) return;
      const pending = onImage(image);
      if (pending) await Promise.race([pending, stopped]);
    }
  }

  let child: ChildProcess | undefined;
  let markExited: () => void = () => {};
  const exited = new Promise<void>((resolve) => (markExited = resolve));
  const terminate = () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child?.kill('SIGKILL'), KILL_GRACE_MS);
    void exited.then(() => clearTimeout(killer));
  };
  let finishError: Error | undefined;
  const command = ffmpeg({ stdoutLines: 20 }).setFfmpegPath(binary).input(options.input).inputOptions(inputOptions).outputOptions(outputOptions);

  const done = new Promise<void>((resolve, reject) => {
    let processEnded = false;
    let sinkFinished = false;
    const settle = () => {
      if (stopping) resolve();
      else if (finishError) reject(finishError);
      else if (processEnded && sinkFinished) resolve();
    };
    command.on('start', () => {
      child = (command as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
      if (!child || child.exitCode !== null) return markExited();
      child.once('exit', () => markExited());
      if (stopping) terminate();
    });
    command.on('end', () => {
      processEnded = true;
      markExited();
      settle();
    });
    command.on('error', (error: Error) => {
      finishError = new FfmpegError(maskUrlCredentials(`ffmpeg failed on ${options.input}: ${error.message.trim()}`));
      // No process, or one that never started (spawn failed): nothing will report an exit.
      if (!child || child.pid === undefined) markExited();
      settle();
    });
    sink.on('finish', () => {
      sinkFinished = true;
      settle();
    });
    sink.on('error', (error) => {
      finishError ??= error;
      settle();
    });
  });
  // `done` settles for every caller that awaits it; nobody awaiting it must not crash the process.
  done.catch(() => {});

  command.pipe(sink, { end: true });

  return {
    done,
    stop() {
      if (!stopping) {
        stopping = true;
        releaseWaiting();
        terminate();
      }
      return exited;
    },
  };
}

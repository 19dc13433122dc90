// Fault injection: per-route misbehaviour for the next N requests (statuses, broken bodies,
// resets, stalls), so client tests can exercise retries, timeouts and error wrapping.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';

export interface Fault {
  /** Matched against the path; a string is an exact path or a prefix ending in '*'. */
  route?: string | RegExp;
  /** How many requests it hits, default 1, Infinity = until cleared. */
  count?: number;
  status?: number;
  /** Seconds; sets Retry-After. */
  retryAfter?: number;
  body?: unknown;
  latencyMs?: number;
  kind?:
    | 'reset'
    | 'malformed-json'
    | 'truncated-json'
    | 'html-200'
    | 'wrong-content-type'
    | 'stall-body'
    | 'slow-body'
    | 'huge-body'
    | 'no-response';
}

const HUGE_BODY_BYTES = 50 * 1024 * 1024;
const SLOW_BODY_CHUNKS = 10;
const SLOW_BODY_INTERVAL_MS = 100;

/** Bodies the real server sends with these statuses (§2.10), used when a fault gives none. */
const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'Invalid Model ID sent in request.',
  401: 'Unauthorized access to roboflow API - check API key and make sure the key is valid for workspace you use.',
  402: 'Not enough credits to perform this request.',
  403: 'Unauthorized access to roboflow API - check API key and make sure the key has the required scopes.',
  404: 'Requested Roboflow resource not found. Make sure that workspace, project or model you referred in request exists.',
  423: 'API usage paused.',
  429: 'Too many requests.',
  500: 'Internal error.',
  502: 'Internal error. Request to Roboflow API failed.',
  503: 'Model is temporarily not ready - retry request.',
  504: 'Timeout when attempting to connect to Roboflow API.',
};

interface ActiveFault {
  fault: Fault;
  remaining: number;
}

export class FaultBook {
  private faults: ActiveFault[] = [];

  inject(fault: Fault): void {
    this.faults.push({ fault, remaining: fault.count ?? 1 });
  }

  clear(): void {
    this.faults = [];
  }

  /** The first live fault matching the path, consuming one of its hits. */
  take(path: string): Fault | undefined {
    const active = this.faults.find((candidate) => candidate.remaining > 0 && routeMatches(candidate.fault.route, path));
    if (!active) return undefined;
    active.remaining--;
    this.faults = this.faults.filter((candidate) => candidate.remaining > 0);
    return active.fault;
  }
}

function routeMatches(route: Fault['route'], path: string): boolean {
  if (route === undefined) return true;
  if (route instanceof RegExp) return route.test(path);
  return route.endsWith('*') ? path.startsWith(route.slice(0, -1)) : path === route;
}

export function defaultFaultBody(status: number): unknown {
  return { message: DEFAULT_MESSAGES[status] ?? `Simulated HTTP ${status}.` };
}

export interface FaultResponder {
  request: IncomingMessage;
  response: ServerResponse;
  /** Aborted when the simulator stops, ending dribbles and stalls. */
  signal: AbortSignal;
  /** The reply the route would have given, for faults that mangle a real body. */
  realReply: () => Promise<{ status: number; contentType: string; data: Buffer }>;
}

/** A fault that only adds latency; the request is then served normally. */
export function isLatencyOnly(fault: Fault): boolean {
  return fault.kind === undefined && fault.status === undefined && fault.body === undefined;
}

/** Carries out a fault. Returns once the response is done or deliberately left hanging. */
export async function applyFault(fault: Fault, io: FaultResponder): Promise<void> {
  const { response } = io;
  const status = fault.status ?? 200;
  switch (fault.kind) {
    case undefined: {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      response.writeHead(status, headers).end(JSON.stringify(fault.body ?? defaultFaultBody(status)));
      return;
    }
    case 'reset':
      io.request.socket.destroy();
      return;
    case 'no-response':
      return;
    case 'malformed-json':
      response.writeHead(status, { 'content-type': 'application/json' }).end('{"predictions": [{"x": 1,, }');
      return;
    case 'html-200':
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>');
      return;
    case 'wrong-content-type': {
      const real = await io.realReply();
      response.writeHead(fault.status ?? real.status, { 'content-type': 'text/plain; charset=utf-8' }).end(real.data);
      return;
    }
    case 'truncated-json': {
      // Content-Length promises the whole body, then the connection drops half-way through it.
      const real = await io.realReply();
      response.writeHead(fault.status ?? real.status, { 'content-type': real.contentType, 'content-length': real.data.length });
      response.write(real.data.subarray(0, Math.floor(real.data.length / 2)), () => io.request.socket.destroy());
      return;
    }
    case 'stall-body': {
      const real = await io.realReply();
      response.writeHead(fault.status ?? real.status, { 'content-type': real.contentType, 'content-length': real.data.length });
      response.write(real.data.subarray(0, Math.min(16, Math.floor(real.data.length / 2))));
      return;
    }
    case 'slow-body': {
      const real = await io.realReply();
      response.writeHead(fault.status ?? real.status, { 'content-type': real.contentType, 'content-length': real.data.length });
      const chunkSize = Math.ceil(real.data.length / SLOW_BODY_CHUNKS);
      for (let offset = 0; offset < real.data.length; offset += chunkSize) {
        response.write(real.data.subarray(offset, offset + chunkSize));
        if (!(await pause(SLOW_BODY_INTERVAL_MS, io.signal)) || response.destroyed) return;
      }
      response.end();
      return;
    }
    case 'huge-body':
      await sendHugeBody(status, io);
      return;
  }
}

/** A valid 50 MB JSON document, chunked without Content-Length so only counting bytes reveals its size. */
async function sendHugeBody(status: number, { response, signal }: FaultResponder): Promise<void> {
  response.writeHead(status, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(1024 * 1024, 'a');
  function* document(): Generator<Buffer> {
    yield Buffer.from('{"padding":"');
    for (let written = 0; written < HUGE_BODY_BYTES; written += chunk.length) yield chunk;
    yield Buffer.from('"}');
  }
  // A client that gives up early closes the socket, which ends the pipeline with an error: expected.
  await pipeline(Readable.from(document()), response, { signal }).catch(() => undefined);
}

/** Resolves false when the simulator stopped meanwhile. */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (ms <= 0) return !signal.aborted;
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

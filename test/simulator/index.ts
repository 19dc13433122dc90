// A simulated Roboflow Inference server (HTTP API of inference 1.5, see
// /work/shared/reference/inference-protocol.md Part 2) for tests, benchmarks and demos.
// Predictions are derived from the image: each strongly coloured region (red, green, blue,
// yellow; see test/fixtures/images.ts) is one object, its box the bounding box of that colour.
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { coreModelRoutes } from './coreModels';
import { type Fault, FaultBook, applyFault, isLatencyOnly, pause } from './faults';
import {
  HttpError,
  type Query,
  type Reply,
  type SimRequest,
  lowerCaseHeaders,
  parseQuery,
} from './http';
import { inferenceRoutes, legacyRoute } from './inference';
import { DEFAULT_MODELS, ModelRegistry, type SimulatedModel } from './models';
import { PipelineStore, pipelineRoutes } from './pipelines';
import type { Route, ServerState } from './state';
import { processPipelineFrame, workflowRoutes } from './workflows';

export type { Fault } from './faults';
export { DEFAULT_MODELS, type SimulatedModel, type TaskType } from './models';

export interface SimulatorOptions {
  /** 0 = random (default). */
  port?: number;
  latencyMs?: number;
  models?: SimulatedModel[];
  /** Loaded at start; by default none, models auto-load on first use like the real server. */
  preloaded?: string[];
  /** Default '1.5.0'. */
  serverVersion?: string;
  /** true = an old server (< 1.2.8) that still serves /gaze/gaze_detection; default false = 410. */
  legacyGaze?: boolean;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: Query;
  rawQuery: string;
  headers: Record<string, string>;
  /** Parsed JSON, else raw text, undefined when empty. */
  body: unknown;
  receivedAt: number;
  respondedAt?: number;
  status?: number;
}

export interface Simulator {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  log: LoggedRequest[];
  requests(pathPrefix?: string): LoggedRequest[];
  clearLog(): void;
  inject(fault: Fault): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  stop(): Promise<void>;
}

/** Route order matters: the legacy two-segment model route catches everything else. */
const ROUTES: Route[] = [...inferenceRoutes, ...coreModelRoutes, ...workflowRoutes, ...pipelineRoutes, legacyRoute];

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const state: ServerState = {
    serverId: randomUUID(),
    serverVersion: options.serverVersion ?? '1.5.0',
    legacyGaze: options.legacyGaze ?? false,
    registry: new ModelRegistry(options.models ?? DEFAULT_MODELS, options.preloaded ?? []),
    pipelines: new PipelineStore(processPipelineFrame),
  };
  const log: LoggedRequest[] = [];
  const faults = new FaultBook();
  const stopping = new AbortController();
  // Each request waiting out its latency listens for the stop; many at once is normal.
  setMaxListeners(0, stopping.signal);
  let latencyMs = options.latencyMs ?? 0;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // A client that went away mid-request is not a simulator failure.
      if (request.destroyed || response.destroyed) return;
      console.error('simulator: unexpected failure', error);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'Internal error.' }));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const startedAt = performance.now();
    const rawBody = await readBody(request);
    // Concatenated rather than resolved, so a path starting with '//' stays a path.
    const url = new URL(`http://simulator.invalid${request.url ?? '/'}`);
    const rawQuery = url.search.replace(/^\?/, '');
    const simRequest = parsedRequest(request, url.pathname, rawQuery, rawBody, startedAt);
    const entry: LoggedRequest = {
      method: simRequest.method,
      path: simRequest.path,
      query: simRequest.query,
      rawQuery,
      headers: simRequest.headers,
      body: loggedBody(simRequest),
      receivedAt,
    };
    log.push(entry);
    response.on('finish', () => {
      entry.respondedAt = Date.now();
      entry.status = response.statusCode;
    });

    const fault = faults.take(simRequest.path);
    if (!(await pause(latencyMs + (fault?.latencyMs ?? 0), stopping.signal))) return;
    if (fault && !isLatencyOnly(fault)) {
      await applyFault(fault, {
        request,
        response,
        signal: stopping.signal,
        realReply: async () => serialise(await dispatch(simRequest)),
      });
      return;
    }
    send(response, await dispatch(simRequest));
  }

  async function dispatch(request: SimRequest): Promise<Reply> {
    try {
      return await routeRequest(request, state);
    } catch (error) {
      if (error instanceof HttpError) return { status: error.status, body: error.body };
      throw error;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    requests: (pathPrefix = '') => log.filter((entry) => entry.path.startsWith(pathPrefix)),
    clearLog: () => void log.splice(0, log.length),
    inject: (fault) => faults.inject(fault),
    clearFaults: () => faults.clear(),
    setLatency: (ms) => {
      latencyMs = ms;
    },
    stop: () => stopServer(server, stopping),
  };
}

async function routeRequest(request: SimRequest, state: ServerState): Promise<Reply> {
  let pathMatched = false;
  for (const candidate of ROUTES) {
    const match = candidate.pattern.exec(request.path);
    if (!match) continue;
    pathMatched = true;
    if (!candidate.methods.includes(request.method)) continue;
    // Optional groups that did not take part stay undefined (not the text "undefined").
    return candidate.handler(request, state, match.slice(1).map((part) => (part === undefined ? part : decodeURIComponent(part))));
  }
  if (pathMatched) return { status: 405, body: { detail: 'Method Not Allowed' } };
  return { status: 404, body: { detail: 'Not Found' } };
}

function parsedRequest(
  request: IncomingMessage,
  path: string,
  rawQuery: string,
  rawBody: Buffer,
  startedAt: number,
): SimRequest {
  const simRequest: SimRequest = {
    method: request.method ?? 'GET',
    path,
    query: parseQuery(rawQuery),
    headers: lowerCaseHeaders(request),
    rawBody,
    json: undefined,
    startedAt,
  };
  if (rawBody.length > 0) {
    try {
      simRequest.json = JSON.parse(rawBody.toString('utf8'));
    } catch (error) {
      simRequest.jsonError = (error as Error).message;
    }
  }
  return simRequest;
}

function loggedBody(request: SimRequest): unknown {
  if (request.rawBody.length === 0) return undefined;
  return request.jsonError === undefined ? request.json : request.rawBody.toString('utf8');
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function serialise(reply: Reply): { status: number; contentType: string; data: Buffer; headers: Record<string, string> } {
  if (reply.raw) return { status: reply.status, contentType: reply.raw.contentType, data: reply.raw.data, headers: reply.headers ?? {} };
  return {
    status: reply.status,
    contentType: 'application/json',
    data: Buffer.from(JSON.stringify(reply.body)),
    headers: reply.headers ?? {},
  };
}

function send(response: ServerResponse, reply: Reply): void {
  const { status, contentType, data, headers } = serialise(reply);
  response.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': data.length });
  response.end(data);
}

async function stopServer(server: Server, stopping: AbortController): Promise<void> {
  stopping.abort();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

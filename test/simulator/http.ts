// Request/response plumbing shared by the simulator's route modules: the parsed request handed to
// every handler, the reply a handler returns, and the error shapes the real (FastAPI) server uses.
import type { IncomingMessage } from 'node:http';

export type Query = Record<string, string | string[]>;

export interface SimRequest {
  method: string;
  path: string;
  query: Query;
  headers: Record<string, string>;
  rawBody: Buffer;
  /** Parsed JSON body; `undefined` when the body is empty or not JSON. */
  json: unknown;
  jsonError?: string;
  /** Monotonic start time, for the `time` field of responses. */
  startedAt: number;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Sent verbatim instead of `body` serialised as JSON. */
  raw?: { contentType: string; data: Buffer };
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

export const MESSAGES = {
  notFound:
    'Requested Roboflow resource not found. Make sure that workspace, project or model you referred in request exists.',
  invalidModelId: 'Invalid Model ID sent in request.',
  missingApiKey:
    'Required Roboflow API key is missing. Visit https://docs.roboflow.com/api-reference/authentication#retrieve-an-api-key to learn how to retrieve one.',
  badImageType: 'Image declaration contains not recognised image type.',
} as const;

export function ok(body: unknown): Reply {
  return { status: 200, body };
}

export function messageError(status: number, message: string, extra: Record<string, unknown> = {}): HttpError {
  return new HttpError(status, { message, ...extra });
}

export function elapsedSeconds(request: SimRequest): number {
  return Number(((performance.now() - request.startedAt) / 1000).toFixed(6));
}

export function parseQuery(rawQuery: string): Query {
  const query: Query = {};
  for (const [key, value] of new URLSearchParams(rawQuery)) {
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else query[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

export function queryString(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

export function lowerCaseHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** The key the server would use: query `api_key` > `Authorization: Bearer` > body `api_key`. */
export function resolveApiKey(request: SimRequest): string | undefined {
  const fromQuery = queryString(request.query, 'api_key');
  if (fromQuery) return fromQuery;
  const bearer = /^bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
  if (bearer) return bearer[1].trim();
  const body = request.json;
  if (isRecord(body) && typeof body.api_key === 'string' && body.api_key) return body.api_key;
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Drops null/undefined keys recursively, like orjson_response's `exclude_none`. */
export function excludeNone<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => excludeNone(item)) as T;
  if (!isRecord(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== null && item !== undefined) result[key] = excludeNone(item);
  }
  return result as T;
}

// The transport under every client: one undici Pool for the API origin, a small Agent for image
// downloads, upstream's retry policies, a sliding concurrency window, error wrapping, and the
// RequestContexts the endpoint families work with.
import { setMaxListeners } from 'node:events';
import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, Pool } from 'undici';
import type { ApiKeyTransport, InferenceConfiguration } from './configuration';
import type {
  ClientMode,
  EncodedImage,
  HttpRequest,
  HttpResponse,
  ImagesInput,
  LoadImagesOptions,
  QueryValue,
  RequestContext,
  RetryPolicy,
  WireImage,
} from './context';
import { describeError, HTTPCallErrorError, HTTPClientError, maskApiKey, redactSecret, truncate } from './errors';
import { hasCanonicalBase64, loadImages, type ImageSources } from './images';
import type { ModelDescription } from './models';
import { policyLookup, resolveUrlPolicy, type UrlPolicyInput } from './urlPolicy';

/** The client state a RequestContext snapshots. */
export interface ContextState {
  configuration: InferenceConfiguration;
  mode: ClientMode;
  selectedModel: string | undefined;
}

export interface TransportOptions {
  /** Which image URLs the client may download: a preset name or individual knobs over the permissive defaults. */
  urlPolicy?: UrlPolicyInput;
  /** When set, file-path image inputs must resolve inside this folder. */
  fileBaseDir?: string;
}

const RETRYABLE_STATUSES = new Set([429, 503, 504]);
const MAX_ATTEMPTS = 3;
const MAX_JITTER_MS = 1_000;
const MAX_RETRY_AFTER_MS = 10_000;
/** Far above any inference answer, low enough that a runaway body cannot exhaust memory. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
const API_MESSAGE_LIMIT = 500;
const WORKFLOW_RETRY_FAILED =
  'Original request failed and retry did not succeed. Status code shows the response of the last request executed.';

let transportGuidanceShown = false;

/** Unset transport means legacy, with upstream's one-time guidance warning per process (only once a key is placed). */
function keyTransport(configuration: InferenceConfiguration): ApiKeyTransport {
  if (configuration.apiKeyTransport) return configuration.apiKeyTransport;
  if (!transportGuidanceShown) {
    transportGuidanceShown = true;
    if (process.env.INFERENCE_WARNINGS_DISABLED !== 'true') {
      process.emitWarning(
        'apiKeyTransport is not set, so the API key is sent in request bodies and query strings (legacy). ' +
          "From release 1.5.0 onward servers also accept 'Authorization: Bearer'; set apiKeyTransport to " +
          "'header' (or 'both' for older servers) to keep the key out of URLs, or to 'legacy' to silence this warning.",
        { type: 'InferenceSDKGuidanceWarning' },
      );
    }
  }
  return 'legacy';
}

/** A request whose body the transport already serialised (see imagesBody). */
type PreparedRequest = HttpRequest & { preparedBody?: Buffer };

/** Why one exchange produced no response. */
class ExchangeFailure extends Error {
  constructor(
    readonly kind: 'connection' | 'timeout' | 'aborted',
    message: string,
    readonly reason?: unknown,
  ) {
    super(message);
  }
}

export class Transport {
  readonly apiUrl: string;
  // An ES private field: util.inspect and JSON.stringify of a client never show it.
  readonly #apiKey: string | undefined;
  readonly modelDescriptions = new Map<string, Promise<ModelDescription>>();
  private readonly basePath: string;
  private readonly pool: Pool;
  /** Where image inputs may come from; downloads go through their own small Agent, never the API pool. */
  private readonly imageSources: ImageSources & { downloadAgent: Agent };
  private readonly lifetime = new AbortController();

  constructor(apiUrl: string, apiKey: string | undefined, options: TransportOptions = {}) {
    this.apiUrl = apiUrl;
    this.#apiKey = apiKey;
    let url: URL;
    try {
      url = new URL(apiUrl);
    } catch {
      throw new HTTPClientError(`Invalid api URL: ${this.scrub(apiUrl)}`);
    }
    this.basePath = url.pathname.replace(/\/+$/, '');
    // Our own per-request deadline (requestTimeoutMs) governs; undici's 300 s defaults would cut it short.
    this.pool = new Pool(url.origin, { headersTimeout: 0, bodyTimeout: 0, maxResponseSize: MAX_RESPONSE_BYTES });
    const urlPolicy = resolveUrlPolicy(options.urlPolicy);
    const downloadAgent = new Agent({
      connections: 4,
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: { lookup: policyLookup(urlPolicy) },
    });
    this.imageSources = { urlPolicy, fileBaseDir: options.fileBaseDir, downloadAgent, closed: this.lifetime.signal };
    // Every request in flight listens to the client's lifetime; more than ten is normal, not a leak.
    setMaxListeners(0, this.lifetime.signal);
  }

  get apiKey(): string | undefined {
    return this.#apiKey;
  }

  context(state: ContextState): RequestContext {
    return new TransportContext(this, state);
  }

  /** Aborts every request in flight and destroys the pool and the download agent. */
  async close(): Promise<void> {
    if (this.lifetimeSignal.aborted) return;
    this.lifetime.abort(new HTTPClientError('The client was closed.'));
    this.modelDescriptions.clear();
    await Promise.all([this.pool.destroy(), this.imageSources.downloadAgent.destroy()]);
  }

  get lifetimeSignal(): AbortSignal {
    return this.lifetime.signal;
  }

  async loadImages(input: ImagesInput, options: LoadImagesOptions = {}): Promise<EncodedImage[]> {
    this.assertOpen();
    return loadImages(input, options, this.imageSources);
  }

  async send(request: PreparedRequest, configuration: InferenceConfiguration): Promise<HttpResponse> {
    this.assertOpen();
    const policy: RetryPolicy = request.retry ?? 'none';
    const retrying = policy === 'inference' || (policy === 'workflow' && configuration.workflowRunRetriesEnabled);
    const attempts = retrying ? MAX_ATTEMPTS : 1;
    const pathAndQuery = `${request.path}${queryString(request.query)}`;
    const url = `${this.apiUrl}${pathAndQuery}`;
    // Serialised once for all attempts.
    const body = request.preparedBody ?? (request.json !== undefined ? JSON.stringify(request.json) : request.textBody);
    const headers = this.headersFor(request, configuration);
    for (let attempt = 1; ; attempt += 1) {
      let response: HttpResponse;
      try {
        response = await this.exchange(request, { headers, body }, configuration, pathAndQuery);
      } catch (error) {
        if (!(error instanceof ExchangeFailure)) throw error;
        if (error.kind === 'aborted') throw error.reason;
        const retryable = error.kind === 'connection' || (policy === 'workflow' && error.kind === 'timeout');
        if (retryable && attempt < attempts) {
          await this.pause(MAX_JITTER_MS * Math.random(), request.signal);
          continue;
        }
        if (policy === 'workflow' && retrying && retryable) {
          throw new HTTPClientError(`Original request failed and retry did not succeed. Details: ${error.message}`);
        }
        throw new HTTPClientError(error.message);
      }
      if (RETRYABLE_STATUSES.has(response.status) && attempt < attempts) {
        await this.pause(retryDelay(response.headers['retry-after']), request.signal);
        continue;
      }
      if (response.status < 400) return response;
      if (policy === 'workflow' && retrying && RETRYABLE_STATUSES.has(response.status)) {
        throw new HTTPCallErrorError(WORKFLOW_RETRY_FAILED, response.status, null);
      }
      throw this.callError(response, url);
    }
  }

  private assertOpen(): void {
    if (this.lifetimeSignal.aborted) throw new HTTPClientError('The client was closed.');
  }

  private async pause(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
    const link = linkSignals([signal, this.lifetime.signal]);
    try {
      await sleep(milliseconds, undefined, { signal: link.signal });
    } catch {
      throw link.signal.reason;
    } finally {
      link.release();
    }
  }

  /** One HTTP exchange, body read completely; no retries, no status checks. */
  private async exchange(
    request: HttpRequest,
    wire: { headers: Record<string, string>; body: Buffer | string | undefined },
    configuration: InferenceConfiguration,
    pathAndQuery: string,
  ): Promise<HttpResponse> {
    const timeoutMs = configuration.requestTimeoutMs;
    // The deadline aborts the link itself: one controller per exchange instead of two.
    const link = linkSignals([this.lifetime.signal, request.signal]);
    let timedOut = false;
    const timer =
      Number.isFinite(timeoutMs) && timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            link.abort();
          }, timeoutMs)
        : undefined;
    // Only messages use it, so the key is scrubbed from the URL only when one is written.
    const target = () => `${request.method} ${this.scrub(`${this.apiUrl}${pathAndQuery}`)}`;
    try {
      const response = await this.pool.request({
        method: request.method,
        path: `${this.basePath}${pathAndQuery}`,
        headers: wire.headers,
        body: wire.body,
        signal: link.signal,
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      return makeResponse(response.statusCode, flattenHeaders(response.headers), body, target);
    } catch (error) {
      if (error instanceof HTTPClientError) throw error;
      if (request.signal?.aborted) throw new ExchangeFailure('aborted', 'aborted', request.signal.reason);
      if (this.lifetime.signal.aborted) throw new ExchangeFailure('aborted', 'closed', this.lifetime.signal.reason);
      if (timedOut) throw new ExchangeFailure('timeout', `Request timed out after ${timeoutMs} ms: ${target()}`);
      // Refused before anything was sent (e.g. a pasted key ending in a line break): retrying cannot help.
      if (codeOf(error) === 'UND_ERR_INVALID_ARG') throw new HTTPClientError(`Cannot send ${target()}: ${this.scrub(describeError(error))}`);
      if (codeOf(error) === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
        throw new HTTPClientError(`Response to ${target()} exceeds ${MAX_RESPONSE_BYTES} bytes.`);
      }
      throw new ExchangeFailure('connection', `Error with server connection: ${target()}: ${this.scrub(describeError(error))}`);
    } finally {
      clearTimeout(timer);
      link.release();
    }
  }

  private headersFor(request: PreparedRequest, configuration: InferenceConfiguration): Record<string, string> {
    const headers: Record<string, string> = {};
    if (request.json !== undefined || request.textBody !== undefined || request.preparedBody !== undefined) {
      headers['content-type'] = 'application/json';
    }
    if (!request.anonymous && this.apiKey && keyTransport(configuration) !== 'legacy') {
      headers.authorization = `Bearer ${this.apiKey}`;
    }
    return request.headers ? { ...headers, ...request.headers } : headers;
  }

  private callError(response: HttpResponse, url: string): HTTPCallErrorError {
    const kind = response.status < 500 ? 'Client' : 'Server';
    const reason = STATUS_CODES[response.status] ?? 'Unknown';
    const description = `${response.status} ${kind} Error: ${reason} for url: ${this.scrub(url)}`;
    const apiMessage = extractApiMessage(response.headers['content-type'], response.body);
    return new HTTPCallErrorError(description, response.status, apiMessage === null ? null : this.scrub(apiMessage));
  }

  /** `api_key=` values first (upstream's `ab***yz`), then any other occurrence of the key. */
  private scrub(text: string): string {
    return redactSecret(maskApiKey(text), this.apiKey);
  }
}

/** The state snapshot plus the shared transport, handed to every family function. */
class TransportContext implements RequestContext {
  readonly configuration: InferenceConfiguration;
  readonly mode: ClientMode;
  readonly selectedModel: string | undefined;

  constructor(
    private readonly transport: Transport,
    state: ContextState,
  ) {
    this.configuration = state.configuration;
    this.mode = state.mode;
    this.selectedModel = state.selectedModel;
  }

  get apiUrl(): string {
    return this.transport.apiUrl;
  }

  get apiKey(): string | undefined {
    return this.transport.apiKey;
  }

  get modelDescriptions(): Map<string, Promise<ModelDescription>> {
    return this.transport.modelDescriptions;
  }

  send(request: HttpRequest): Promise<HttpResponse> {
    return this.transport.send(request, this.configuration);
  }

  legacyKeyPayload(): { api_key?: string } {
    return this.keyUnless(() => keyTransport(this.configuration) === 'header');
  }

  modelKeyPayload(): { api_key?: string } {
    return this.keyUnless(() => this.mode !== 'v1' || keyTransport(this.configuration) === 'header');
  }

  modelKeyQuery(): { api_key?: string } {
    return this.keyUnless(() => this.mode !== 'v0' || keyTransport(this.configuration) === 'header');
  }

  /** Without a key there is nothing to place, and nothing to warn about (the transport stays unresolved). */
  private keyUnless(omitted: () => boolean): { api_key?: string } {
    return !this.apiKey || omitted() ? {} : { api_key: this.apiKey };
  }

  loadImages(input: ImagesInput, options?: LoadImagesOptions): Promise<EncodedImage[]> {
    return this.transport.loadImages(input, options);
  }

  mapConcurrent<T, R>(
    items: readonly T[],
    task: (item: T, signal: AbortSignal) => Promise<R>,
    signal?: AbortSignal,
  ): Promise<R[]> {
    return mapConcurrent(items, task, concurrencyLimit(this.configuration.maxConcurrentRequests), [
      signal,
      this.transport.lifetimeSignal,
    ]);
  }

  async postImages(
    path: string,
    images: readonly EncodedImage[],
    payload: Record<string, unknown>,
    options: { batchSize?: number; query?: Record<string, QueryValue>; retry?: RetryPolicy; signal?: AbortSignal } = {},
  ): Promise<unknown[]> {
    const batches = makeBatches(images, options.batchSize ?? this.configuration.maxBatchSize);
    const responses = await this.mapConcurrent(
      batches,
      async (batch, signal) => {
        const response = await this.transport.send(
          {
            method: 'POST',
            path,
            query: options.query,
            preparedBody: imagesBody(payload, batch),
            retry: options.retry ?? 'inference',
            signal,
          },
          this.configuration,
        );
        return response.json();
      },
      options.signal,
    );
    return responses.flatMap((response) => (Array.isArray(response) ? response : [response]));
  }
}

// ---- concurrency and batching ----------------------------------------------------------------

function concurrencyLimit(value: number): number {
  return Number.isFinite(value) && value >= 1 ? Math.floor(value) : 1;
}

/** Upstream's `make_batches`: consecutive chunks; sizes below 1 behave as 1. */
export function makeBatches<T>(items: readonly T[], batchSize: number): T[][] {
  const size = concurrencyLimit(batchSize);
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}

/** Upstream's `unwrap_single_element_list`: the bare element when there is exactly one. */
export function unwrapSingle<T>(results: T[]): T | T[] {
  return results.length === 1 ? results[0] : results;
}

export function toWireImage(image: EncodedImage): WireImage {
  return { type: 'base64', value: image.base64 };
}

/**
 * The bytes of `JSON.stringify({ ...payload, image })`, `image` being the one wire image or the
 * list of them. Base64 the client encoded or checked itself is copied in as it is: escaping a
 * frame's base64 through JSON.stringify, then converting the string to bytes, cost more than the
 * rest of a request's client-side work together.
 */
export function imagesBody(payload: Record<string, unknown>, batch: readonly EncodedImage[]): Buffer {
  if (Object.hasOwn(payload, 'image')) {
    const image = batch.length === 1 ? toWireImage(batch[0]) : batch.map(toWireImage);
    return Buffer.from(JSON.stringify({ ...payload, image }));
  }
  const head = JSON.stringify(payload);
  const opening = head === '{}' ? '{"image":' : `${head.slice(0, -1)},"image":`;
  const parts: Array<[text: string, encoding: 'utf8' | 'latin1']> = [[opening, 'utf8']];
  if (batch.length !== 1) parts.push(['[', 'latin1']);
  batch.forEach((item, index) => {
    if (index > 0) parts.push([',', 'latin1']);
    if (hasCanonicalBase64(item)) parts.push(['{"type":"base64","value":"', 'latin1'], [item.base64, 'latin1'], ['"}', 'latin1']);
    else parts.push([JSON.stringify(toWireImage(item)), 'utf8']);
  });
  if (batch.length !== 1) parts.push([']', 'latin1']);
  parts.push(['}', 'latin1']);
  const body = Buffer.allocUnsafe(parts.reduce((size, [text, encoding]) => size + Buffer.byteLength(text, encoding), 0));
  let offset = 0;
  for (const [text, encoding] of parts) offset += body.write(text, offset, encoding);
  return body;
}

/**
 * At most `limit` tasks in flight; a finished task immediately makes room for the next (a sliding
 * window). Results keep input order; the first failure rejects and aborts the others.
 */
export function mapConcurrent<T, R>(
  items: readonly T[],
  task: (item: T, signal: AbortSignal) => Promise<R>,
  limit: number,
  outer: ReadonlyArray<AbortSignal | undefined> = [],
): Promise<R[]> {
  const aborted = outer.find((signal) => signal?.aborted);
  if (aborted) return Promise.reject(aborted.reason);
  if (items.length === 0) return Promise.resolve([]);
  if (items.length === 1) return runOne(items[0], task, outer);
  const stopOnFailure = new AbortController();
  const link = linkSignals([stopOnFailure.signal, ...outer]);
  // Every task in flight listens to this one signal; more than ten is normal, not a leak.
  setMaxListeners(0, link.signal);
  const signal = link.signal;
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal.aborted) {
      const index = next;
      next += 1;
      results[index] = await task(items[index], signal);
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, worker);
  const settled = new Promise<R[]>((resolve, reject) => {
    let finished = 0;
    let failed = false;
    for (const running of workers) {
      running.then(
        () => {
          finished += 1;
          if (finished < workers.length || failed) return;
          if (signal.aborted) reject(signal.reason);
          else resolve(results);
        },
        (error: unknown) => {
          if (failed) return;
          failed = true;
          stopOnFailure.abort(error);
          reject(error);
        },
      );
    }
  });
  // Once settled the linked signal is either aborted or no longer needed by any task.
  return settled.finally(() => link.release());
}

/** mapConcurrent of one item (most calls): no other task to stop when it fails. */
async function runOne<T, R>(
  item: T,
  task: (item: T, signal: AbortSignal) => Promise<R>,
  outer: ReadonlyArray<AbortSignal | undefined>,
): Promise<R[]> {
  const link = linkSignals(outer);
  try {
    const result = await task(item, link.signal);
    if (link.signal.aborted) throw link.signal.reason;
    return [result];
  } finally {
    link.release();
  }
}

/**
 * One signal that aborts when any source does (or `abort()` is called), with `release()`
 * detaching it from the sources. Unlike Node 20's AbortSignal.any, nothing stays attached to the
 * client's long-lived signal once a request is over, so memory stays flat at camera frame rates.
 */
export function linkSignals(sources: ReadonlyArray<AbortSignal | undefined>): {
  signal: AbortSignal;
  abort(reason?: unknown): void;
  release(): void;
} {
  const controller = new AbortController();
  const attached: Array<[AbortSignal, () => void]> = [];
  const release = () => {
    for (const [source, onAbort] of attached.splice(0)) source.removeEventListener('abort', onAbort);
  };
  for (const source of sources) {
    if (!source) continue;
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const onAbort = () => {
      controller.abort(source.reason);
      release();
    };
    source.addEventListener('abort', onAbort, { once: true });
    attached.push([source, onAbort]);
  }
  if (controller.signal.aborted) release();
  return { signal: controller.signal, abort: (reason) => controller.abort(reason), release };
}

// ---- wire helpers ------------------------------------------------------------------------------

/** `undefined`/`null` dropped, booleans lower-case, arrays as repeated keys; '' when nothing is left. */
export function queryString(query: Record<string, QueryValue> | undefined): string {
  const parameters = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) parameters.append(key, String(item));
  }
  const text = parameters.toString();
  return text ? `?${text}` : '';
}

/** Milliseconds before the next attempt: the server's Retry-After (seconds or a date) up to a cap, else a jittered wait. */
export function retryDelay(retryAfter: string | undefined): number {
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    const milliseconds = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(milliseconds)) return Math.min(Math.max(milliseconds, 0), MAX_RETRY_AFTER_MS);
  }
  return MAX_JITTER_MS * Math.random();
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function makeResponse(status: number, headers: Record<string, string>, body: Buffer, target: () => string): HttpResponse {
  return {
    status,
    headers,
    body,
    json<T>(): T {
      try {
        return JSON.parse(body.toString('utf8')) as T;
      } catch {
        throw new HTTPClientError(
          `Expected JSON from ${target()} (status ${status}, content-type ${headers['content-type'] ?? 'none'}), ` +
            `got: ${snippet(body.toString('utf8')) || '(empty body)'}`,
        );
      }
    },
  };
}

function snippet(text: string): string {
  return truncate(text.trim(), API_MESSAGE_LIMIT);
}

/** FastAPI's 422 `detail` is a list of `{loc, msg}`; anything else non-empty is shown as it is. */
function describeDetail(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    return value
      .map((item: unknown) => {
        const entry = item as { loc?: unknown; msg?: unknown };
        if (entry && typeof entry.msg === 'string') {
          return Array.isArray(entry.loc) ? `${entry.loc.join('.')}: ${entry.msg}` : entry.msg;
        }
        return JSON.stringify(item);
      })
      .join('; ');
  }
  return JSON.stringify(value);
}

/**
 * Upstream's `api_message`: for JSON bodies `message`, else `detail`, else "N/A", plus
 * `inner_error_message`; for other bodies their (truncated) text.
 */
export function extractApiMessage(contentType: string | undefined, body: Buffer): string | null {
  const text = body.toString('utf8');
  if (contentType?.includes('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return snippet(text) || null;
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const record = parsed as Record<string, unknown>;
      const message = describeDetail(record.message) ?? describeDetail(record.detail) ?? 'N/A';
      const inner = describeDetail(record.inner_error_message);
      return snippet(inner ? `${message}. More details: ${inner}` : message);
    }
  }
  return snippet(text) || null;
}

// ---- uniform error wrapping ------------------------------------------------------------------

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

function codeOf(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function isConnectionError(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && (code.startsWith('UND_ERR') || code.startsWith('ECONN') || code === 'ENOTFOUND' || code === 'EPIPE');
}

function maskField(target: object, field: string, apiKey: string | undefined): void {
  const value = (target as Record<string, unknown>)[field];
  if (typeof value !== 'string') return;
  const masked = redactSecret(maskApiKey(value), apiKey);
  // defineProperty, not assignment: some errors (DOMException) expose message through a getter.
  if (masked !== value) Object.defineProperty(target, field, { value: masked, writable: true, configurable: true });
}

/**
 * What every public method lets escape: client errors with the API key masked everywhere, and
 * stray transport errors turned into HTTPClientError. Aborts pass through as they are, other errors masked.
 */
export function wrapError(error: unknown, apiKey: string | undefined): unknown {
  if (isAbortError(error)) return error;
  if (error instanceof HTTPClientError) {
    for (const field of ['message', 'stack', 'description', 'apiMessage']) maskField(error, field, apiKey);
    return error;
  }
  if (isConnectionError(error)) {
    return new HTTPClientError(`Error with server connection: ${redactSecret(maskApiKey(describeError(error)), apiKey)}`);
  }
  if (error instanceof Error) for (const field of ['message', 'stack']) maskField(error, field, apiKey);
  return error;
}

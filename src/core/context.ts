// The contract between the client's state (client.ts) and the endpoint families
// (inference.ts, models.ts, coreModels.ts, workflows.ts, pipelines.ts, streams.ts).
// Each family is a set of functions taking a RequestContext first, so the families never
// touch the client's mutable state and scoped overrides (useModel, useApiV0, ...) stay isolated.
import type { InferenceConfiguration } from './configuration';
import type { ModelDescription } from './models';

export type ClientMode = 'v0' | 'v1';

/** Last argument of every public method. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** Raw pixels, e.g. from a camera frame or `sharp().raw()`; encoded to JPEG before sending. */
export interface RawPixels {
  data: Buffer | Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/**
 * One image: encoded bytes, a file path, an http(s) URL, a base64 string or data URI,
 * `{ type: 'base64', value }`, or raw pixels.
 */
export type ImageInput = Buffer | string | { type: 'base64'; value: string } | RawPixels;
/** One image or a (for workflows, nested) list of them. */
export type ImagesInput = ImageInput | ImagesInput[];

/** What the server receives for one image. */
export interface WireImage {
  type: 'base64';
  value: string;
}

/** One loaded image, ready to send. `scalingFactor` is set only when the client downsized it. */
export interface EncodedImage {
  base64: string;
  scalingFactor: number | null;
}

export interface LoadImagesOptions {
  /** Downsizing bounds; both unset means "send as given". */
  maxHeight?: number;
  maxWidth?: number;
  signal?: AbortSignal;
}

export type QueryScalar = string | number | boolean;
/** `undefined` and `null` are dropped, booleans are sent lower-case, arrays repeat the key. */
export type QueryValue = QueryScalar | QueryScalar[] | null | undefined;

/**
 * Retry policy: `inference` = upstream's model-call policy (429/503/504 and connection errors,
 * 3 attempts, jittered waits up to 1 s, Retry-After honoured up to a cap); `workflow` = the
 * workflow policy (same triggers, governed by `workflowRunRetriesEnabled`, upstream's
 * "retry did not succeed" errors); `none` = one attempt.
 */
export type RetryPolicy = 'inference' | 'workflow' | 'none';

export interface HttpRequest {
  method: 'GET' | 'POST';
  /** Path below the api URL, starting with '/'. */
  path: string;
  query?: Record<string, QueryValue>;
  /** JSON body, sent with Content-Type: application/json. */
  json?: unknown;
  /** Raw text body (the v0 route's bare base64), sent with Content-Type: application/json. */
  textBody?: string;
  headers?: Record<string, string>;
  /** Leave out the Authorization header even in `both`/`header` transport (only `/info`). */
  anonymous?: boolean;
  retry?: RetryPolicy;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
  /** Parses the body as JSON; a body that is not JSON raises a clear HTTPClientError. */
  json<T = unknown>(): T;
}

export interface RequestContext {
  readonly apiUrl: string;
  readonly apiKey: string | undefined;
  readonly mode: ClientMode;
  readonly configuration: InferenceConfiguration;
  readonly selectedModel: string | undefined;
  /**
   * De-aliased model id -> its registry description, shared by every call of one client so v1
   * infer does not ask the registry every frame; entries go when a model is unloaded or reported missing.
   */
  readonly modelDescriptions: Map<string, Promise<ModelDescription>>;

  /**
   * Sends one request on the client's connection pool, with the Authorization header per the
   * key transport. Resolves for status < 400; otherwise rejects with HTTPCallErrorError
   * (transport failures: HTTPClientError). Every message has the API key masked.
   */
  send(request: HttpRequest): Promise<HttpResponse>;

  /** `{ api_key }` for bodies that carry the key in legacy/both transport (v0 query, v1 infer, /model/add, workflows, pipelines). */
  legacyKeyPayload(): { api_key?: string };
  /** `{ api_key }` in the JSON body of core-model endpoints: v1 mode and not header transport. */
  modelKeyPayload(): { api_key?: string };
  /** `{ api_key }` in the query of core-model endpoints: v0 mode and not header transport. */
  modelKeyQuery(): { api_key?: string };

  /** Loads, validates and encodes images in input order (nested lists flattened). */
  loadImages(input: ImagesInput, options?: LoadImagesOptions): Promise<EncodedImage[]>;

  /**
   * Runs `task` for each item with at most `maxConcurrentRequests` in flight (a sliding window,
   * not waves); results in input order; the first failure rejects and aborts the rest.
   */
  mapConcurrent<T, R>(items: readonly T[], task: (item: T, signal: AbortSignal) => Promise<R>, signal?: AbortSignal): Promise<R[]>;

  /**
   * The common "post images" pattern: images cut into batches of `batchSize` (default
   * `maxBatchSize`), each batch one POST with `payload` plus `image` (an object for one image, an
   * array for several), run through mapConcurrent, array responses flattened, results in order.
   */
  postImages(
    path: string,
    images: readonly EncodedImage[],
    payload: Record<string, unknown>,
    options?: { batchSize?: number; query?: Record<string, QueryValue>; retry?: RetryPolicy; signal?: AbortSignal },
  ): Promise<unknown[]>;
}

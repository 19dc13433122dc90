// Model management on a v1 server: /model/registry, /model/add, /model/remove, /model/clear.
// The selection side effects (loadModel's setAsDefault, clearing on unload) live in client.ts.
import { resolveModelAlias } from './aliases';
import type { CallOptions, RequestContext } from './context';
import { HTTPClientError, ModelNotInitializedError, WrongClientModeError } from './errors';

export interface ModelDescription {
  modelId: string;
  taskType: string;
  /** A number, or a string such as "batch" for dynamic batching, or null. */
  batchSize: number | string | null;
  inputHeight: number | null;
  inputWidth: number | null;
}

export interface RegisteredModels {
  models: ModelDescription[];
}

export function assertApiV1(context: RequestContext): void {
  if (context.mode !== 'v1') throw new WrongClientModeError('Use client mode `v1` to run this operation.');
}

function optionalNumber(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

function toModelDescription(entry: unknown): ModelDescription {
  const raw = (entry ?? {}) as Record<string, unknown>;
  if (typeof raw.model_id !== 'string' || typeof raw.task_type !== 'string') {
    throw new HTTPClientError(`Unexpected model registry entry: ${JSON.stringify(entry)?.slice(0, 200)}`);
  }
  return {
    modelId: raw.model_id,
    taskType: raw.task_type,
    batchSize: typeof raw.batch_size === 'number' || typeof raw.batch_size === 'string' ? raw.batch_size : null,
    inputHeight: optionalNumber(raw.input_height),
    inputWidth: optionalNumber(raw.input_width),
  };
}

/** Parses a `ModelsDescriptions` answer; extra keys (vram, gpu memory ...) are ignored, as upstream. */
function toRegisteredModels(body: unknown): RegisteredModels {
  const models = (body as { models?: unknown } | null)?.models;
  if (!Array.isArray(models)) throw new HTTPClientError('Unexpected model registry answer: no "models" list.');
  return { models: models.map(toModelDescription) };
}

function findModel(registered: RegisteredModels, modelId: string): ModelDescription | undefined {
  return registered.models.find((model) => model.modelId === modelId);
}

export async function listLoadedModels(context: RequestContext, options: CallOptions = {}): Promise<RegisteredModels> {
  assertApiV1(context);
  const response = await context.send({
    method: 'GET',
    path: '/model/registry',
    query: context.legacyKeyPayload(),
    signal: options.signal,
  });
  return toRegisteredModels(response.json());
}

export async function loadModel(context: RequestContext, modelId: string, options: CallOptions = {}): Promise<RegisteredModels> {
  assertApiV1(context);
  const response = await context.send({
    method: 'POST',
    path: '/model/add',
    json: { model_id: resolveModelAlias(modelId), ...context.legacyKeyPayload() },
    signal: options.signal,
  });
  return toRegisteredModels(response.json());
}

export async function unloadModel(context: RequestContext, modelId: string, options: CallOptions = {}): Promise<RegisteredModels> {
  assertApiV1(context);
  const resolved = resolveModelAlias(modelId);
  forgetDescription(context, resolved);
  const response = await context.send({
    method: 'POST',
    path: '/model/remove',
    json: { model_id: resolved },
    signal: options.signal,
  });
  return toRegisteredModels(response.json());
}

export async function unloadAllModels(context: RequestContext, options: CallOptions = {}): Promise<RegisteredModels> {
  assertApiV1(context);
  context.modelDescriptions.clear();
  const response = await context.send({ method: 'POST', path: '/model/clear', signal: options.signal });
  return toRegisteredModels(response.json());
}

/**
 * The registry entry of a model; when absent and `allowLoading`, loads it and takes the entry from
 * the /model/add answer. Always asks the server (the cached variant is `describeModelCached`).
 */
export async function getModelDescription(
  context: RequestContext,
  modelId: string,
  allowLoading = true,
  options: CallOptions = {},
): Promise<ModelDescription> {
  assertApiV1(context);
  const resolved = resolveModelAlias(modelId);
  const found = findModel(await listLoadedModels(context, options), resolved);
  if (found) return found;
  if (allowLoading) {
    const loaded = findModel(await loadModel(context, resolved, options), resolved);
    if (loaded) return loaded;
  }
  throw new ModelNotInitializedError(
    `Model ${modelId} (de-aliased: ${resolved}) is not loaded on the server` +
      (allowLoading ? ' and could not be loaded.' : ' and loading was not allowed.'),
  );
}

/**
 * `getModelDescription` for an already de-aliased id, remembered per client until the model is
 * unloaded or an inference reports it missing; concurrent first calls share one registry query.
 */
export function describeModelCached(context: RequestContext, resolvedModelId: string, options: CallOptions = {}): Promise<ModelDescription> {
  const cache = context.modelDescriptions;
  const cached = cache.get(resolvedModelId);
  if (cached) return cached;
  // Shared by concurrent callers, so one caller's abort must not fail the others' lookup.
  const lookup = getModelDescription(context, resolvedModelId, true);
  cache.set(resolvedModelId, lookup);
  lookup.catch(() => {
    if (cache.get(resolvedModelId) === lookup) cache.delete(resolvedModelId);
  });
  return options.signal ? raceAbort(lookup, options.signal) : lookup;
}

export function forgetDescription(context: RequestContext, resolvedModelId: string): void {
  context.modelDescriptions.delete(resolvedModelId);
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

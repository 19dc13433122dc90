// Workflows: run_workflow / infer_from_workflow (§1.8.13 of the protocol reference), plus the
// interface and block descriptions the server offers (§2.8) for the editor.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { deprecate } from 'node:util';
import type { VisualisationResponseFormat } from './configuration';
import type { CallOptions, ImagesInput, RequestContext, WireImage } from './context';
import { optional, type JsonObject } from './coreModels';
import { HTTPClientError, InvalidParameterError } from './errors';
import { toWireImage } from './execution';

/** A workflow image input: one image or nested batches of them. */
export type NestedWireImages = WireImage | NestedWireImages[];

interface WorkflowRunCommon {
  /** Image inputs by name; a value may be one image or (nested) lists of images. */
  images?: Record<string, ImagesInput>;
  /** Other inputs by name; a parameter with an image's name replaces that image. */
  parameters?: Record<string, unknown>;
  excludedFields?: string[];
  useCache?: boolean;
  enableProfiling?: boolean;
  /** Named workflows only. */
  workflowVersionId?: string;
  disableSinks?: boolean;
  /** With profiling on, also receives the server's trace (e.g. for a Node-RED message). */
  onProfilerTrace?: (trace: unknown) => void;
}

export interface RunWorkflowOptions extends WorkflowRunCommon {
  workspaceName?: string;
  workflowId?: string;
  specification?: JsonObject;
}

/** @deprecated Use runWorkflow with `workflowId`. */
export interface InferFromWorkflowOptions extends WorkflowRunCommon {
  workspaceName?: string;
  workflowName?: string;
  specification?: JsonObject;
}

/** One output dict per batch element; `type: base64` images are decoded per `outputVisualisationFormat`. */
export type WorkflowOutputs = JsonObject[];

export type DescribeWorkflowInterfaceOptions =
  | { workspaceName: string; workflowId: string; workflowVersionId?: string; useCache?: boolean }
  | { specification: JsonObject };

export interface WorkflowInterface extends JsonObject {
  inputs: Record<string, string[]>;
  outputs: Record<string, unknown>;
  typing_hints: Record<string, string>;
  kinds_schemas: Record<string, unknown>;
}

export interface ListWorkflowBlocksOptions {
  dynamicBlocksDefinitions?: JsonObject[];
  executionEngineVersion?: string;
}

interface WorkflowTarget {
  workspaceName?: string;
  workflowId?: string;
  specification?: JsonObject;
}

const XOR_MESSAGE =
  'Parameters (`workspace_name`, `workflow_id` / `workflow_name`) can be used mutually exclusive with ' +
  '`specification`, but at least one must be set.';

const warnInferFromWorkflowDeprecated = deprecate(
  () => undefined,
  'inferFromWorkflow() is deprecated and uses the legacy /infer/workflows routes; use runWorkflow().',
  'INFERENCE_RED_INFER_FROM_WORKFLOW',
);

export async function runWorkflow(
  context: RequestContext,
  options: RunWorkflowOptions,
  call?: CallOptions,
): Promise<WorkflowOutputs> {
  return executeWorkflow(context, options, false, call);
}

/** @deprecated Use runWorkflow(); this one calls the legacy `/infer/workflows` routes. */
export async function inferFromWorkflow(
  context: RequestContext,
  options: InferFromWorkflowOptions,
  call?: CallOptions,
): Promise<WorkflowOutputs> {
  warnInferFromWorkflowDeprecated();
  const { workflowName, ...rest } = options;
  return executeWorkflow(context, { ...rest, workflowId: workflowName }, true, call);
}

export async function describeWorkflowInterface(
  context: RequestContext,
  options: DescribeWorkflowInterfaceOptions,
  call?: CallOptions,
): Promise<WorkflowInterface> {
  const target: WorkflowTarget & { workflowVersionId?: string; useCache?: boolean } = options;
  const request = isNamedWorkflow(target)
    ? {
        path: `${workflowPath(target)}/describe_interface`,
        json: {
          ...context.legacyKeyPayload(),
          use_cache: target.useCache ?? true,
          ...optional('workflow_version_id', target.workflowVersionId),
        },
      }
    : { path: '/workflows/describe_interface', json: { ...context.legacyKeyPayload(), specification: target.specification } };
  const response = await context.send({ method: 'POST', ...request, retry: 'none', signal: call?.signal });
  return response.json<WorkflowInterface>();
}

export async function listWorkflowBlocks(
  context: RequestContext,
  options: ListWorkflowBlocksOptions = {},
  call?: CallOptions,
): Promise<JsonObject> {
  const { dynamicBlocksDefinitions = [], executionEngineVersion } = options;
  const response = await context.send({
    method: 'POST',
    path: '/workflows/blocks/describe',
    json: {
      ...context.legacyKeyPayload(),
      dynamic_blocks_definitions: dynamicBlocksDefinitions,
      ...optional('execution_engine_version', executionEngineVersion),
    },
    retry: 'none',
    signal: call?.signal,
  });
  return response.json<JsonObject>();
}

async function executeWorkflow(
  context: RequestContext,
  options: RunWorkflowOptions,
  legacyRoutes: boolean,
  call?: CallOptions,
): Promise<WorkflowOutputs> {
  const { specification, images = {}, parameters = {}, excludedFields, useCache = true, enableProfiling = false } = options;
  const named = isNamedWorkflow(options);
  const signal = call?.signal;
  // Key order as upstream's payload, so captured traffic compares one to one.
  const payload: JsonObject = {
    ...context.legacyKeyPayload(),
    use_cache: useCache,
    enable_profiling: enableProfiling,
  };
  if (options.disableSinks) payload.disable_sinks = true;
  payload.inputs = { ...(await loadWorkflowImages(context, images, signal)), ...parameters };
  if (excludedFields !== undefined) payload.excluded_fields = excludedFields;
  if (specification !== undefined) payload.specification = specification;
  if (named && options.workflowVersionId !== undefined) payload.workflow_version_id = options.workflowVersionId;

  const response = await context.send({
    method: 'POST',
    path: runPath(options, named, legacyRoutes),
    json: payload,
    retry: 'workflow',
    signal,
  });
  const body = response.json<{ outputs?: unknown; profiler_trace?: unknown }>();
  if (!Array.isArray(body.outputs)) throw new HTTPClientError('Workflow response has no `outputs` list.');
  if (enableProfiling) {
    await saveProfilerTrace(context.configuration.profilingDirectory, body.profiler_trace ?? []);
    options.onProfilerTrace?.(body.profiler_trace ?? []);
  }
  return decodeWorkflowOutputs(body.outputs, context.configuration.outputVisualisationFormat) as WorkflowOutputs;
}

/** Exactly one of (workspace and workflow id) or a specification; upstream's check and message. */
export function isNamedWorkflow(target: WorkflowTarget, message = XOR_MESSAGE): boolean {
  const named = target.workspaceName != null && target.workflowId != null;
  if (named === (target.specification != null)) throw new InvalidParameterError(message);
  return named;
}

/** `/<workspace>/workflows/<id>`; only called once isNamedWorkflow has checked both are set. */
function workflowPath(target: WorkflowTarget): string {
  const [workspace, workflow] = encodedNames(target);
  return `/${workspace}/workflows/${workflow}`;
}

function runPath(target: WorkflowTarget, named: boolean, legacyRoutes: boolean): string {
  if (!named) return legacyRoutes ? '/infer/workflows' : '/workflows/run';
  if (!legacyRoutes) return workflowPath(target);
  const [workspace, workflow] = encodedNames(target);
  return `/infer/workflows/${workspace}/${workflow}`;
}

function encodedNames(target: WorkflowTarget): [string, string] {
  return [encodeURIComponent(target.workspaceName as string), encodeURIComponent(target.workflowId as string)];
}

/** Each input's images as given (no downsizing), nesting of batches kept. */
async function loadWorkflowImages(
  context: RequestContext,
  images: Record<string, ImagesInput>,
  signal?: AbortSignal,
): Promise<Record<string, NestedWireImages>> {
  const entries = await Promise.all(
    Object.entries(images).map(async ([name, input]) => {
      const loaded = (await context.loadImages(input, { signal })).values();
      return [name, nestLike(input, () => toWireImage(loaded.next().value!))] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Rebuilds the list structure of `shape`, taking leaves in order from `nextLeaf`. */
function nestLike(shape: ImagesInput, nextLeaf: () => WireImage): NestedWireImages {
  return Array.isArray(shape) ? shape.map((element) => nestLike(element, nextLeaf)) : nextLeaf();
}

/** upstream's decode_workflow_outputs: every `{ type: 'base64', value }` becomes its value (or bytes). */
function decodeWorkflowOutputs(value: unknown, format: VisualisationResponseFormat): unknown {
  if (Array.isArray(value)) return value.map((element) => decodeWorkflowOutputs(element, format));
  if (typeof value !== 'object' || value === null) return value;
  const record = value as JsonObject;
  if (record.type === 'base64') {
    return format === 'buffer' ? Buffer.from(String(record.value), 'base64') : record.value;
  }
  return Object.fromEntries(Object.entries(record).map(([key, element]) => [key, decodeWorkflowOutputs(element, format)]));
}

async function saveProfilerTrace(directory: string, trace: unknown): Promise<void> {
  const target = resolve(directory);
  await mkdir(target, { recursive: true });
  // "tack" is upstream's spelling; tools that collect these traces look for it.
  await writeFile(join(target, `workflow_execution_tack_${timestamp(new Date())}.json`), JSON.stringify(trace));
}

/** Local time as YYYY_MM_DD_HH_MM_SS, like upstream's strftime. */
function timestamp(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()]
    .map(pad)
    .join('_');
}

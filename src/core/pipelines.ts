// Inference pipelines (§1.8.14 of the protocol reference): video processing run by the server,
// experimental upstream. Payloads, including the JSON bodies on GET requests, are upstream's.
import type { CallOptions, RequestContext } from './context';
import type { JsonObject } from './coreModels';
import { InvalidParameterError } from './errors';
import { isNamedWorkflow } from './workflows';

export type BufferFillingStrategy = 'WAIT' | 'DROP_OLDEST' | 'ADAPTIVE_DROP_OLDEST' | 'DROP_LATEST' | 'ADAPTIVE_DROP_LATEST';
export type BufferConsumptionStrategy = 'LAZY' | 'EAGER';

export interface StartInferencePipelineOptions {
  /** Video file, stream URL or camera index, or a list of them. */
  videoReference: string | number | (string | number)[];
  workflowSpecification?: JsonObject;
  workspaceName?: string;
  workflowId?: string;
  imageInputName?: string;
  workflowsParameters?: JsonObject;
  workflowsThreadPoolWorkers?: number;
  cancelThreadPoolTasksOnExit?: boolean;
  videoMetadataInputName?: string;
  maxFps?: number;
  sourceBufferFillingStrategy?: BufferFillingStrategy;
  sourceBufferConsumptionStrategy?: BufferConsumptionStrategy;
  videoSourceProperties?: Record<string, number>;
  batchCollectionTimeout?: number;
  resultsBufferSize?: number;
}

/** `{ status, context: { request_id, pipeline_id }, ... }` as the server answers. */
export type PipelineResponse = JsonObject;

const XOR_MESSAGE =
  'Parameters (`workspace_name`, `workflow_id`) can be used mutually exclusive with ' +
  '`workflow_specification`, but at least one must be set.';

export async function startInferencePipelineWithWorkflow(
  context: RequestContext,
  options: StartInferencePipelineOptions,
  call?: CallOptions,
): Promise<PipelineResponse> {
  const {
    videoReference,
    workflowSpecification,
    workspaceName,
    workflowId,
    imageInputName = 'image',
    workflowsParameters,
    workflowsThreadPoolWorkers = 4,
    cancelThreadPoolTasksOnExit = true,
    videoMetadataInputName = 'video_metadata',
    maxFps,
    sourceBufferFillingStrategy = 'DROP_OLDEST',
    sourceBufferConsumptionStrategy = 'EAGER',
    videoSourceProperties,
    batchCollectionTimeout,
    resultsBufferSize = 64,
  } = options;
  isNamedWorkflow({ workspaceName, workflowId, specification: workflowSpecification }, XOR_MESSAGE);
  // Unset options are sent as null, as upstream does; the server applies its own defaults.
  const payload = {
    ...context.legacyKeyPayload(),
    video_configuration: {
      type: 'VideoConfiguration',
      video_reference: videoReference,
      max_fps: maxFps ?? null,
      source_buffer_filling_strategy: sourceBufferFillingStrategy,
      source_buffer_consumption_strategy: sourceBufferConsumptionStrategy,
      video_source_properties: videoSourceProperties ?? null,
      batch_collection_timeout: batchCollectionTimeout ?? null,
    },
    processing_configuration: {
      type: 'WorkflowConfiguration',
      workflow_specification: workflowSpecification ?? null,
      workspace_name: workspaceName ?? null,
      workflow_id: workflowId ?? null,
      image_input_name: imageInputName,
      workflows_parameters: workflowsParameters ?? null,
      workflows_thread_pool_workers: workflowsThreadPoolWorkers,
      cancel_thread_pool_tasks_on_exit: cancelThreadPoolTasksOnExit,
      video_metadata_input_name: videoMetadataInputName,
    },
    sink_configuration: {
      type: 'MemorySinkConfiguration',
      results_buffer_size: resultsBufferSize,
    },
  };
  return sendPipelineRequest(context, 'POST', '/inference_pipelines/initialise', payload, call);
}

export async function listInferencePipelines(context: RequestContext, call?: CallOptions): Promise<PipelineResponse> {
  return sendPipelineRequest(context, 'GET', '/inference_pipelines/list', context.legacyKeyPayload(), call);
}

export async function getInferencePipelineStatus(
  context: RequestContext,
  pipelineId: string,
  call?: CallOptions,
): Promise<PipelineResponse> {
  return sendPipelineRequest(context, 'GET', pipelinePath(pipelineId, 'status'), context.legacyKeyPayload(), call);
}

export async function pauseInferencePipeline(
  context: RequestContext,
  pipelineId: string,
  call?: CallOptions,
): Promise<PipelineResponse> {
  return sendPipelineRequest(context, 'POST', pipelinePath(pipelineId, 'pause'), context.legacyKeyPayload(), call);
}

export async function resumeInferencePipeline(
  context: RequestContext,
  pipelineId: string,
  call?: CallOptions,
): Promise<PipelineResponse> {
  return sendPipelineRequest(context, 'POST', pipelinePath(pipelineId, 'resume'), context.legacyKeyPayload(), call);
}

export async function terminateInferencePipeline(
  context: RequestContext,
  pipelineId: string,
  call?: CallOptions,
): Promise<PipelineResponse> {
  return sendPipelineRequest(context, 'POST', pipelinePath(pipelineId, 'terminate'), context.legacyKeyPayload(), call);
}

export async function consumeInferencePipelineResult(
  context: RequestContext,
  pipelineId: string,
  excludedFields: string[] = [],
  call?: CallOptions,
): Promise<PipelineResponse> {
  const payload = { ...context.legacyKeyPayload(), excluded_fields: excludedFields };
  return sendPipelineRequest(context, 'GET', pipelinePath(pipelineId, 'consume'), payload, call);
}

function pipelinePath(pipelineId: string, action: string): string {
  if (!pipelineId) throw new InvalidParameterError('Empty `pipeline_id` parameter detected');
  return `/inference_pipelines/${encodeURIComponent(pipelineId)}/${action}`;
}

/** Upstream sends these without retries. */
async function sendPipelineRequest(
  context: RequestContext,
  method: 'GET' | 'POST',
  path: string,
  json: JsonObject,
  call?: CallOptions,
): Promise<PipelineResponse> {
  const response = await context.send({ method, path, json, retry: 'none', signal: call?.signal });
  return response.json<PipelineResponse>();
}

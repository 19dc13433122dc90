// /info and model inference: v0 (the hosted legacy route /{project}/{version}, bare base64 body)
// and v1 (/infer/<task> with a JSON body, task type and input size from the model registry).
import { resolveModelAlias } from './aliases';
import {
  type InferenceConfiguration,
  type Parameters,
  toApiV1QueryParameters,
  toClassificationParameters,
  toInstanceSegmentationParameters,
  toKeypointsDetectionParameters,
  toLegacyCallParameters,
  toObjectDetectionParameters,
} from './configuration';
import type { CallOptions, HttpResponse, ImagesInput, LoadImagesOptions, QueryValue, RequestContext } from './context';
import {
  APIKeyNotProvided,
  HTTPCallErrorError,
  HTTPClientError,
  InvalidModelIdentifier,
  ModelNotSelectedError,
  ModelTaskTypeNotSupportedError,
} from './errors';
import { unwrapSingle } from './execution';
import { rescalePrediction, validateImagesInput } from './images';
import { assertApiV1, describeModelCached, forgetDescription, type ModelDescription } from './models';

export interface ServerInfo {
  name: string;
  version: string;
  uuid: string;
}

/** One image's result as the server sent it (predictions rescaled, visualisation transcoded). */
export type InferenceResult = Record<string, unknown>;

interface TaskEndpoint {
  path: string;
  parameters: (configuration: InferenceConfiguration) => Parameters;
}

const TASK_ENDPOINTS: Record<string, TaskEndpoint> = {
  'object-detection': { path: '/infer/object_detection', parameters: toObjectDetectionParameters },
  'instance-segmentation': { path: '/infer/instance_segmentation', parameters: toInstanceSegmentationParameters },
  classification: { path: '/infer/classification', parameters: toClassificationParameters },
  'keypoint-detection': { path: '/infer/keypoints_detection', parameters: toKeypointsDetectionParameters },
};

export async function getServerInfo(context: RequestContext, options: CallOptions = {}): Promise<ServerInfo> {
  const response = await context.send({ method: 'GET', path: '/info', anonymous: true, signal: options.signal });
  const body = response.json<Partial<ServerInfo> | null>();
  if (typeof body?.name !== 'string' || typeof body.version !== 'string' || typeof body.uuid !== 'string') {
    throw new HTTPClientError('Unexpected /info answer: expected name, version and uuid.');
  }
  return { name: body.name, version: body.version, uuid: body.uuid };
}

/** Infers with the current mode's protocol; one image gives an object, several give an array. */
export function infer(
  context: RequestContext,
  input: ImagesInput,
  modelId?: string,
  options: CallOptions = {},
): Promise<InferenceResult | InferenceResult[]> {
  return context.mode === 'v0'
    ? inferFromApiV0(context, input, modelId, options)
    : inferFromApiV1(context, input, modelId, options);
}

export async function inferFromApiV0(
  context: RequestContext,
  input: ImagesInput,
  modelId?: string,
  options: CallOptions = {},
): Promise<InferenceResult | InferenceResult[]> {
  const model = selectModel(context, modelId);
  if (!context.apiKey) throw new APIKeyNotProvided('API key must be provided in this case');
  validateImagesInput(input);
  const chunks = resolveModelAlias(model).split('/');
  if (chunks.length !== 2 || chunks.some((chunk) => chunk === '')) {
    throw new InvalidModelIdentifier(`Invalid model id: ${model}. Expected format: project_id/model_version_id.`);
  }
  const { configuration } = context;
  const images = await context.loadImages(input, { ...downsizingBounds(configuration), signal: options.signal });
  const path = `/${chunks.map(encodeURIComponent).join('/')}`;
  const query = { ...context.legacyKeyPayload(), ...toLegacyCallParameters(configuration) } as Record<string, QueryValue>;
  const results = await context.mapConcurrent(
    images,
    async (image, signal) => {
      const response = await context.send({ method: 'POST', path, query, textBody: image.base64, retry: 'inference', signal });
      return rescalePrediction(legacyResult(response, configuration), image.scalingFactor);
    },
    options.signal,
  );
  return unwrapSingle(results);
}

export async function inferFromApiV1(
  context: RequestContext,
  input: ImagesInput,
  modelId?: string,
  options: CallOptions = {},
): Promise<InferenceResult | InferenceResult[]> {
  assertApiV1(context);
  const model = resolveModelAlias(selectModel(context, modelId));
  validateImagesInput(input);
  const { configuration } = context;
  // Without downsizing the images do not depend on the model, so a bad file fails before any request.
  const unsized = configuration.clientDownsizingDisabled
    ? await context.loadImages(input, { signal: options.signal })
    : undefined;
  const description = await describeModelCached(context, model, options);
  const endpoint = TASK_ENDPOINTS[description.taskType];
  if (!endpoint) {
    throw new ModelTaskTypeNotSupportedError(
      `Model ${model} has task type '${description.taskType}', which the v1 infer API does not support ` +
        `(supported: ${Object.keys(TASK_ENDPOINTS).join(', ')}).`,
    );
  }
  const images =
    unsized ?? (await context.loadImages(input, { ...downsizingBounds(configuration, description), signal: options.signal }));
  const payload = { ...context.legacyKeyPayload(), model_id: model, ...endpoint.parameters(configuration) };
  let responses: unknown[];
  try {
    responses = await context.postImages(endpoint.path, images, payload, {
      query: toApiV1QueryParameters(configuration) as Record<string, QueryValue> | undefined,
      retry: 'inference',
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof HTTPCallErrorError && error.statusCode === 404) forgetDescription(context, model);
    throw error;
  }
  // As upstream's zip: answers beyond the number of images are dropped.
  const results = images.map((image, index) =>
    rescalePrediction(transcodeVisualization(responses[index] as InferenceResult, configuration), image.scalingFactor),
  );
  return unwrapSingle(results);
}

function selectModel(context: RequestContext, modelId: string | undefined): string {
  const model = modelId || context.selectedModel;
  if (!model) throw new ModelNotSelectedError('No model was selected to be used.');
  return model;
}

/** Upstream's `_determine_client_downsizing_parameters`. */
function downsizingBounds(configuration: InferenceConfiguration, description?: ModelDescription): LoadImagesOptions {
  if (configuration.clientDownsizingDisabled) return {};
  if (description?.inputHeight && description.inputWidth) {
    return { maxHeight: description.inputHeight, maxWidth: description.inputWidth };
  }
  return { maxHeight: configuration.defaultMaxInputSize, maxWidth: configuration.defaultMaxInputSize };
}

/** With `format=image` the legacy route answers with the JPEG itself. */
function legacyResult(response: HttpResponse, configuration: InferenceConfiguration): InferenceResult {
  if (response.headers['content-type']?.includes('image/jpeg')) {
    return {
      visualization:
        configuration.outputVisualisationFormat === 'buffer' ? response.body : response.body.toString('base64'),
    };
  }
  return transcodeVisualization(response.json<InferenceResult>(), configuration);
}

function transcodeVisualization(result: InferenceResult, configuration: InferenceConfiguration): InferenceResult {
  if (
    configuration.outputVisualisationFormat !== 'buffer' ||
    typeof result !== 'object' ||
    result === null ||
    typeof result.visualization !== 'string'
  ) {
    return result;
  }
  return { ...result, visualization: Buffer.from(result.visualization, 'base64') };
}

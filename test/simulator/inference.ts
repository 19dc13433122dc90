// Model routes: /info, /model/*, the v1 /infer/<task> routes and the legacy v0 /{project}/{version}.
import { randomUUID } from 'node:crypto';
import {
  HttpError,
  type Reply,
  type SimRequest,
  elapsedSeconds,
  excludeNone,
  messageError,
  ok,
  queryString,
} from './http';
import { type SimulatedModel, type TaskType, isStubModel } from './models';
import { DEFAULT_PARAMETERS, type TaskParameters, detect, taskPrediction } from './predictions';
import { type Route, type ServerState, route } from './state';
import { type BodySchema, laxBoolean, laxNumber, validateBody, validationError } from './validation';
import { type DecodedImage, decodeImageBytes, decodeImageObject, loadError, visualise } from './vision';

const TASK_OF_ROUTE: Record<string, TaskType> = {
  object_detection: 'object-detection',
  instance_segmentation: 'instance-segmentation',
  classification: 'classification',
  keypoints_detection: 'keypoint-detection',
  semantic_segmentation: 'semantic-segmentation',
};

const V1_SCHEMA: BodySchema = {
  id: { kind: 'string' },
  api_key: { kind: 'string', nullable: true },
  model_id: { kind: 'string', required: true, nullable: true },
  model_type: { kind: 'string', nullable: true },
  image: { kind: 'image', required: true },
  confidence: { kind: 'any' },
  class_filter: { kind: 'stringList', nullable: true },
  class_agnostic_nms: { kind: 'boolean' },
  fix_batch_size: { kind: 'boolean' },
  iou_threshold: { kind: 'number' },
  max_detections: { kind: 'integer' },
  max_candidates: { kind: 'integer' },
  keypoint_confidence: { kind: 'number' },
  visualize_predictions: { kind: 'boolean' },
  visualization_labels: { kind: 'boolean' },
  visualization_stroke_width: { kind: 'integer' },
  disable_preproc_auto_orient: { kind: 'boolean' },
  disable_preproc_contrast: { kind: 'boolean' },
  disable_preproc_grayscale: { kind: 'boolean' },
  disable_preproc_static_crop: { kind: 'boolean' },
  disable_active_learning: { kind: 'boolean' },
  mask_decode_mode: { kind: { literal: ['accurate', 'fast', 'tradeoff'] } },
  tradeoff_factor: { kind: 'number' },
  response_mask_format: { kind: { literal: ['polygon', 'rle'] } },
};

export const inferenceRoutes: Route[] = [
  route('GET', /^\/info$/, async (_request, state) =>
    ok({ name: 'Roboflow Inference Server', version: state.serverVersion, uuid: state.serverId }),
  ),
  route('GET', /^\/healthz$/, async () => ok({ status: 'healthy' })),
  route('GET', /^\/readiness$/, async () => ok({ status: 'ready' })),
  route('GET', /^\/model\/registry$/, async (_request, state) => ok(state.registry.describe())),
  route('POST', /^\/model\/add$/, async (request, state) => {
    const body = validateBody(request, {
      model_id: { kind: 'string', required: true },
      model_type: { kind: 'string', nullable: true },
      api_key: { kind: 'string', nullable: true },
    });
    state.registry.load(body.model_id);
    return ok(state.registry.describe());
  }),
  route('POST', /^\/model\/remove$/, async (request, state) => {
    const body = validateBody(request, { model_id: { kind: 'string', required: true } });
    state.registry.remove(body.model_id);
    return ok(state.registry.describe());
  }),
  route('POST', /^\/model\/clear$/, async (_request, state) => {
    state.registry.clear();
    return ok(state.registry.describe());
  }),
  route('POST', /^\/infer\/(object_detection|instance_segmentation|classification|keypoints_detection|semantic_segmentation)$/, inferV1),
  route('GET', /^\/clear_cache$/, async (_request, state) => {
    state.registry.clear();
    return ok('Cache Cleared');
  }),
  route('GET', /^\/start\/([^/]+)\/([^/]+)$/, async (_request, state, [dataset, version]) => {
    state.registry.load(`${dataset}/${version}`);
    return ok({ status: 200, message: 'inference session started from local memory.' });
  }),
];

/** Matched last: any other two-segment path is a legacy model route, as on the real server. */
export const legacyRoute: Route = route(['GET', 'POST'], /^\/([^/]+)\/([^/]+)$/, inferV0);

async function inferV1(request: SimRequest, state: ServerState, [task]: string[]): Promise<Reply> {
  const body = validateBody(request, V1_SCHEMA);
  const model = state.registry.load(body.model_id, request.path);
  const routeTask = TASK_OF_ROUTE[task];
  if (model.taskType !== routeTask) {
    throw messageError(
      400,
      `Model ${model.modelId} (task: ${model.taskType}) cannot serve a ${routeTask} request.`,
      { error_type: 'InvalidModelInputError' },
    );
  }
  const parameters = v1Parameters(body, model);
  const images = Array.isArray(body.image) ? body.image : [body.image];
  const disableAutoOrient = laxBoolean(body.disable_preproc_auto_orient, false);
  const decoded = await Promise.all(images.map((image) => decodeImageObject(image, { disableAutoOrient })));
  const inferenceId = typeof body.id === 'string' ? body.id : randomUUID();
  const responses = await Promise.all(decoded.map((image) => respond(request, model, image, parameters, inferenceId)));
  return withModelHeaders(ok(Array.isArray(body.image) ? responses : responses[0]), model, request);
}

function v1Parameters(body: Record<string, unknown>, model: SimulatedModel): TaskParameters {
  return {
    confidence: confidenceValue(body.confidence, model.taskType === 'keypoint-detection' ? ['default'] : ['best', 'default']),
    classFilter: Array.isArray(body.class_filter) ? (body.class_filter as string[]) : null,
    maxDetections: laxNumber(body.max_detections, DEFAULT_PARAMETERS.maxDetections),
    visualize: laxBoolean(body.visualize_predictions, false),
    strokeWidth: laxNumber(body.visualization_stroke_width, 1),
    keypointConfidence: laxNumber(body.keypoint_confidence, 0),
    maskFormat: body.response_mask_format === 'rle' ? 'rle' : 'polygon',
  };
}

function confidenceValue(value: unknown, keywords: string[]): number {
  if (value === undefined || value === null) return DEFAULT_PARAMETERS.confidence;
  if (typeof value === 'string' && keywords.includes(value)) return DEFAULT_PARAMETERS.confidence;
  const parsed = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
  if (Number.isFinite(parsed)) return parsed;
  throw validationError([
    {
      type: 'float_parsing',
      loc: ['body', 'confidence', 'float'],
      msg: 'Input should be a valid number, unable to parse string as a number',
      input: value,
    },
  ]);
}

async function respond(
  request: SimRequest,
  model: SimulatedModel,
  image: DecodedImage,
  parameters: TaskParameters,
  inferenceId: string,
): Promise<Record<string, unknown>> {
  if (isStubModel(model)) {
    return { time: elapsedSeconds(request), is_stub: true, model_id: model.modelId, task_type: model.taskType, inference_id: inferenceId };
  }
  const prediction = await taskPrediction(model, image, parameters);
  return excludeNone({ inference_id: inferenceId, frame_id: null, time: elapsedSeconds(request), ...prediction });
}

function withModelHeaders(reply: Reply, model: SimulatedModel, request: SimRequest): Reply {
  return {
    ...reply,
    headers: {
      ...reply.headers,
      'x-model-id': model.modelId,
      'x-model-cold-start': 'false',
      'x-processing-time': String(elapsedSeconds(request)),
    },
  };
}

async function inferV0(request: SimRequest, state: ServerState, [dataset, version]: string[]): Promise<Reply> {
  const model = state.registry.load(`${dataset}/${version}`, '/{dataset_id}/{version_id}');
  const countInference = queryString(request.query, 'countinference');
  if (countInference !== undefined && !laxBoolean(countInference, true) && !queryString(request.query, 'service_secret')) {
    throw messageError(500, 'Service misconfiguration.');
  }
  const format = queryString(request.query, 'format') ?? 'json';
  if (!['json', 'image', 'image_and_json'].includes(format)) {
    throw validationError([
      {
        type: 'enum',
        loc: ['query', 'format'],
        msg: "Input should be 'json', 'image' or 'image_and_json'",
        input: format,
        ctx: { expected: "'json', 'image' or 'image_and_json'" },
      },
    ]);
  }
  const parameters = v0Parameters(request, format);
  const disableAutoOrient = laxBoolean(queryString(request.query, 'disable_preproc_auto_orient'), false);
  const image = await v0Image(request, disableAutoOrient);
  if (format === 'image') {
    const boxes = model.taskType === 'classification' ? [] : detect(model, image, parameters);
    const jpeg = await visualise(image, boxes.map((box) => ({ ...box, colour: box.region.colour })), parameters.strokeWidth);
    return withModelHeaders({ status: 200, body: undefined, raw: { contentType: 'image/jpeg', data: jpeg } }, model, request);
  }
  return withModelHeaders(ok(await respond(request, model, image, parameters, randomUUID())), model, request);
}

function v0Parameters(request: SimRequest, format: string): TaskParameters {
  const percentage = (name: string, fallback: number): number => {
    const raw = queryString(request.query, name);
    const value = raw === 'best' || raw === 'default' ? fallback : v0Number(name, raw, fallback);
    return Math.max(value >= 1 ? value / 100 : value, 0.01);
  };
  return {
    confidence: percentage('confidence', DEFAULT_PARAMETERS.confidence),
    classFilter: null,
    maxDetections: v0Number('max_detections', queryString(request.query, 'max_detections'), 300),
    visualize: format === 'image_and_json',
    strokeWidth: v0Number('stroke', queryString(request.query, 'stroke'), 1),
    keypointConfidence: v0Number('keypoint_confidence', queryString(request.query, 'keypoint_confidence'), 0),
    maskFormat: queryString(request.query, 'response_mask_format') === 'rle' ? 'rle' : 'polygon',
  };
}

function v0Number(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (Number.isFinite(value)) return value;
  throw validationError([
    {
      type: 'float_parsing',
      loc: ['query', name],
      msg: 'Input should be a valid number, unable to parse string as a number',
      input: raw,
    },
  ]);
}

async function v0Image(request: SimRequest, disableAutoOrient: boolean): Promise<DecodedImage> {
  const url = queryString(request.query, 'image');
  if (url) return decodeImageObject({ type: 'url', value: url }, { disableAutoOrient });
  const contentType = request.headers['content-type'];
  if (!contentType) throw messageError(400, 'Content-Type header not provided with request.');
  if (contentType.toLowerCase().startsWith('multipart/form-data')) {
    return decodeImageBytes(await multipartFile(request, contentType), { disableAutoOrient });
  }
  const text = request.rawBody.toString('latin1').trim();
  if (text.length === 0) throw loadError('Malformed base64 input image.');
  return decodeImageObject({ type: 'base64', value: text }, { disableAutoOrient });
}

async function multipartFile(request: SimRequest, contentType: string): Promise<Buffer> {
  try {
    const form = await new Request('http://simulator.invalid/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: request.rawBody,
    }).formData();
    const file = form.get('file');
    if (file === null) throw loadError('Multipart request does not contain a `file` field.');
    return typeof file === 'string' ? Buffer.from(file) : Buffer.from(await file.arrayBuffer());
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw loadError('Malformed multipart request.');
  }
}

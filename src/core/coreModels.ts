// Core-model endpoints: CLIP, Perception Encoder, OCR, gaze, LMM, depth, SAM and YOLO-World
// (upstream's client methods of the same names, §1.8.4-1.8.12 of the protocol reference).
import { deprecate } from 'node:util';
import sharp from 'sharp';
import type { CallOptions, ImageInput, ImagesInput, RequestContext, WireImage } from './context';
import { FeatureDeprecatedError, HTTPCallErrorError, InvalidParameterError } from './errors';
import { toWireImage, unwrapSingle } from './execution';
import { isImageObject } from './images';
import { assertApiV1 } from './models';

/** A JSON object as the server sent it. */
export type JsonObject = Record<string, unknown>;

/** Upstream returns the bare element when a call produced exactly one result, else the list. */
export type OneOrMany<T> = T | T[];

export interface ClipEmbeddingResult extends JsonObject {
  embeddings: number[][];
}

export interface OcrResult extends JsonObject {
  /** The recognised text. */
  result: string;
}

export type OcrModel = 'doctr' | 'trocr' | 'easy_ocr' | 'pp_ocr';

export interface OcrOptions {
  /** Case-insensitive. */
  model?: OcrModel | string;
  /** Sent as `<model>_version_id`, e.g. `trocr-small-printed`, `english_g2`, `small-none`. */
  version?: string;
  quantize?: boolean;
  generateBoundingBoxes?: boolean;
  languageCodes?: string[];
}

export type ClipInputType = 'image' | 'text';

/** A prompt whose similarities come back keyed by the same names. */
export type NamedClipPrompts = Record<string, string | ImageInput>;

export interface ClipCompareRequest {
  subject: ImageInput | string;
  prompt: string | string[] | ImageInput | ImageInput[] | NamedClipPrompts;
  subjectType?: ClipInputType;
  promptType?: ClipInputType;
  clipVersion?: string;
}

export interface ClipCompareResult extends JsonObject {
  similarity: number[] | Record<string, number>;
}

export interface LmmOptions {
  prompt?: string;
  /** Route to `/infer/lmm/<modelId>` instead of `/infer/lmm`. */
  modelIdInPath?: boolean;
  maxNewTokens?: number;
  enableThinking?: boolean;
}

export type DepthMapFormat = 'json' | 'png16' | 'png8';

export interface DepthEstimationOptions {
  modelId?: string;
  modelIdInPath?: boolean;
  /** `json` (the default) is deprecated upstream in favour of `png16`. */
  depthMapFormat?: DepthMapFormat;
}

/** A PNG depth map decoded row by row; 1 is nearest, 0 farthest. */
export interface DepthMap {
  data: Float32Array;
  width: number;
  height: number;
}

export interface DepthEstimationResult extends JsonObject {
  normalized_depth: number[][] | DepthMap;
}

export interface SamBoxPrompt {
  box?: { x: number; y: number; width: number; height: number };
  points?: { x: number; y: number; positive: boolean }[];
}

export interface Sam2Options extends Sam3VisualOptions {
  sam2VersionId?: 'hiera_large' | 'hiera_small' | 'hiera_tiny' | 'hiera_b_plus' | string;
}

export interface Sam3ConceptPrompt extends JsonObject {
  type?: string;
  text?: string;
  output_prob_thresh?: number;
  boxes?: unknown[];
  box_labels?: unknown[];
}

export interface Sam3ConceptOptions {
  modelId?: string;
  outputProbThresh?: number;
  nmsIouThreshold?: number;
  format?: 'polygon' | 'rle';
}

export interface Sam3VisualOptions {
  prompts?: SamBoxPrompt[];
  multimaskOutput?: boolean;
  maskInputFormat?: string;
}

export interface Sam3EmbedOptions {
  imageId?: string;
}

export interface Sam3dOptions {
  modelId?: string;
  outputMeshes?: boolean;
  outputScene?: boolean;
  withMeshPostprocess?: boolean;
  withTextureBaking?: boolean;
  useDistillations?: boolean;
}

export interface YoloWorldOptions {
  /** Sent as `yolo_world_version_id` (server default `l`). */
  modelVersion?: string;
  confidence?: number;
}

const OCR_PATHS: Record<OcrModel, string> = {
  doctr: '/doctr/ocr',
  trocr: '/ocr/trocr',
  easy_ocr: '/easy_ocr/ocr',
  pp_ocr: '/ocr/pp-ocr',
};

const CLIP_INPUT_TYPES: readonly ClipInputType[] = ['image', 'text'];

/** Routes that take one image per request (upstream forces batch size 1, or the server accepts no more). */
const ONE_IMAGE_PER_REQUEST = 1;

/** Servers from 1.2.8 on answer the gaze route with 410 Gone. */
const GAZE_REMOVED_STATUS = 410;

const warnDepthJsonDeprecated = deprecate(
  () => undefined,
  "depthEstimation: depthMapFormat 'json' (the default) is deprecated; upstream makes 'png16' the default " +
    "in 2027, when normalized_depth becomes a decoded depth map. Pass depthMapFormat: 'png16' to switch now.",
  'INFERENCE_RED_DEPTH_JSON',
);

// ---- CLIP ----------------------------------------------------------------------------------

export async function getClipImageEmbeddings(
  context: RequestContext,
  input: ImagesInput,
  clipVersion?: string,
  call?: CallOptions,
): Promise<OneOrMany<ClipEmbeddingResult>> {
  const responses = await postModelImages<ClipEmbeddingResult>(
    context,
    '/clip/embed_image',
    input,
    optional('clip_version_id', clipVersion),
    call,
  );
  return unwrapSingle(responses.flatMap(splitClipEmbeddings));
}

export async function getClipTextEmbeddings(
  context: RequestContext,
  text: string | string[],
  clipVersion?: string,
  call?: CallOptions,
): Promise<ClipEmbeddingResult> {
  return postModelJson<ClipEmbeddingResult>(
    context,
    '/clip/embed_text',
    { text, ...optional('clip_version_id', clipVersion) },
    call,
  );
}

export async function clipCompare(
  context: RequestContext,
  request: ClipCompareRequest,
  call?: CallOptions,
): Promise<ClipCompareResult> {
  const { subject, prompt, subjectType = 'image', promptType = 'text', clipVersion } = request;
  for (const [name, value] of [['subjectType', subjectType], ['promptType', promptType]] as const) {
    if (!CLIP_INPUT_TYPES.includes(value)) {
      throw new InvalidParameterError(`Invalid ${name} '${String(value)}': expected 'image' or 'text'.`);
    }
  }
  const signal = call?.signal;
  const body = {
    subject_type: subjectType,
    prompt_type: promptType,
    ...optional('clip_version_id', clipVersion),
    subject: subjectType === 'image' ? await loadOneImage(context, subject, signal) : subject,
    prompt: promptType === 'image' ? await loadImagePrompt(context, prompt, signal) : prompt,
  };
  return postModelJson<ClipCompareResult>(context, '/clip/compare', body, call);
}

// ---- Perception Encoder ------------------------------------------------------------------

export async function getPerceptionEncoderImageEmbeddings(
  context: RequestContext,
  input: ImagesInput,
  version?: string,
  call?: CallOptions,
): Promise<OneOrMany<ClipEmbeddingResult>> {
  return unwrapSingle(
    await postModelImages<ClipEmbeddingResult>(
      context,
      '/perception_encoder/embed_image',
      input,
      optional('perception_encoder_version_id', version),
      call,
    ),
  );
}

export async function getPerceptionEncoderTextEmbeddings(
  context: RequestContext,
  text: string | string[],
  version?: string,
  call?: CallOptions,
): Promise<ClipEmbeddingResult> {
  return postModelJson<ClipEmbeddingResult>(
    context,
    '/perception_encoder/embed_text',
    { text, ...optional('perception_encoder_version_id', version) },
    call,
  );
}

// ---- OCR -----------------------------------------------------------------------------------

export async function ocrImage(
  context: RequestContext,
  input: ImagesInput,
  options: OcrOptions = {},
  call?: CallOptions,
): Promise<OneOrMany<OcrResult>> {
  const { model = 'doctr', version, quantize, generateBoundingBoxes, languageCodes } = options;
  const modelName = model.toLowerCase();
  if (!(modelName in OCR_PATHS)) throw new InvalidParameterError(`OCR not supported: ${model}`);
  const payload = {
    ...(version ? { [`${modelName}_version_id`]: version } : {}),
    ...optional('quantize', quantize),
    ...optional('generate_bounding_boxes', generateBoundingBoxes),
    ...optional('language_codes', languageCodes),
  };
  return unwrapSingle(
    await postModelImages<OcrResult>(context, OCR_PATHS[modelName as OcrModel], input, payload, call, ONE_IMAGE_PER_REQUEST),
  );
}

// ---- gaze, CogVLM (removed upstream) -----------------------------------------------------

/**
 * Upstream's SDK refuses gaze detection outright since 1.2.8, but servers before 1.2.8 still serve
 * it; we send the historical request and explain a newer server's 410.
 */
export async function detectGazes(context: RequestContext, input: ImagesInput, call?: CallOptions): Promise<JsonObject[]> {
  assertApiV1(context);
  try {
    return await postModelImages<JsonObject>(context, '/gaze/gaze_detection', input, {}, call);
  } catch (error) {
    if (error instanceof HTTPCallErrorError && error.statusCode === GAZE_REMOVED_STATUS) {
      throw new FeatureDeprecatedError(
        'InferenceHTTPClient.detectGazes',
        'This inference server removed gaze detection (/gaze/gaze_detection answers 410 Gone); ' +
          'only inference servers older than 1.2.8 still have it.',
      );
    }
    throw error;
  }
}

/** Removed upstream in v0.38.0 (CVE-2024-11393); fails before sending anything. */
export async function promptCogvlm(_context: RequestContext, ..._ignored: unknown[]): Promise<never> {
  throw new FeatureDeprecatedError(
    'InferenceHTTPClient.promptCogvlm',
    'CogVLM was removed from inference because of CVE-2024-11393.',
    'v0.38.0',
    'inferLmm',
  );
}

// ---- LMM, depth ----------------------------------------------------------------------------

export async function inferLmm(
  context: RequestContext,
  input: ImagesInput,
  modelId: string,
  options: LmmOptions = {},
  call?: CallOptions,
): Promise<OneOrMany<JsonObject>> {
  const { prompt, modelIdInPath = false, maxNewTokens, enableThinking } = options;
  const payload = {
    model_id: modelId,
    ...optional('prompt', prompt),
    ...optional('max_new_tokens', maxNewTokens),
    ...optional('enable_thinking', enableThinking),
  };
  const path = modelIdInPath ? `/infer/lmm/${encodeModelIdPath(modelId)}` : '/infer/lmm';
  return unwrapSingle(await postModelImages<JsonObject>(context, path, input, payload, call));
}

export async function depthEstimation(
  context: RequestContext,
  input: ImagesInput,
  options: DepthEstimationOptions = {},
  call?: CallOptions,
): Promise<OneOrMany<DepthEstimationResult>> {
  const { modelId = 'depth-anything-v3/small', modelIdInPath = false, depthMapFormat = 'json' } = options;
  if (depthMapFormat === 'json') warnDepthJsonDeprecated();
  const path = modelIdInPath ? `/infer/depth-estimation/${encodeModelIdPath(modelId)}` : '/infer/depth-estimation';
  const payload = { model_id: modelId, depth_map_format: depthMapFormat };
  const responses = await postModelImages<DepthEstimationResult>(context, path, input, payload, call);
  return unwrapSingle(await Promise.all(responses.map(decodeDepthResult)));
}

/** Decodes a base64 PNG depth map (8- or 16-bit greyscale) to values in [0, 1]. */
export async function decodeDepthMap(base64Png: string): Promise<DepthMap> {
  const png = Buffer.from(base64Png, 'base64');
  const sixteenBit = (await sharp(png).metadata()).depth === 'ushort';
  const { data, info } = await sharp(png)
    .toColourspace(sixteenBit ? 'grey16' : 'b-w')
    .raw({ depth: sixteenBit ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  // Copied so the 16-bit view starts on an aligned offset.
  const samples = sixteenBit ? new Uint16Array(Uint8Array.from(data).buffer) : data;
  const maximum = sixteenBit ? 65535 : 255;
  return { data: Float32Array.from(samples, (sample) => sample / maximum), width: info.width, height: info.height };
}

async function decodeDepthResult(result: DepthEstimationResult): Promise<DepthEstimationResult> {
  const depth: unknown = result.normalized_depth;
  return typeof depth === 'string' ? { ...result, normalized_depth: await decodeDepthMap(depth) } : result;
}

// ---- SAM -------------------------------------------------------------------------------------

export async function sam2SegmentImage(
  context: RequestContext,
  input: ImagesInput,
  options: Sam2Options = {},
  call?: CallOptions,
): Promise<OneOrMany<JsonObject>> {
  const payload = { sam2_version_id: options.sam2VersionId ?? 'hiera_tiny', ...visualPromptPayload(options) };
  return unwrapSingle(
    await postModelImages<JsonObject>(context, '/sam2/segment_image', input, payload, call, ONE_IMAGE_PER_REQUEST),
  );
}

export async function sam3ConceptSegment(
  context: RequestContext,
  input: ImagesInput,
  prompts: Sam3ConceptPrompt[],
  options: Sam3ConceptOptions = {},
  call?: CallOptions,
): Promise<OneOrMany<JsonObject>> {
  const { modelId = 'sam3/sam3_final', outputProbThresh = 0.5, nmsIouThreshold, format = 'polygon' } = options;
  const payload = {
    model_id: modelId,
    prompts,
    output_prob_thresh: outputProbThresh,
    format,
    ...optional('nms_iou_threshold', nmsIouThreshold),
  };
  return unwrapSingle(
    await postModelImages<JsonObject>(context, '/sam3/concept_segment', input, payload, call, ONE_IMAGE_PER_REQUEST),
  );
}

export async function sam3VisualSegment(
  context: RequestContext,
  input: ImagesInput,
  options: Sam3VisualOptions = {},
  call?: CallOptions,
): Promise<OneOrMany<JsonObject>> {
  return unwrapSingle(
    await postModelImages<JsonObject>(
      context,
      '/sam3/visual_segment',
      input,
      visualPromptPayload(options),
      call,
      ONE_IMAGE_PER_REQUEST,
    ),
  );
}

export async function sam3EmbedImage(
  context: RequestContext,
  input: ImagesInput,
  options: Sam3EmbedOptions = {},
  call?: CallOptions,
): Promise<OneOrMany<JsonObject>> {
  return unwrapSingle(
    await postModelImages<JsonObject>(context, '/sam3/embed_image', input, optional('image_id', options.imageId), call),
  );
}

/** Returns the first response only, as upstream. */
export async function sam33dInfer(
  context: RequestContext,
  input: ImageInput,
  maskInput: unknown,
  options: Sam3dOptions = {},
  call?: CallOptions,
): Promise<JsonObject> {
  const {
    modelId = 'sam3-3d-objects',
    outputMeshes = true,
    outputScene = true,
    withMeshPostprocess = true,
    withTextureBaking = true,
    useDistillations = false,
  } = options;
  const payload = {
    model_id: modelId,
    mask_input: maskInput,
    output_meshes: outputMeshes,
    output_scene: outputScene,
    with_mesh_postprocess: withMeshPostprocess,
    with_texture_baking: withTextureBaking,
    use_distillations: useDistillations,
  };
  const [first] = await postModelImages<JsonObject>(context, '/sam3_3d/infer', input, payload, call, ONE_IMAGE_PER_REQUEST);
  return first;
}

// ---- YOLO-World ------------------------------------------------------------------------------

/** Always a list, one detection result per image. */
export async function inferFromYoloWorld(
  context: RequestContext,
  input: ImagesInput,
  classNames: string[],
  options: YoloWorldOptions = {},
  call?: CallOptions,
): Promise<JsonObject[]> {
  const payload = {
    text: classNames,
    ...optional('yolo_world_version_id', options.modelVersion),
    ...optional('confidence', options.confidence),
  };
  return postModelImages<JsonObject>(context, '/yolo_world/infer', input, payload, call, ONE_IMAGE_PER_REQUEST);
}

// ---- shared ------------------------------------------------------------------------------------

/**
 * Upstream's `_post_images`: images loaded as given (never downsized), the key in the body (v1) or
 * the query (v0), the model-call retry policy.
 */
async function postModelImages<T>(
  context: RequestContext,
  path: string,
  input: ImagesInput,
  payload: JsonObject,
  call: CallOptions | undefined,
  batchSize?: number,
): Promise<T[]> {
  const signal = call?.signal;
  const images = await context.loadImages(input, { signal });
  const responses = await context.postImages(path, images, { ...context.modelKeyPayload(), ...payload }, {
    batchSize,
    query: context.modelKeyQuery(),
    retry: 'inference',
    signal,
  });
  return responses as T[];
}

/** The prompt fields SAM2 and SAM3's visual segmentation share, in upstream's order. */
function visualPromptPayload(options: Sam3VisualOptions): JsonObject {
  const { prompts, multimaskOutput = true, maskInputFormat = 'json' } = options;
  return {
    multimask_output: multimaskOutput,
    format: maskInputFormat,
    ...(prompts === undefined ? {} : { prompts: { prompts } }),
  };
}

/** One JSON POST to a core-model route; upstream does not retry these (text embeddings, compare). */
async function postModelJson<T>(context: RequestContext, path: string, body: JsonObject, call?: CallOptions): Promise<T> {
  const response = await context.send({
    method: 'POST',
    path,
    query: context.modelKeyQuery(),
    json: { ...context.modelKeyPayload(), ...body },
    retry: 'none',
    signal: call?.signal,
  });
  return response.json<T>();
}

/** upstream's combine_clip_embeddings: a response with several vectors becomes one entry per vector. */
function splitClipEmbeddings(response: ClipEmbeddingResult): ClipEmbeddingResult[] {
  if (!Array.isArray(response.embeddings) || response.embeddings.length <= 1) return [response];
  return response.embeddings.map((vector) => ({ frame_id: response.frame_id, time: response.time, embeddings: [vector] }));
}

async function loadOneImage(context: RequestContext, input: ImagesInput, signal?: AbortSignal): Promise<WireImage> {
  const images = await context.loadImages(input, { signal });
  if (images.length !== 1) throw new InvalidParameterError(`Expected one image, got ${images.length}.`);
  return toWireImage(images[0]);
}

async function loadImagePrompt(
  context: RequestContext,
  prompt: ClipCompareRequest['prompt'],
  signal?: AbortSignal,
): Promise<WireImage | WireImage[] | Record<string, WireImage>> {
  if (Array.isArray(prompt)) return (await context.loadImages(prompt, { signal })).map(toWireImage);
  if (isNamedPrompts(prompt)) {
    const entries = await Promise.all(
      Object.entries(prompt).map(async ([name, image]) => [name, await loadOneImage(context, image, signal)] as const),
    );
    return Object.fromEntries(entries);
  }
  return loadOneImage(context, prompt, signal);
}

function isNamedPrompts(prompt: ClipCompareRequest['prompt']): prompt is NamedClipPrompts {
  if (typeof prompt !== 'object' || prompt === null || Array.isArray(prompt) || Buffer.isBuffer(prompt)) return false;
  return !isImageObject(prompt);
}

/** `{ [key]: value }`, or nothing when the value is unset (upstream drops `None`). */
export function optional(key: string, value: unknown): JsonObject {
  return value === undefined || value === null ? {} : { [key]: value };
}

/** Model ids in paths keep their slashes (`/infer/lmm/moondream2/moondream2_2b_jul24`). */
function encodeModelIdPath(modelId: string): string {
  return modelId.split('/').map(encodeURIComponent).join('/');
}

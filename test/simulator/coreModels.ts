// Core-model routes (§2.7): CLIP, Perception Encoder, OCR, gaze, YOLO-World, LMM, depth; SAM in sam.ts.
// Embeddings are deterministic: the first four dimensions hold red/green/blue/yellow, so a text
// naming an image's dominant colour is its most similar prompt.
import { createHash, randomUUID } from 'node:crypto';
import sharp from 'sharp';
import {
  HttpError,
  type Reply,
  type SimRequest,
  elapsedSeconds,
  excludeNone,
  isRecord,
  messageError,
  ok,
} from './http';
import { type TaskParameters, DEFAULT_PARAMETERS, detect, detectionBody } from './predictions';
import { samRoutes } from './sam';
import { type Route, route } from './state';
import { type BodySchema, laxBoolean, laxNumber, validateBody, validationError } from './validation';
import { COLOUR_NAMES, type DecodedImage, decodeImageObject, dominantRegions, round } from './vision';

const CLIP_DIMENSIONS = 512;
const PERCEPTION_ENCODER_DIMENSIONS = 1024;
/** Small enough that colour dimensions dominate the cosine similarity. */
const EMBEDDING_NOISE = 0.02;

type Vector = number[];

/** Images of a CV request body, decoded; `isBatch` tells whether `image` was a list. */
export async function decodeRequestImages(body: Record<string, unknown>): Promise<{ images: DecodedImage[]; isBatch: boolean }> {
  const isBatch = Array.isArray(body.image);
  const list = isBatch ? (body.image as unknown[]) : [body.image];
  const disableAutoOrient = laxBoolean(body.disable_preproc_auto_orient, false);
  return { images: await Promise.all(list.map((image) => decodeImageObject(image, { disableAutoOrient }))), isBatch };
}

function seededNoise(seed: string, length: number): Vector {
  const digest = createHash('sha256').update(seed).digest();
  let state = digest.readUInt32LE(0);
  const noise: Vector = [];
  for (let index = 0; index < length; index++) {
    // mulberry32: a tiny deterministic PRNG
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    noise.push((((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5) * 2 * EMBEDDING_NOISE);
  }
  return noise;
}

function normalise(vector: Vector): Vector {
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0)) || 1;
  return vector.map((value) => round(value / norm, 6));
}

export function imageEmbedding(image: DecodedImage, dimensions: number): Vector {
  const largest = Math.max(1, ...image.regions.map((region) => region.pixelCount));
  const colours = COLOUR_NAMES.map((_, index) => {
    const region = image.regions.find((candidate) => candidate.colourIndex === index);
    return region ? region.pixelCount / largest : 0;
  });
  const seed = `image:${image.width}x${image.height}:${image.meanColour.map((channel) => Math.round(channel)).join(',')}`;
  return normalise([...colours, ...seededNoise(seed, dimensions - colours.length)]);
}

export function textEmbedding(text: string, dimensions: number): Vector {
  const colours = COLOUR_NAMES.map((name) => (new RegExp(`\\b${name}\\b`, 'i').test(text) ? 1 : 0));
  return normalise([...colours, ...seededNoise(`text:${text}`, dimensions - colours.length)]);
}

function cosine(a: Vector, b: Vector): number {
  return round(a.reduce((sum, value, index) => sum + value * b[index], 0), 6);
}

interface EmbeddingFamily {
  prefix: string;
  versionField: string;
  dimensions: number;
}

const EMBEDDING_FAMILIES: EmbeddingFamily[] = [
  { prefix: 'clip', versionField: 'clip_version_id', dimensions: CLIP_DIMENSIONS },
  { prefix: 'perception_encoder', versionField: 'perception_encoder_version_id', dimensions: PERCEPTION_ENCODER_DIMENSIONS },
];

const SUBJECT_TYPES = { literal: ['image', 'text'] } as const;

function embeddingRoutes(family: EmbeddingFamily): Route[] {
  const common: BodySchema = {
    api_key: { kind: 'string', nullable: true },
    model_id: { kind: 'string', nullable: true },
    [family.versionField]: { kind: 'string', nullable: true },
  };
  const reply = (request: SimRequest, fields: Record<string, unknown>): Reply =>
    ok({ inference_id: randomUUID(), frame_id: null, time: elapsedSeconds(request), ...fields });

  return [
    route('POST', new RegExp(`^/${family.prefix}/embed_image$`), async (request) => {
      const body = validateBody(request, { ...common, image: { kind: 'image', required: true } });
      const { images } = await decodeRequestImages(body);
      return reply(request, { embeddings: images.map((image) => imageEmbedding(image, family.dimensions)) });
    }),
    route('POST', new RegExp(`^/${family.prefix}/embed_text$`), async (request) => {
      const body = validateBody(request, { ...common, text: { kind: 'any', required: true } });
      const texts = textList(body.text, ['body', 'text']);
      return reply(request, { embeddings: texts.map((text) => textEmbedding(text, family.dimensions)) });
    }),
    route('POST', new RegExp(`^/${family.prefix}/compare$`), async (request) => {
      const body = validateBody(request, {
        ...common,
        subject: { kind: 'any', required: true },
        subject_type: { kind: SUBJECT_TYPES },
        prompt: { kind: 'any', required: true },
        prompt_type: { kind: SUBJECT_TYPES },
      });
      const subjectType = (body.subject_type as string | undefined) ?? 'image';
      const promptType = (body.prompt_type as string | undefined) ?? 'text';
      const subject = await embedOne(body.subject, subjectType, family.dimensions);
      const similarity = await compareWithPrompts(subject, body.prompt, promptType, family.dimensions);
      return reply(request, { similarity, parent_id: null });
    }),
  ];
}

function textList(value: unknown, loc: (string | number)[]): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  throw validationError([{ type: 'string_type', loc, msg: 'Input should be a valid string', input: value }]);
}

async function embedOne(value: unknown, type: string, dimensions: number): Promise<Vector> {
  if (type === 'text') return textEmbedding(textList(value, ['body', 'subject'])[0], dimensions);
  return imageEmbedding(await decodeImageObject(value), dimensions);
}

/** A dict prompt gives a dict of similarities, anything else a list (one per prompt). */
async function compareWithPrompts(
  subject: Vector,
  prompt: unknown,
  promptType: string,
  dimensions: number,
): Promise<number[] | Record<string, number>> {
  const similarityTo = async (item: unknown) => cosine(subject, await embedOne(item, promptType, dimensions));
  if (isRecord(prompt) && !(promptType === 'image' && 'type' in prompt)) {
    const entries = await Promise.all(Object.entries(prompt).map(async ([name, item]) => [name, await similarityTo(item)] as const));
    return Object.fromEntries(entries);
  }
  const prompts = Array.isArray(prompt) ? prompt : [prompt];
  return Promise.all(prompts.map(similarityTo));
}

/** Words read off the image: its colours in reading order, upper case. */
function ocrWords(image: DecodedImage): { text: string; box: ReturnType<typeof detect>[number] }[] {
  const parameters: TaskParameters = { ...DEFAULT_PARAMETERS, confidence: 0 };
  return detect({ classes: COLOUR_NAMES.map((name) => name.toUpperCase()) }, image, parameters)
    .sort((a, b) => a.region.minY - b.region.minY || a.region.minX - b.region.minX)
    .map((box) => ({ text: box.class, box: { ...box, class_id: 0 } }));
}

function ocrResponse(request: SimRequest, image: DecodedImage, withBoxes: boolean): Record<string, unknown> {
  const words = ocrWords(image);
  const text = words.length > 0 ? words.map((word) => word.text).join(' ') : 'SIMULATED TEXT';
  const boxes = withBoxes
    ? { image: { width: image.width, height: image.height }, predictions: words.map((word) => detectionBody(word.box)) }
    : {};
  // OCR routes serialise with exclude_none, then always add parent_id: null.
  return { ...excludeNone({ result: text, time: elapsedSeconds(request), ...boxes }), parent_id: null };
}

const PP_OCR_STAGES = ['none', 'tiny', 'small', 'medium'];

function checkPpOcrVersion(body: Record<string, unknown>): void {
  const version = typeof body.pp_ocr_version_id === 'string' ? body.pp_ocr_version_id : undefined;
  const [detection, recognition] = version
    ? version.includes('-')
      ? version.split('-')
      : [version, version]
    : [(body.text_detection as string | undefined) ?? 'small', (body.text_recognition as string | undefined) ?? 'small'];
  const valid =
    PP_OCR_STAGES.includes(detection) && PP_OCR_STAGES.includes(recognition) && !(detection === 'none' && recognition === 'none');
  if (!valid) throw messageError(400, `Invalid PP-OCR version: ${detection}-${recognition}.`);
}

function ocrRoute(path: string, schema: BodySchema, check: (body: Record<string, unknown>) => void = () => undefined): Route {
  return route('POST', new RegExp(`^${path}$`), async (request) => {
    const body = validateBody(request, {
      api_key: { kind: 'string', nullable: true },
      model_id: { kind: 'string', nullable: true },
      image: { kind: 'image', required: true },
      ...schema,
    });
    check(body);
    const { images, isBatch } = await decodeRequestImages(body);
    const withBoxes = laxBoolean(body.generate_bounding_boxes, false);
    const responses = images.map((image) => ocrResponse(request, image, withBoxes));
    return ok(isBatch ? responses : responses[0]);
  });
}

const GAZE_GONE = {
  message:
    'Feature /gaze/gaze_detection is deprecated and no longer available. MediaPipe dependency removed from inference; endpoint is a 410 stub.',
  error_type: 'FeatureDeprecatedError',
  feature: '/gaze/gaze_detection',
  removal_release: 'end of Q2 2026',
  replacement: null,
  reason: 'MediaPipe dependency removed from inference; endpoint is a 410 stub.',
};

/** The pre-1.2.8 response: every coloured region is a face looking towards the image centre. */
function legacyGazes(request: SimRequest, image: DecodedImage): Record<string, unknown> {
  const faces = detect({ classes: ['face', 'face', 'face', 'face'] }, image, { ...DEFAULT_PARAMETERS, confidence: 0 });
  return {
    predictions: faces.map((face) => ({
      face: {
        x: face.x,
        y: face.y,
        width: face.width,
        height: face.height,
        confidence: face.confidence,
        class: 'face',
        class_id: 0,
        landmarks: [
          { x: face.x - face.width / 4, y: face.y - face.height / 4 },
          { x: face.x + face.width / 4, y: face.y - face.height / 4 },
          { x: face.x, y: face.y },
          { x: face.x, y: face.y + face.height / 4 },
          { x: face.x - face.width / 2, y: face.y },
          { x: face.x + face.width / 2, y: face.y },
        ],
      },
      yaw: round((0.5 - face.x / image.width) * 1.2, 4),
      pitch: round((0.5 - face.y / image.height) * 0.8, 4),
    })),
    time: elapsedSeconds(request),
    time_face_det: 0.001,
    time_gaze_det: 0.001,
  };
}

function describeColours(image: DecodedImage): string {
  const names = dominantRegions(image).map((region) => `a ${region.colour} box`);
  if (names.length === 0) return 'a plain background';
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

async function depthResponse(image: DecodedImage, format: string): Promise<Record<string, unknown>> {
  const depth = depthMap(image);
  const eightBit = Uint8Array.from(depth, (value) => Math.round(value * 255));
  const greyscale = (pixels: Uint8Array | Uint16Array) =>
    sharp(pixels, { raw: { width: image.width, height: image.height, channels: 1 } });
  const visualisation = (await greyscale(eightBit).jpeg().toBuffer()).toString('base64');
  let normalizedDepth: unknown;
  if (format === 'png8') normalizedDepth = (await greyscale(eightBit).toColourspace('b-w').png().toBuffer()).toString('base64');
  else if (format === 'png16') {
    const sixteenBit = Uint16Array.from(depth, (value) => Math.round(value * 65535));
    normalizedDepth = (await greyscale(sixteenBit).toColourspace('grey16').png().toBuffer()).toString('base64');
  } else {
    normalizedDepth = Array.from({ length: image.height }, (_, y) =>
      Array.from(depth.subarray(y * image.width, (y + 1) * image.width), (value) => round(value, 4)),
    );
  }
  return { normalized_depth: normalizedDepth, depth_map_format: format, image: visualisation };
}

/** 1 = nearest: a floor receding towards the top (0.1..0.5), coloured boxes standing in front. */
function depthMap(image: DecodedImage): Float32Array {
  const depth = new Float32Array(image.width * image.height);
  for (let y = 0; y < image.height; y++) {
    depth.fill(0.1 + (0.4 * y) / Math.max(1, image.height - 1), y * image.width, (y + 1) * image.width);
  }
  for (const region of dominantRegions(image).reverse()) {
    for (let y = region.minY; y <= region.maxY; y++) {
      depth.fill(1 - 0.1 * region.colourIndex, y * image.width + region.minX, y * image.width + region.maxX + 1);
    }
  }
  return depth;
}

export const coreModelRoutes: Route[] = [
  ...EMBEDDING_FAMILIES.flatMap(embeddingRoutes),
  ocrRoute('/doctr/ocr', { doctr_version_id: { kind: 'string' }, generate_bounding_boxes: { kind: 'boolean' } }),
  ocrRoute('/easy_ocr/ocr', {
    easy_ocr_version_id: { kind: 'string' },
    language_codes: { kind: 'stringList' },
    quantize: { kind: 'boolean' },
  }),
  ocrRoute('/ocr/trocr', { trocr_version_id: { kind: 'string' } }),
  ocrRoute(
    '/ocr/pp-ocr',
    {
      pp_ocr_version_id: { kind: 'string', nullable: true },
      text_detection: { kind: { literal: PP_OCR_STAGES } },
      text_recognition: { kind: { literal: PP_OCR_STAGES } },
    },
    checkPpOcrVersion,
  ),
  route('POST', /^\/gaze\/gaze_detection$/, async (request, state) => {
    if (!state.legacyGaze) throw new HttpError(410, GAZE_GONE);
    const body = validateBody(request, { image: { kind: 'image', required: true }, gaze_version_id: { kind: 'string' } });
    const { images } = await decodeRequestImages(body);
    return ok(images.map((image) => legacyGazes(request, image)));
  }),
  route('POST', /^\/yolo_world\/infer$/, async (request) => {
    const body = validateBody(request, {
      image: { kind: 'image', required: true },
      text: { kind: 'stringList', required: true },
      yolo_world_version_id: { kind: 'string' },
      confidence: { kind: 'number' },
    });
    const classes = body.text as string[];
    const parameters = { ...DEFAULT_PARAMETERS, confidence: laxNumber(body.confidence, 0.4) };
    const { images, isBatch } = await decodeRequestImages(body);
    const inferenceId = randomUUID();
    const responses = images.map((image) => {
      // Class k of the prompt is whatever region has the colour that class names.
      const classOfColour = COLOUR_NAMES.map((colour) => classes.find((name) => new RegExp(`\\b${colour}\\b`, 'i').test(name)) ?? '');
      const detections = detect({ classes: classOfColour }, image, parameters)
        .filter((detection) => detection.class !== '')
        .map((detection) => ({ ...detectionBody(detection), class_id: classes.indexOf(detection.class) }));
      const size = { width: image.width, height: image.height };
      return excludeNone({ inference_id: inferenceId, time: elapsedSeconds(request), image: size, predictions: detections });
    });
    return ok(isBatch ? responses : responses[0]);
  }),
  route('POST', /^\/infer\/lmm(?:\/(.+))?$/, async (request, _state, [pathModelId]) => {
    const body = validateBody(request, {
      image: { kind: 'image', required: true },
      model_id: { kind: 'string', required: pathModelId === undefined, nullable: true },
      prompt: { kind: 'string', nullable: true },
      max_new_tokens: { kind: 'integer', nullable: true },
      enable_thinking: { kind: 'boolean' },
    });
    const modelId = pathModelId ?? body.model_id;
    if (typeof modelId !== 'string' || !modelId) throw messageError(400, 'Invalid Model ID sent in request.');
    const { images, isBatch } = await decodeRequestImages(body);
    const inferenceId = randomUUID();
    const responses = images.map((image) => ({
      response: `The image shows ${describeColours(image)}.`,
      image: { width: image.width, height: image.height },
      time: elapsedSeconds(request),
      inference_id: inferenceId,
    }));
    return ok(isBatch ? responses : responses[0]);
  }),
  route('POST', /^\/infer\/depth-estimation(?:\/(.+))?$/, async (request, _state, [pathModelId]) => {
    const body = validateBody(request, {
      image: { kind: 'image', required: true },
      model_id: { kind: 'string', nullable: true },
      depth_version_id: { kind: 'string' },
      depth_map_format: { kind: { literal: ['json', 'png16', 'png8'] } },
    });
    if (pathModelId !== undefined && typeof body.model_id === 'string' && body.model_id !== pathModelId) {
      throw messageError(400, `Model ID in path (${pathModelId}) does not match model ID in request body (${body.model_id}).`);
    }
    const format = (body.depth_map_format as string | undefined) ?? 'json';
    const { images, isBatch } = await decodeRequestImages(body);
    const responses = await Promise.all(images.map((image) => depthResponse(image, format)));
    return ok(isBatch ? responses : responses[0]);
  }),
  ...samRoutes,
];

// SAM family routes: a prompt (box, point or text) selects the coloured region it touches, and the
// region's outline is the mask.
import { createHash } from 'node:crypto';
import { type SimRequest, elapsedSeconds, isRecord, ok } from './http';
import { type Route, route } from './state';
import { type BodySchema, validateBody } from './validation';
import { type ColourRegion, type DecodedImage, decodeImageObject, regionConfidence } from './vision';

type Polygon = [number, number][];

function outline(region: ColourRegion): Polygon {
  return [
    [region.minX, region.minY],
    [region.maxX + 1, region.minY],
    [region.maxX + 1, region.maxY + 1],
    [region.minX, region.maxY + 1],
  ];
}

function regionAt(image: DecodedImage, x: number, y: number): ColourRegion | undefined {
  return image.regions.find((region) => x >= region.minX && x <= region.maxX + 1 && y >= region.minY && y <= region.maxY + 1);
}

/** Box prompts are centre-based like the rest of the API; points pick the region under the first positive point. */
function promptRegion(image: DecodedImage, prompt: unknown): ColourRegion | undefined {
  if (!isRecord(prompt)) return undefined;
  if (isRecord(prompt.box)) return regionAt(image, Number(prompt.box.x), Number(prompt.box.y));
  if (Array.isArray(prompt.points)) {
    const positive = prompt.points.find((point) => isRecord(point) && point.positive !== false);
    if (isRecord(positive)) return regionAt(image, Number(positive.x), Number(positive.y));
  }
  return undefined;
}

function visualPrompts(body: Record<string, unknown>): unknown[] | undefined {
  return isRecord(body.prompts) && Array.isArray(body.prompts.prompts) ? body.prompts.prompts : undefined;
}

async function visualSegmentation(request: SimRequest, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const image = await decodeImageObject(body.image);
  const prompts = visualPrompts(body);
  const regions = prompts ? prompts.map((prompt) => promptRegion(image, prompt)) : image.regions;
  return {
    predictions: regions.map((region) =>
      region ? { masks: [outline(region)], confidence: regionConfidence(region) } : { masks: [], confidence: 0 },
    ),
    time: elapsedSeconds(request),
  };
}

function imageId(body: Record<string, unknown>): string {
  if (typeof body.image_id === 'string' && body.image_id) return body.image_id;
  const value = isRecord(body.image) ? String(body.image.value) : '';
  return createHash('sha256').update(value).digest('hex').slice(0, 32);
}

const VISUAL_SCHEMA: BodySchema = {
  image: { kind: 'image', required: true },
  image_id: { kind: 'string', nullable: true },
  prompts: { kind: 'object', nullable: true },
  multimask_output: { kind: 'boolean' },
  format: { kind: 'string' },
};

/** Concept prompts name colours ("red") or give boxes; each yields the regions it matches. */
function conceptPredictions(image: DecodedImage, prompt: unknown, format: string): Record<string, unknown>[] {
  if (!isRecord(prompt)) return [];
  const text = typeof prompt.text === 'string' ? prompt.text.toLowerCase() : '';
  const boxes = Array.isArray(prompt.boxes) ? prompt.boxes.filter(isRecord) : [];
  const matches = image.regions.filter(
    (region) =>
      (text && new RegExp(`\\b${region.colour}\\b`).test(text)) ||
      boxes.some((box) => regionAt(image, Number(box.x), Number(box.y)) === region),
  );
  return matches.map((region) => ({ format, confidence: regionConfidence(region), masks: [outline(region)] }));
}

/** A minimal valid binary glTF (header + JSON chunk) so clients can check the magic bytes. */
function tinyGlb(): string {
  const json = Buffer.from(JSON.stringify({ asset: { version: '2.0' } }).padEnd(28, ' '));
  const header = Buffer.alloc(20);
  header.write('glTF', 0, 'ascii');
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(20 + json.length, 8);
  header.writeUInt32LE(json.length, 12);
  header.write('JSON', 16, 'ascii');
  return Buffer.concat([header, json]).toString('base64');
}

const EMPTY_PLY = Buffer.from('ply\nformat ascii 1.0\nelement vertex 0\nend_header\n').toString('base64');

export const samRoutes: Route[] = [
  route('POST', /^\/(?:sam|sam2|sam3)\/embed_image$/, async (request) => {
    const body = validateBody(request, { image: { kind: 'image', required: true }, image_id: { kind: 'string', nullable: true } });
    await decodeImageObject(body.image);
    return ok({ image_id: imageId(body), time: elapsedSeconds(request) });
  }),
  route('POST', /^\/(?:sam|sam2|sam3)\/(?:segment_image|visual_segment)$/, async (request) =>
    ok(await visualSegmentation(request, validateBody(request, VISUAL_SCHEMA))),
  ),
  route('POST', /^\/sam3\/concept_segment$/, async (request) => {
    const body = validateBody(request, {
      image: { kind: 'image', required: true },
      model_id: { kind: 'string', nullable: true },
      prompts: { kind: 'list', required: true },
      output_prob_thresh: { kind: 'number' },
      format: { kind: { literal: ['polygon', 'rle'] } },
      nms_iou_threshold: { kind: 'number', nullable: true },
    });
    const image = await decodeImageObject(body.image);
    const format = (body.format as string | undefined) ?? 'polygon';
    const promptResults = (body.prompts as unknown[]).map((prompt, index) => ({
      prompt_index: index,
      echo: isRecord(prompt) ? { type: prompt.type ?? 'text', text: prompt.text ?? null, boxes: prompt.boxes ?? null } : {},
      predictions: conceptPredictions(image, prompt, format),
    }));
    return ok({ prompt_results: promptResults, time: elapsedSeconds(request) });
  }),
  route('POST', /^\/sam3_3d\/infer$/, async (request) => {
    const body = validateBody(request, {
      image: { kind: 'image', required: true },
      model_id: { kind: 'string', nullable: true },
      mask_input: { kind: 'any' },
      output_meshes: { kind: 'boolean' },
      output_scene: { kind: 'boolean' },
    });
    const image = await decodeImageObject(body.image);
    const objects = image.regions.map((region) => ({
      mesh_glb: tinyGlb(),
      gaussian_ply: EMPTY_PLY,
      metadata: {
        rotation: [0, 0, 0, 1],
        translation: [(region.minX + region.maxX) / 2 / image.width, (region.minY + region.maxY) / 2 / image.height, 1],
        scale: [(region.maxX - region.minX + 1) / image.width, (region.maxY - region.minY + 1) / image.height, 0.1],
      },
    }));
    return ok({ mesh_glb: tinyGlb(), gaussian_ply: EMPTY_PLY, objects, time: elapsedSeconds(request) });
  }),
];

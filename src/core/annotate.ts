// Turns inference results into something a person can see: node-red-node-annotate-image
// annotations, per-class counts, and a JPEG with the predictions drawn on it (sharp + one SVG overlay).
// Roboflow boxes are centre-based (x, y = centre); annotations and SVG are top-left based.
import sharp from 'sharp';
import { EncodingError } from './errors';
import { MAX_INPUT_PIXELS } from './images';

export interface Annotation {
  type: 'rect' | 'circle' | 'polygon';
  /** left, top, width, height */
  bbox?: [number, number, number, number];
  x?: number;
  y?: number;
  r?: number;
  points?: Array<[number, number]>;
  label?: string;
  stroke?: string;
  lineWidth?: number;
  fontSize?: number;
  fontColor?: string;
  labelLocation?: 'top' | 'bottom' | 'left' | 'right';
}

export interface AnnotationOptions {
  /** Append the confidence to each label (default true). */
  showConfidence?: boolean;
}

export interface DrawOptions {
  /** Box stroke width in pixels; default scales with the image. */
  lineWidth?: number;
  /** Label font size in pixels; default scales with the image. */
  fontSize?: number;
  /** Draw class labels (default true). */
  showLabels?: boolean;
  /** Append the confidence to labels (default true). */
  showConfidence?: boolean;
  /** JPEG quality, 1-100 (default 85). */
  quality?: number;
  /**
   * Turn the image upright per its EXIF orientation before drawing (default true), as the server
   * does before predicting. Set false when the request disabled the server's auto-orientation.
   */
  autoOrient?: boolean;
}

type Point = [number, number];

interface Keypoint {
  x: number;
  y: number;
  name: string;
}

/** One located object: an OD box, possibly with a mask polygon, keypoints or a gaze. */
interface Detection {
  className: string;
  confidence?: number;
  left: number;
  top: number;
  width: number;
  height: number;
  polygon?: Point[];
  keypoints?: Keypoint[];
  landmarks?: Point[];
  /** Radians, as the gaze endpoint reports them. */
  gaze?: { yaw: number; pitch: number };
}

/** A whole-image statement: a classification or a recognised text. */
interface Caption {
  className: string;
  confidence?: number;
}

interface ParsedResult {
  width?: number;
  height?: number;
  detections: Detection[];
  captions: Caption[];
}

// ---- parsing -------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function asPoints(value: unknown): Point[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((point): Point[] => {
    const x = isObject(point) ? asNumber(point.x) : undefined;
    const y = isObject(point) ? asNumber(point.y) : undefined;
    return x === undefined || y === undefined ? [] : [[x, y]];
  });
}

function asKeypoints(value: unknown): Keypoint[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((point): Keypoint[] => {
    if (!isObject(point)) return [];
    const x = asNumber(point.x);
    const y = asNumber(point.y);
    if (x === undefined || y === undefined) return [];
    return [{ x, y, name: String(point.class ?? point.class_name ?? '') }];
  });
}

/** A centre-based box `{x, y, width, height}` as a top-left based one, or undefined. */
function centreBox(value: Json): Pick<Detection, 'left' | 'top' | 'width' | 'height'> | undefined {
  const x = asNumber(value.x);
  const y = asNumber(value.y);
  const width = asNumber(value.width);
  const height = asNumber(value.height);
  if (x === undefined || y === undefined || width === undefined || height === undefined) return undefined;
  return { left: x - width / 2, top: y - height / 2, width, height };
}

function parseDetection(prediction: Json): Detection | undefined {
  if (isObject(prediction.face)) {
    const face = prediction.face;
    const box = centreBox(face);
    if (!box) return undefined;
    const yaw = asNumber(prediction.yaw);
    const pitch = asNumber(prediction.pitch);
    return {
      ...box,
      className: String(face.class ?? 'face'),
      confidence: asNumber(face.confidence),
      landmarks: asPoints(face.landmarks),
      gaze: yaw !== undefined && pitch !== undefined ? { yaw, pitch } : undefined,
    };
  }
  const box = centreBox(prediction);
  if (!box) return undefined;
  const polygon = asPoints(prediction.points);
  const keypoints = asKeypoints(prediction.keypoints);
  return {
    ...box,
    className: String(prediction.class ?? prediction.class_name ?? ''),
    confidence: asNumber(prediction.confidence),
    polygon: polygon.length >= 3 ? polygon : undefined,
    keypoints: keypoints.length > 0 ? keypoints : undefined,
  };
}

/** Single-label predictions are a list without boxes; multi-label ones a `{class: {confidence}}` map. */
function parseClassification(result: Json): Caption[] {
  const { predictions } = result;
  if (isObject(predictions)) {
    // Only `{class: {confidence}}` entries: a semantic-segmentation mask is an object too.
    const scored = Object.keys(predictions).filter((name) => {
      const entry = predictions[name];
      return isObject(entry) && asNumber(entry.confidence) !== undefined;
    });
    const chosen = Array.isArray(result.predicted_classes) ? result.predicted_classes.map(String) : scored;
    return chosen.map((className) => {
      const entry = predictions[className];
      return { className, confidence: isObject(entry) ? asNumber(entry.confidence) : undefined };
    });
  }
  if (typeof result.top === 'string' && result.top !== '') {
    return [{ className: result.top, confidence: asNumber(result.confidence) }];
  }
  return [];
}

function parseResult(result: Json): ParsedResult {
  const image = isObject(result.image) ? result.image : {};
  const parsed: ParsedResult = {
    width: asNumber(image.width),
    height: asNumber(image.height),
    detections: [],
    captions: parseClassification(result),
  };
  if (Array.isArray(result.predictions)) {
    for (const prediction of result.predictions) {
      const detection = isObject(prediction) ? parseDetection(prediction) : undefined;
      if (detection) parsed.detections.push(detection);
    }
  }
  // OCR: the text is the caption when the server sent no word boxes.
  if (typeof result.result === 'string' && result.result !== '' && parsed.detections.length === 0) {
    parsed.captions.push({ className: result.result });
  }
  return parsed;
}

/** A batch (list) of results is shown by its first element. */
function firstResult(result: unknown): Json | undefined {
  const first = Array.isArray(result) ? result[0] : result;
  return isObject(first) ? first : undefined;
}

// ---- colours and labels --------------------------------------------------------------------

const PALETTE = [
  '#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#fabed4', '#469990',
  '#dcbeff', '#9a6324', '#fffac8', '#800000', '#aaffc3', '#808000', '#ffd8b1', '#000075', '#ffe119', '#a9a9a9',
];

/** The same class gets the same colour in every image, flow and run (FNV-1a of the name). */
export function colourForClass(className: string): string {
  let hash = 0x811c9dc5;
  for (const char of className) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return PALETTE[hash % PALETTE.length];
}

function labelText(className: string, confidence: number | undefined, showConfidence: boolean): string {
  return showConfidence && confidence !== undefined ? `${className} ${confidence.toFixed(2)}` : className;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

// ---- annotations ---------------------------------------------------------------------------

function detectionAnnotations(detection: Detection, showConfidence: boolean): Annotation[] {
  const stroke = colourForClass(detection.className);
  const label = labelText(detection.className, detection.confidence, showConfidence);
  const annotations: Annotation[] = [];
  if (detection.polygon) {
    annotations.push({ type: 'polygon', points: detection.polygon.map(([x, y]): Point => [round(x), round(y)]), stroke, label });
  }
  annotations.push({
    type: 'rect',
    bbox: [round(detection.left), round(detection.top), round(detection.width), round(detection.height)],
    stroke,
    // A polygon already carries the label; one per object is enough.
    label: detection.polygon ? undefined : label,
  });
  const dots = [...(detection.keypoints ?? []), ...(detection.landmarks ?? []).map(([x, y]) => ({ x, y }))];
  for (const dot of dots) annotations.push({ type: 'circle', x: round(dot.x), y: round(dot.y), r: 3, stroke });
  return annotations;
}

function parsedAnnotations(parsed: ParsedResult, showConfidence: boolean): Annotation[] {
  const annotations = parsed.detections.flatMap((detection) => detectionAnnotations(detection, showConfidence));
  if (parsed.captions.length > 0 && parsed.width !== undefined && parsed.height !== undefined) {
    annotations.push({
      type: 'rect',
      bbox: [0, 0, parsed.width, parsed.height],
      stroke: colourForClass(parsed.captions[0].className),
      label: parsed.captions.map((caption) => labelText(caption.className, caption.confidence, showConfidence)).join(', '),
    });
  }
  return annotations;
}

/**
 * Annotations in node-red-node-annotate-image's format (plus `polygon` for masks): a rect per box,
 * a polygon per mask, a circle per keypoint or face landmark. A classification or OCR text without
 * boxes becomes one rect around the whole image (when the result says how big the image is).
 */
export function toAnnotations(result: unknown, options: AnnotationOptions = {}): Annotation[] {
  const single = firstResult(result);
  return single ? parsedAnnotations(parseResult(single), options.showConfidence ?? true) : [];
}

function addCounts(counts: Record<string, number>, single: Json, parsed: ParsedResult): void {
  const isOcrText = typeof single.result === 'string';
  const names = [
    ...parsed.detections.map((detection) => detection.className),
    ...(isOcrText ? [] : parsed.captions.map((caption) => caption.className)),
  ];
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
}

/**
 * Objects per class. Whole-image classes (classification) count once each; a batch (list of
 * results) is totalled over all its images.
 */
export function countByClass(result: unknown): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const single of Array.isArray(result) ? result : [result]) {
    if (isObject(single)) addCounts(counts, single, parseResult(single));
  }
  return counts;
}

/**
 * `toAnnotations` of each result and `countByClass` of them all, parsing each result once: a node
 * that outputs both would otherwise walk every prediction twice per message.
 */
export function annotateAndCount(
  results: readonly unknown[],
  options: AnnotationOptions = {},
): { annotations: Annotation[][]; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  const annotations = results.map((result) => {
    if (!isObject(result)) return toAnnotations(result, options);
    const parsed = parseResult(result);
    addCounts(counts, result, parsed);
    return parsedAnnotations(parsed, options.showConfidence ?? true);
  });
  return { annotations, counts };
}

// ---- drawing -------------------------------------------------------------------------------

// COCO 17-point skeleton by keypoint name; used whenever a model's keypoints carry these names.
const COCO_SKELETON: Array<[string, string]> = [
  ['left_ankle', 'left_knee'], ['left_knee', 'left_hip'], ['right_ankle', 'right_knee'], ['right_knee', 'right_hip'],
  ['left_hip', 'right_hip'], ['left_shoulder', 'left_hip'], ['right_shoulder', 'right_hip'],
  ['left_shoulder', 'right_shoulder'], ['left_shoulder', 'left_elbow'], ['right_shoulder', 'right_elbow'],
  ['left_elbow', 'left_wrist'], ['right_elbow', 'right_wrist'], ['left_eye', 'right_eye'], ['nose', 'left_eye'],
  ['nose', 'right_eye'], ['left_eye', 'left_ear'], ['right_eye', 'right_ear'], ['left_ear', 'left_shoulder'],
  ['right_ear', 'right_shoulder'],
];

const FONT_FAMILY = 'DejaVu Sans, sans-serif';
// DejaVu Sans averages a little over half an em per character; labels get a background that fits.
const CHARACTER_WIDTH_EM = 0.62;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[char]};`);
}

function textColourOn(background: string): string {
  const value = parseInt(background.slice(1), 16);
  const luminance = 0.299 * (value >> 16) + 0.587 * ((value >> 8) & 0xff) + 0.114 * (value & 0xff);
  return luminance > 150 ? '#000000' : '#ffffff';
}

interface Style {
  lineWidth: number;
  fontSize: number;
  showLabels: boolean;
  showConfidence: boolean;
  imageWidth: number;
}

function svgLabel(text: string, colour: string, left: number, top: number, style: Style): string {
  const padding = Math.round(style.fontSize * 0.25);
  const height = style.fontSize + 2 * padding;
  const width = Math.ceil(text.length * style.fontSize * CHARACTER_WIDTH_EM) + 2 * padding;
  // Above the box when it fits, otherwise inside it; never past the right edge.
  const y = top - height >= 0 ? top - height : Math.max(0, top);
  const x = Math.max(0, Math.min(left, style.imageWidth - width));
  return (
    `<rect x="${round(x)}" y="${round(y)}" width="${width}" height="${height}" fill="${colour}"/>` +
    `<text x="${round(x + padding)}" y="${round(y + padding + style.fontSize * 0.8)}" font-family="${FONT_FAMILY}" ` +
    `font-size="${style.fontSize}" fill="${textColourOn(colour)}">${escapeXml(text)}</text>`
  );
}

function svgLine(from: Point, to: Point, colour: string, width: number): string {
  return `<line x1="${round(from[0])}" y1="${round(from[1])}" x2="${round(to[0])}" y2="${round(to[1])}" stroke="${colour}" stroke-width="${width}"/>`;
}

function skeletonEdges(keypoints: Keypoint[]): Array<[Point, Point]> {
  const byName = new Map(keypoints.map((point): [string, Point] => [point.name, [point.x, point.y]]));
  const isCoco = COCO_SKELETON.some(([a, b]) => byName.has(a) && byName.has(b));
  if (isCoco) {
    return COCO_SKELETON.flatMap(([a, b]): Array<[Point, Point]> => {
      const from = byName.get(a);
      const to = byName.get(b);
      return from && to ? [[from, to]] : [];
    });
  }
  return keypoints.slice(1).map((point, index): [Point, Point] => [
    [keypoints[index].x, keypoints[index].y],
    [point.x, point.y],
  ]);
}

function svgDetection(detection: Detection, style: Style): string {
  const colour = colourForClass(detection.className);
  const parts: string[] = [];
  if (detection.polygon) {
    const points = detection.polygon.map(([x, y]) => `${round(x)},${round(y)}`).join(' ');
    parts.push(`<polygon points="${points}" fill="${colour}" fill-opacity="0.3" stroke="${colour}" stroke-width="${style.lineWidth}"/>`);
  }
  parts.push(
    `<rect x="${round(detection.left)}" y="${round(detection.top)}" width="${round(detection.width)}" ` +
      `height="${round(detection.height)}" fill="none" stroke="${colour}" stroke-width="${style.lineWidth}"/>`,
  );
  const dotRadius = Math.max(2, style.lineWidth * 1.5);
  if (detection.keypoints) {
    for (const [from, to] of skeletonEdges(detection.keypoints)) parts.push(svgLine(from, to, colour, style.lineWidth));
    for (const point of detection.keypoints) {
      parts.push(`<circle cx="${round(point.x)}" cy="${round(point.y)}" r="${dotRadius}" fill="${colour}" stroke="#ffffff" stroke-width="1"/>`);
    }
  }
  for (const [x, y] of detection.landmarks ?? []) {
    parts.push(`<circle cx="${round(x)}" cy="${round(y)}" r="${dotRadius}" fill="${colour}"/>`);
  }
  if (detection.gaze) parts.push(svgGazeArrow(detection, colour, style));
  if (style.showLabels) {
    const text = labelText(detection.className, detection.confidence, style.showConfidence);
    parts.push(svgLabel(text, colour, detection.left, detection.top, style));
  }
  return parts.join('');
}

/** The gaze direction projected on the image (L2CS convention: positive yaw looks to the image's left). */
function svgGazeArrow(detection: Detection, colour: string, style: Style): string {
  const { yaw, pitch } = detection.gaze!;
  const length = Math.max(detection.width, detection.height);
  const centre: Point = [detection.left + detection.width / 2, detection.top + detection.height / 2];
  const end: Point = [centre[0] - length * Math.sin(yaw) * Math.cos(pitch), centre[1] - length * Math.sin(pitch)];
  return svgLine(centre, end, colour, style.lineWidth * 1.5);
}

function svgCaptions(captions: Caption[], style: Style): string {
  const lineHeight = style.fontSize + 2 * Math.round(style.fontSize * 0.25);
  return captions
    .map((caption, index) =>
      svgLabel(labelText(caption.className, caption.confidence, style.showConfidence), colourForClass(caption.className), 0, index * lineHeight, style),
    )
    .join('');
}

/** Predictions made on a differently sized copy of the image are scaled onto this one. */
function scaleDetection(detection: Detection, sx: number, sy: number): Detection {
  const scalePoint = ([x, y]: Point): Point => [x * sx, y * sy];
  return {
    ...detection,
    left: detection.left * sx,
    top: detection.top * sy,
    width: detection.width * sx,
    height: detection.height * sy,
    polygon: detection.polygon?.map(scalePoint),
    keypoints: detection.keypoints?.map((point) => ({ ...point, x: point.x * sx, y: point.y * sy })),
    landmarks: detection.landmarks?.map(scalePoint),
  };
}

function buildOverlay(parsed: ParsedResult, width: number, height: number, options: DrawOptions): string {
  const shorterSide = Math.min(width, height);
  const style: Style = {
    lineWidth: options.lineWidth ?? Math.max(2, Math.round(shorterSide / 250)),
    fontSize: options.fontSize ?? Math.max(12, Math.round(shorterSide / 40)),
    showLabels: options.showLabels ?? true,
    showConfidence: options.showConfidence ?? true,
    imageWidth: width,
  };
  const sx = parsed.width ? width / parsed.width : 1;
  const sy = parsed.height ? height / parsed.height : 1;
  const body =
    parsed.detections.map((detection) => svgDetection(scaleDetection(detection, sx, sy), style)).join('') +
    (style.showLabels ? svgCaptions(parsed.captions, style) : '');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${body}</svg>`;
}

/**
 * The image with the predictions drawn on it, as JPEG, with the input's (EXIF-oriented) size.
 * The server auto-orients before predicting, so by default the image is turned the same way here.
 * A batch (list of results) is drawn from its first result.
 */
export async function drawPredictions(image: Buffer, result: unknown, options: DrawOptions = {}): Promise<Buffer> {
  const autoOrient = options.autoOrient ?? true;
  const metadata = await sharp(image).metadata();
  const width = autoOrient ? (metadata.autoOrient?.width ?? metadata.width) : metadata.width;
  const height = autoOrient ? (metadata.autoOrient?.height ?? metadata.height) : metadata.height;
  if (!width || !height) throw new Error('drawPredictions: the image has no dimensions');
  // Refused from the header: decoding a huge image just to draw boxes could exhaust a small device's memory.
  if (width * height > MAX_INPUT_PIXELS) {
    throw new EncodingError(
      `Cannot draw on a ${width}x${height} image (${Math.round((width * height) / 1e6)} megapixels); the limit is ${MAX_INPUT_PIXELS / 1e6} megapixels.`,
    );
  }
  const single = firstResult(result);
  const parsed: ParsedResult = single ? parseResult(single) : { detections: [], captions: [] };
  const overlay = Buffer.from(buildOverlay(parsed, width, height, options));
  return sharp(image, { autoOrient, limitInputPixels: MAX_INPUT_PIXELS })
    .composite([{ input: overlay, left: 0, top: 0 }])
    .jpeg({ quality: options.quality ?? 85 })
    .toBuffer();
}

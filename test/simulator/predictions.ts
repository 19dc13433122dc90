// Per-task response bodies built from the colour regions of a decoded image, in the shapes of
// the real server's response models (before `exclude_none`).
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { SimulatedModel } from './models';
import {
  type ColourRegion,
  type DecodedImage,
  type DrawnBox,
  dominantRegions,
  regionBox,
  regionConfidence,
  round,
  visualise,
} from './vision';

export interface TaskParameters {
  confidence: number;
  classFilter: string[] | null;
  maxDetections: number;
  visualize: boolean;
  strokeWidth: number;
  keypointConfidence: number;
  maskFormat: 'polygon' | 'rle';
}

export const DEFAULT_PARAMETERS: TaskParameters = {
  confidence: 0.4,
  classFilter: null,
  maxDetections: 300,
  visualize: false,
  strokeWidth: 1,
  keypointConfidence: 0,
  maskFormat: 'polygon',
};

/** Corners and centre of each box, so skeleton-style tests have stable keypoints. */
export const KEYPOINT_CLASSES = ['top_left', 'top_right', 'bottom_right', 'bottom_left', 'centre'];
const KEYPOINT_CONFIDENCES = [0.9, 0.8, 0.7, 0.6, 0.99];

export interface Detection {
  x: number;
  y: number;
  width: number;
  height: number;
  confidence: number;
  class: string;
  class_id: number;
  detection_id: string;
  region: ColourRegion;
}

/** Colour regions the model knows a class for, filtered and ordered like NMS output. */
export function detect(model: Pick<SimulatedModel, 'classes'>, image: DecodedImage, parameters: TaskParameters): Detection[] {
  return image.regions
    .filter((region) => region.colourIndex < model.classes.length)
    .map((region) => ({
      ...regionBox(region),
      confidence: regionConfidence(region),
      class: model.classes[region.colourIndex],
      class_id: region.colourIndex,
      detection_id: randomUUID(),
      region,
    }))
    .filter((detection) => detection.confidence >= parameters.confidence)
    .filter((detection) => !parameters.classFilter || parameters.classFilter.includes(detection.class))
    .sort((a, b) => b.confidence - a.confidence)
    .slice(0, Math.max(0, parameters.maxDetections));
}

export function detectionBody({ region: _region, ...detection }: Detection): Record<string, unknown> {
  return detection;
}

export async function taskPrediction(
  model: SimulatedModel,
  image: DecodedImage,
  parameters: TaskParameters,
): Promise<Record<string, unknown>> {
  const base = { image: { width: image.width, height: image.height } };
  switch (model.taskType) {
    case 'object-detection': {
      const detections = detect(model, image, parameters);
      return { ...base, predictions: detections.map(detectionBody), ...(await maybeVisualise(image, detections, parameters)) };
    }
    case 'instance-segmentation': {
      const detections = detect(model, image, parameters);
      return {
        ...base,
        predictions: detections.map((detection) => ({ ...detectionBody(detection), ...mask(detection, image, parameters) })),
        ...(await maybeVisualise(image, detections, parameters)),
      };
    }
    case 'keypoint-detection': {
      const detections = detect(model, image, parameters);
      return {
        ...base,
        predictions: detections.map((detection) => ({
          ...detectionBody(detection),
          keypoints: keypoints(detection).filter((point) => point.confidence >= parameters.keypointConfidence),
        })),
        ...(await maybeVisualise(image, detections, parameters)),
      };
    }
    case 'classification':
      return {
        ...base,
        ...(model.multiLabel ? multiLabel(model, image, parameters) : singleLabel(model, image)),
        ...(await maybeVisualise(image, [], parameters)),
      };
    case 'semantic-segmentation':
      return { ...base, predictions: await semanticMasks(model, image) };
  }
}

async function maybeVisualise(
  image: DecodedImage,
  detections: Detection[],
  parameters: TaskParameters,
): Promise<{ visualization?: string }> {
  if (!parameters.visualize) return {};
  const boxes: DrawnBox[] = detections.map((detection) => ({ ...detection, colour: detection.region.colour }));
  return { visualization: (await visualise(image, boxes, parameters.strokeWidth)).toString('base64') };
}

function mask(detection: Detection, image: DecodedImage, parameters: TaskParameters): Record<string, unknown> {
  const { minX, minY, maxX, maxY } = detection.region;
  if (parameters.maskFormat === 'rle') {
    return { rle: { size: [image.height, image.width], counts: boxRle(image, detection.region) }, mask_format: 'rle' };
  }
  const points = [
    { x: minX, y: minY },
    { x: maxX + 1, y: minY },
    { x: maxX + 1, y: maxY + 1 },
    { x: minX, y: maxY + 1 },
  ];
  return { points, mask_format: 'polygon' };
}

/** COCO compressed RLE (column-major runs, starting with background) of the region's box. */
function boxRle(image: DecodedImage, region: ColourRegion): string {
  const runs: number[] = [];
  const boxHeight = region.maxY - region.minY + 1;
  let background = region.minX * image.height + region.minY;
  for (let column = region.minX; column <= region.maxX; column++) {
    runs.push(background, boxHeight);
    background = image.height - boxHeight;
  }
  runs.push(image.height * image.width - (region.maxX + 1) * image.height + (image.height - region.maxY - 1));
  return encodeRleCounts(runs);
}

function encodeRleCounts(runs: number[]): string {
  let encoded = '';
  runs.forEach((run, index) => {
    let value = index > 2 ? run - runs[index - 2] : run;
    let more = true;
    while (more) {
      let chunk = value & 0x1f;
      value >>= 5;
      more = chunk & 0x10 ? value !== -1 : value !== 0;
      if (more) chunk |= 0x20;
      encoded += String.fromCharCode(chunk + 48);
    }
  });
  return encoded;
}

function keypoints(detection: Detection): { x: number; y: number; confidence: number; class_id: number; class: string }[] {
  const { minX, minY, maxX, maxY } = detection.region;
  const positions = [
    [minX, minY],
    [maxX + 1, minY],
    [maxX + 1, maxY + 1],
    [minX, maxY + 1],
    [detection.x, detection.y],
  ];
  return positions.map(([x, y], index) => ({
    x,
    y,
    confidence: KEYPOINT_CONFIDENCES[index],
    class_id: index,
    class: KEYPOINT_CLASSES[index],
  }));
}

/** Confidence of each class = its share of the coloured pixels (uniform when nothing is coloured). */
function classShares(model: SimulatedModel, image: DecodedImage): number[] {
  const counts = model.classes.map((_, index) => image.regions.find((region) => region.colourIndex === index)?.pixelCount ?? 0);
  const total = counts.reduce((sum, count) => sum + count, 0);
  return counts.map((count) => round(total === 0 ? 1 / counts.length : count / total, 4));
}

function singleLabel(model: SimulatedModel, image: DecodedImage): Record<string, unknown> {
  const shares = classShares(model, image);
  const predictions = model.classes
    .map((name, index) => ({ class: name, class_id: index, confidence: shares[index] }))
    .sort((a, b) => b.confidence - a.confidence);
  return { predictions, top: predictions[0]?.class ?? '', confidence: predictions[0]?.confidence ?? 0 };
}

function multiLabel(model: SimulatedModel, image: DecodedImage, parameters: TaskParameters): Record<string, unknown> {
  const present = new Set(image.regions.map((region) => region.colourIndex));
  const predictions: Record<string, { confidence: number; class_id: number }> = {};
  model.classes.forEach((name, index) => {
    const region = image.regions.find((candidate) => candidate.colourIndex === index);
    predictions[name] = { confidence: present.has(index) && region ? regionConfidence(region) : 0.02, class_id: index };
  });
  const predictedClasses = model.classes.filter((name) => predictions[name].confidence >= parameters.confidence);
  return { predictions, predicted_classes: predictedClasses };
}

/** Pixel value k+1 marks class k, 0 is background; confidence is 255 on objects, 128 elsewhere. */
async function semanticMasks(model: SimulatedModel, image: DecodedImage): Promise<Record<string, unknown>> {
  const classMask = Buffer.alloc(image.width * image.height);
  const confidenceMask = Buffer.alloc(image.width * image.height, 128);
  const present = dominantRegions(image)
    .reverse()
    .filter((region) => region.colourIndex < model.classes.length);
  for (const region of present) {
    for (let y = region.minY; y <= region.maxY; y++) {
      classMask.fill(region.colourIndex + 1, y * image.width + region.minX, y * image.width + region.maxX + 1);
      confidenceMask.fill(255, y * image.width + region.minX, y * image.width + region.maxX + 1);
    }
  }
  const png = (pixels: Buffer) =>
    sharp(pixels, { raw: { width: image.width, height: image.height, channels: 1 } }).png().toBuffer();
  const classMap: Record<string, string> = { '0': 'background' };
  model.classes.forEach((name, index) => (classMap[String(index + 1)] = name));
  return {
    segmentation_mask: (await png(classMask)).toString('base64'),
    class_map: classMap,
    confidence_mask: (await png(confidenceMask)).toString('base64'),
    present_class_ids: present.map((region) => region.colourIndex + 1).sort((a, b) => a - b),
  };
}

// InferenceConfiguration: upstream's frozen dataclass (inference_sdk/http/entities.py), camelCase.
// `undefined` plays the part of Python's None: such fields are never sent.
import { InvalidParameterError } from './errors';

export type VisualisationResponseFormat = 'base64' | 'buffer';
export type ApiKeyTransport = 'legacy' | 'both' | 'header';

export interface InferenceConfigurationOptions {
  confidenceThreshold?: number | 'best' | 'default';
  keypointConfidenceThreshold?: number;
  format?: 'json' | 'image' | 'image_and_json';
  maskDecodeMode?: 'accurate' | 'fast' | 'tradeoff';
  tradeoffFactor?: number;
  maxCandidates?: number;
  maxDetections?: number;
  iouThreshold?: number;
  strokeWidth?: number;
  countInference?: boolean;
  serviceSecret?: string;
  disablePreprocAutoOrientation?: boolean;
  disablePreprocContrast?: boolean;
  disablePreprocGrayscale?: boolean;
  disablePreprocStaticCrop?: boolean;
  classAgnosticNms?: boolean;
  classFilter?: string[];
  fixBatchSize?: boolean;
  visualizePredictions?: boolean;
  visualizeLabels?: boolean;
  outputVisualisationFormat?: VisualisationResponseFormat;
  imageExtensionsForDirectoryScan?: string[];
  clientDownsizingDisabled?: boolean;
  defaultMaxInputSize?: number;
  disableActiveLearning?: boolean;
  activeLearningTargetDataset?: string;
  maxConcurrentRequests?: number;
  maxBatchSize?: number;
  source?: string;
  sourceInfo?: string;
  profilingDirectory?: string;
  workflowRunRetriesEnabled?: boolean;
  responseMaskFormat?: 'polygon' | 'rle';
  apiKeyTransport?: ApiKeyTransport;
  /** Ours: per-request timeout (upstream has none). */
  requestTimeoutMs?: number;
}

/** Upstream's folder-scan extensions (case-sensitive); also the frame sources' default. */
export const DEFAULT_IMAGE_EXTENSIONS: readonly string[] = ['jpg', 'jpeg', 'JPG', 'JPEG', 'png', 'PNG'];

const DEFAULTS = {
  visualizePredictions: false,
  outputVisualisationFormat: 'base64' as VisualisationResponseFormat,
  imageExtensionsForDirectoryScan: [...DEFAULT_IMAGE_EXTENSIONS],
  clientDownsizingDisabled: true,
  defaultMaxInputSize: 1024,
  disableActiveLearning: false,
  maxConcurrentRequests: 1,
  maxBatchSize: 1,
  profilingDirectory: './inference_profiling',
  requestTimeoutMs: 120_000,
};

/** Fields whose value the client acts on, so an unknown one must fail at construction, not be ignored. */
const CHOICES = {
  apiKeyTransport: ['legacy', 'both', 'header'] satisfies ApiKeyTransport[],
  outputVisualisationFormat: ['base64', 'buffer'] satisfies VisualisationResponseFormat[],
} as const;

export class InferenceConfiguration {
  readonly confidenceThreshold?: number | 'best' | 'default';
  readonly keypointConfidenceThreshold?: number;
  readonly format?: 'json' | 'image' | 'image_and_json';
  readonly maskDecodeMode?: 'accurate' | 'fast' | 'tradeoff';
  readonly tradeoffFactor?: number;
  readonly maxCandidates?: number;
  readonly maxDetections?: number;
  readonly iouThreshold?: number;
  readonly strokeWidth?: number;
  readonly countInference?: boolean;
  readonly serviceSecret?: string;
  readonly disablePreprocAutoOrientation?: boolean;
  readonly disablePreprocContrast?: boolean;
  readonly disablePreprocGrayscale?: boolean;
  readonly disablePreprocStaticCrop?: boolean;
  readonly classAgnosticNms?: boolean;
  readonly classFilter?: string[];
  readonly fixBatchSize?: boolean;
  readonly visualizePredictions!: boolean;
  readonly visualizeLabels?: boolean;
  readonly outputVisualisationFormat!: VisualisationResponseFormat;
  readonly imageExtensionsForDirectoryScan!: string[];
  readonly clientDownsizingDisabled!: boolean;
  readonly defaultMaxInputSize!: number;
  readonly disableActiveLearning!: boolean;
  readonly activeLearningTargetDataset?: string;
  readonly maxConcurrentRequests!: number;
  readonly maxBatchSize!: number;
  readonly source?: string;
  readonly sourceInfo?: string;
  readonly profilingDirectory!: string;
  readonly workflowRunRetriesEnabled!: boolean;
  readonly responseMaskFormat?: 'polygon' | 'rle';
  readonly apiKeyTransport?: ApiKeyTransport;
  readonly requestTimeoutMs!: number;

  constructor(options: InferenceConfigurationOptions = {}) {
    for (const [field, allowed] of Object.entries(CHOICES)) {
      const value = options[field as keyof typeof CHOICES];
      if (value !== undefined && !(allowed as readonly string[]).includes(value)) {
        throw new InvalidParameterError(`Invalid ${field} '${String(value)}': expected one of ${allowed.join(', ')}.`);
      }
    }
    const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    Object.assign(
      this,
      { ...DEFAULTS, workflowRunRetriesEnabled: workflowRetriesDefault() },
      defined,
    );
    Object.freeze(this);
  }

  static initDefault(): InferenceConfiguration {
    return new InferenceConfiguration();
  }
}

function workflowRetriesDefault(): boolean {
  const value = process.env.WORKFLOW_RUN_RETRIES_ENABLED;
  return value === undefined ? true : value.toLowerCase() === 'true';
}

/** A parameter mapping result: keys in upstream's emission order, `undefined` values left out. */
export type Parameters = Record<string, unknown>;

function definedEntries(entries: Array<[string, unknown]>): Parameters {
  return Object.fromEntries(entries.filter(([, value]) => value !== undefined && value !== null));
}

function preprocessingEntries(c: InferenceConfiguration): Array<[string, unknown]> {
  return [
    ['disable_preproc_auto_orient', c.disablePreprocAutoOrientation],
    ['disable_preproc_contrast', c.disablePreprocContrast],
    ['disable_preproc_grayscale', c.disablePreprocGrayscale],
    ['disable_preproc_static_crop', c.disablePreprocStaticCrop],
  ];
}

/** v0 (legacy route) query parameters, sent after `api_key`; the same for every task type. */
export function toLegacyCallParameters(c: InferenceConfiguration): Parameters {
  return definedEntries([
    ['confidence', c.confidenceThreshold],
    ['keypoint_confidence', c.keypointConfidenceThreshold],
    ['format', c.format],
    ['labels', c.visualizeLabels],
    ['mask_decode_mode', c.maskDecodeMode],
    ['tradeoff_factor', c.tradeoffFactor],
    ['max_detections', c.maxDetections],
    ['overlap', c.iouThreshold],
    ['stroke', c.strokeWidth],
    ['countinference', c.countInference],
    ['service_secret', c.serviceSecret],
    ...preprocessingEntries(c),
    ['disable_active_learning', c.disableActiveLearning],
    ['active_learning_target_dataset', c.activeLearningTargetDataset],
    ['source', c.source],
    ['source_info', c.sourceInfo],
    ['response_mask_format', c.responseMaskFormat],
  ]);
}

function objectDetectionEntries(c: InferenceConfiguration): Array<[string, unknown]> {
  return [
    ...preprocessingEntries(c),
    ['class_agnostic_nms', c.classAgnosticNms],
    ['class_filter', c.classFilter],
    ['confidence', c.confidenceThreshold],
    ['fix_batch_size', c.fixBatchSize],
    ['iou_threshold', c.iouThreshold],
    ['max_detections', c.maxDetections],
    ['max_candidates', c.maxCandidates],
    ['visualization_labels', c.visualizeLabels],
    ['visualization_stroke_width', c.strokeWidth],
    ['visualize_predictions', c.visualizePredictions],
    ['disable_active_learning', c.disableActiveLearning],
    ['active_learning_target_dataset', c.activeLearningTargetDataset],
    ['source', c.source],
    ['source_info', c.sourceInfo],
  ];
}

/** v1 `/infer/object_detection` JSON body parameters. */
export function toObjectDetectionParameters(c: InferenceConfiguration): Parameters {
  return definedEntries(objectDetectionEntries(c));
}

/** v1 `/infer/keypoints_detection`: the object-detection set plus the keypoint threshold. */
export function toKeypointsDetectionParameters(c: InferenceConfiguration): Parameters {
  return definedEntries([...objectDetectionEntries(c), ['keypoint_confidence', c.keypointConfidenceThreshold]]);
}

/** v1 `/infer/instance_segmentation`: the object-detection set plus mask decoding. */
export function toInstanceSegmentationParameters(c: InferenceConfiguration): Parameters {
  return definedEntries([
    ...objectDetectionEntries(c),
    ['mask_decode_mode', c.maskDecodeMode],
    ['tradeoff_factor', c.tradeoffFactor],
    ['response_mask_format', c.responseMaskFormat],
  ]);
}

/** v1 `/infer/classification` JSON body parameters (no labels, NMS or detection limits). */
export function toClassificationParameters(c: InferenceConfiguration): Parameters {
  return definedEntries([
    ...preprocessingEntries(c),
    ['confidence', c.confidenceThreshold],
    ['visualize_predictions', c.visualizePredictions],
    ['visualization_stroke_width', c.strokeWidth],
    ['disable_active_learning', c.disableActiveLearning],
    ['source', c.source],
    ['source_info', c.sourceInfo],
    ['active_learning_target_dataset', c.activeLearningTargetDataset],
  ]);
}

/** v1 infer query string; `undefined` when neither value is set (no query string at all). */
export function toApiV1QueryParameters(c: InferenceConfiguration): Parameters | undefined {
  const parameters = definedEntries([
    ['service_secret', c.serviceSecret],
    ['countinference', c.countInference],
  ]);
  return Object.keys(parameters).length > 0 ? parameters : undefined;
}

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

const DEFAULTS = {
  visualizePredictions: false,
  outputVisualisationFormat: 'base64' as VisualisationResponseFormat,
  imageExtensionsForDirectoryScan: ['jpg', 'jpeg', 'JPG', 'JPEG', 'png', 'PNG'],
  clientDownsizingDisabled: true,
  defaultMaxInputSize: 1024,
  disableActiveLearning: false,
  maxConcurrentRequests: 1,
  maxBatchSize: 1,
  profilingDirectory: './inference_profiling',
  requestTimeoutMs: 120_000,
};

const API_KEY_TRANSPORTS: readonly ApiKeyTransport[] = ['legacy', 'both', 'header'];

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
    if (options.apiKeyTransport !== undefined && !API_KEY_TRANSPORTS.includes(options.apiKeyTransport)) {
      throw new InvalidParameterError(
        `Invalid apiKeyTransport '${String(options.apiKeyTransport)}': expected one of ${API_KEY_TRANSPORTS.join(', ')}.`,
      );
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

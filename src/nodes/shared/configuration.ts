// InferenceConfiguration from three layers: the server node's defaults, a node's own overrides
// and, for inference parameters only, the message. Editor fields arrive as strings ('' = inherit),
// messages as typed values; both go through the same parser so a bad value fails the same way.
import { InferenceConfiguration, InvalidParameterError } from '../../core';
import type { InferenceConfigurationOptions } from '../../core';
import type { NodeMessage } from './nodeRed';

type Options = InferenceConfigurationOptions;
type OptionName = keyof Options;
type FieldKind = 'number' | 'integer' | 'boolean' | 'string' | 'list' | 'confidence' | readonly string[];

/** Every option a node dialog may set, with how its value is read. */
export const CONFIGURATION_FIELDS: { readonly [Name in OptionName]-?: FieldKind } = {
  confidenceThreshold: 'confidence',
  keypointConfidenceThreshold: 'number',
  format: ['json', 'image', 'image_and_json'],
  maskDecodeMode: ['accurate', 'fast', 'tradeoff'],
  tradeoffFactor: 'number',
  maxCandidates: 'integer',
  maxDetections: 'integer',
  iouThreshold: 'number',
  strokeWidth: 'integer',
  countInference: 'boolean',
  serviceSecret: 'string',
  disablePreprocAutoOrientation: 'boolean',
  disablePreprocContrast: 'boolean',
  disablePreprocGrayscale: 'boolean',
  disablePreprocStaticCrop: 'boolean',
  classAgnosticNms: 'boolean',
  classFilter: 'list',
  fixBatchSize: 'boolean',
  visualizePredictions: 'boolean',
  visualizeLabels: 'boolean',
  outputVisualisationFormat: ['base64', 'buffer'],
  imageExtensionsForDirectoryScan: 'list',
  clientDownsizingDisabled: 'boolean',
  defaultMaxInputSize: 'integer',
  disableActiveLearning: 'boolean',
  activeLearningTargetDataset: 'string',
  maxConcurrentRequests: 'integer',
  maxBatchSize: 'integer',
  source: 'string',
  sourceInfo: 'string',
  profilingDirectory: 'string',
  workflowRunRetriesEnabled: 'boolean',
  responseMaskFormat: ['polygon', 'rle'],
  apiKeyTransport: ['legacy', 'both', 'header'],
  requestTimeoutMs: 'integer',
};

/**
 * What a message may change: parameters of the inference itself. Never where the request goes,
 * how it authenticates, what it costs (countInference needs the service secret) or the load it
 * puts on the server (concurrency, batching).
 */
export const MESSAGE_PARAMETERS: readonly OptionName[] = [
  'confidenceThreshold',
  'keypointConfidenceThreshold',
  'iouThreshold',
  'maxDetections',
  'maxCandidates',
  'classAgnosticNms',
  'classFilter',
  'fixBatchSize',
  'maskDecodeMode',
  'tradeoffFactor',
  'responseMaskFormat',
  'format',
  'visualizePredictions',
  'visualizeLabels',
  'strokeWidth',
  'disablePreprocAutoOrientation',
  'disablePreprocContrast',
  'disablePreprocGrayscale',
  'disablePreprocStaticCrop',
  'disableActiveLearning',
  'activeLearningTargetDataset',
  'source',
  'sourceInfo',
  'clientDownsizingDisabled',
  'defaultMaxInputSize',
];

/** Top-level message properties read as shortcuts, e.g. `msg.confidence = 0.6`. */
export const MESSAGE_SHORTCUTS: Readonly<Record<string, OptionName>> = {
  confidence: 'confidenceThreshold',
  keypointConfidence: 'keypointConfidenceThreshold',
  iouThreshold: 'iouThreshold',
  maxDetections: 'maxDetections',
  classFilter: 'classFilter',
  classAgnosticNms: 'classAgnosticNms',
};

function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function parseValue(name: string, kind: FieldKind, value: unknown): unknown {
  const invalid = () => new InvalidParameterError(`Invalid value for ${name}: ${JSON.stringify(value)}`);
  if (Array.isArray(kind)) {
    if (typeof value !== 'string' || !kind.includes(value)) throw invalid();
    return value;
  }
  switch (kind) {
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw invalid();
    case 'confidence':
      if (value === 'best' || value === 'default') return value;
      return parseValue(name, 'number', value);
    case 'number':
    case 'integer': {
      const number = typeof value === 'string' ? Number(value.trim()) : value;
      if (typeof number !== 'number' || !Number.isFinite(number)) throw invalid();
      if (kind === 'integer' && !Number.isInteger(number)) throw invalid();
      return number;
    }
    case 'list':
      if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
      if (typeof value === 'string') return value.split(',').map((item) => item.trim()).filter(Boolean);
      throw invalid();
    case 'string':
      if (typeof value !== 'string') throw invalid();
      return value;
  }
  throw invalid();
}

/** Reads the given options from a node's config (or any record); unset values are left out. */
export function parseOptions(source: Record<string, unknown>, names: readonly OptionName[] = allOptionNames()): Options {
  const options: Record<string, unknown> = {};
  for (const name of names) {
    if (!isUnset(source[name])) options[name] = parseValue(name, CONFIGURATION_FIELDS[name], source[name]);
  }
  return options as Options;
}

function allOptionNames(): OptionName[] {
  return Object.keys(CONFIGURATION_FIELDS) as OptionName[];
}

/**
 * The inference parameters a message asks for: the shortcuts (`msg.confidence`, ...) and
 * `msg.inferenceConfiguration`. Anything else in `msg.inferenceConfiguration` is refused, so
 * a message can never re-point the server, its key or its headers.
 */
export function messageOptions(msg: NodeMessage): Options {
  const requested: Record<string, unknown> = {};
  for (const [property, name] of Object.entries(MESSAGE_SHORTCUTS)) {
    if (!isUnset(msg[property])) requested[name] = msg[property];
  }
  const explicit = msg.inferenceConfiguration;
  if (!isUnset(explicit)) {
    if (typeof explicit !== 'object' || Array.isArray(explicit)) {
      throw new InvalidParameterError('msg.inferenceConfiguration must be an object');
    }
    const refused = Object.keys(explicit as object).filter((key) => !MESSAGE_PARAMETERS.includes(key as OptionName));
    if (refused.length > 0) {
      throw new InvalidParameterError(`msg.inferenceConfiguration cannot set ${refused.join(', ')}`);
    }
    Object.assign(requested, explicit);
  }
  return parseOptions(requested, MESSAGE_PARAMETERS);
}

/** Later layers win; `undefined` never erases an earlier value. */
export function layerConfiguration(base: InferenceConfiguration, ...layers: Options[]): InferenceConfiguration {
  return new InferenceConfiguration(Object.assign({}, base, ...layers) as Options);
}

/**
 * A node's configuration for each message: the server's, the node's options, then the message's.
 * Messages that set no parameters (most) share one configuration, built again only when the
 * server's changes; configurations are immutable, so sharing one is safe.
 */
export function messageConfigurations(nodeOptions: Options): (base: InferenceConfiguration, msg: NodeMessage) => InferenceConfiguration {
  let shared: { base: InferenceConfiguration; layered: InferenceConfiguration } | undefined;
  return (base, msg) => {
    const requested = messageOptions(msg);
    if (Object.keys(requested).length > 0) return layerConfiguration(base, nodeOptions, requested);
    if (shared?.base !== base) shared = { base, layered: layerConfiguration(base, nodeOptions) };
    return shared.layered;
  };
}

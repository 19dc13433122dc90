// The package's library entry: `require('@inference-red/node-red-roboflow')`.
export { InferenceHTTPClient, determineClientMode } from './client';
export { InferenceConfiguration } from './configuration';
export type { InferenceConfigurationOptions, ApiKeyTransport, VisualisationResponseFormat } from './configuration';
export type { CallOptions, ClientMode, ImageInput, ImagesInput, RawPixels } from './context';
export {
  maskApiKey,
  maskKeyValue,
  redactSecret,
  HTTPClientError,
  HTTPCallErrorError,
  InvalidInputFormatError,
  InvalidModelIdentifier,
  ModelNotInitializedError,
  ModelTaskTypeNotSupportedError,
  ModelNotSelectedError,
  APIKeyNotProvided,
  EncodingError,
  WrongClientModeError,
  InvalidParameterError,
  InvalidURLImageInput,
  URLAddressNotAllowedError,
  FeatureDeprecatedError,
} from './errors';
export type * from './coreModels';
export type * from './workflows';
export type * from './pipelines';
export {
  toLegacyCallParameters,
  toObjectDetectionParameters,
  toKeypointsDetectionParameters,
  toInstanceSegmentationParameters,
  toClassificationParameters,
  toApiV1QueryParameters,
} from './configuration';
export { MODEL_ALIASES, resolveModelAlias } from './aliases';
export { rescalePrediction, scalingAspectRatio, MAX_INPUT_PIXELS } from './images';
export { PERMISSIVE_URL_POLICY, STRICT_URL_POLICY, resolveUrlPolicy, isGlobalAddress } from './urlPolicy';
export type { UrlPolicy, UrlPolicyInput } from './urlPolicy';
export type { TransportOptions } from './execution';
export type { ServerInfo, InferenceResult } from './inference';
export type { ModelDescription, RegisteredModels } from './models';
export type { InferOnStreamOptions, StreamInference } from './streams';
export { readFrames, resolveSource, listImages } from './frameSources';
export type { Frame, FrameSourceInput, FrameSourceKind, FrameSourceOptions, ResolvedSource } from './frameSources';
export { FfmpegError, FfmpegNotFoundError, findFfmpeg } from './ffmpeg';

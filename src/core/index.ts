// The package's library entry: `require('@inference-red/node-red-roboflow')`.
export { InferenceHTTPClient, determineClientMode } from './client';
export { InferenceConfiguration } from './configuration';
export type { InferenceConfigurationOptions, ApiKeyTransport, VisualisationResponseFormat } from './configuration';
export type { CallOptions, ClientMode, ImageInput, ImagesInput, RawPixels } from './context';
export * from './errors';
export type * from './coreModels';
export type * from './workflows';
export type * from './pipelines';

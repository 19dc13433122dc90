// InferenceHTTPClient: state (configuration, mode, selected model) and the public surface.
// The work is done by the endpoint families, each a module of functions taking a RequestContext;
// this class only snapshots the effective state into a context and wraps errors uniformly.
import { AsyncLocalStorage } from 'node:async_hooks';
import { resolveModelAlias } from './aliases';
import { InferenceConfiguration } from './configuration';
import type { CallOptions, ClientMode, RequestContext } from './context';
import * as coreModels from './coreModels';
import { Transport, wrapError, type ContextState, type TransportOptions } from './execution';
import * as inference from './inference';
import * as models from './models';
import * as pipelines from './pipelines';
import * as streams from './streams';
import * as workflows from './workflows';

/** The arguments of a family function after its RequestContext. */
type Rest<F> = F extends (context: RequestContext, ...rest: infer R) => unknown ? R : never;

/** Hosted APIs speak the legacy v0 protocol; everything else is a self-hosted v1 server. */
const V0_URL_PREFIXES = [
  'https://detect.roboflow.com',
  'https://outline.roboflow.com',
  'https://classify.roboflow.com',
  'https://infer.roboflow.com',
  'https://serverless.roboflow.com',
  'https://serverless.roboflow.one',
  'https://serverless.roboflow.eu',
  'https://serverless.roboflow-eu.one',
  'https://asyncinfer.roboflow.com',
  'https://asyncinfer.roboflow.one',
];

export function determineClientMode(apiUrl: string): ClientMode {
  return V0_URL_PREFIXES.some((prefix) => apiUrl.startsWith(prefix)) ? 'v0' : 'v1';
}

export class InferenceHTTPClient {
  readonly apiUrl: string;
  private readonly transport: Transport;
  private readonly base: ContextState;
  private readonly scopes = new AsyncLocalStorage<ContextState>();

  constructor(apiUrl: string, apiKey?: string, options: TransportOptions = {}) {
    // Unlike upstream, a trailing slash does not turn every path into '//'.
    this.apiUrl = apiUrl.replace(/\/+$/, '');
    this.transport = new Transport(this.apiUrl, apiKey || undefined, options);
    this.base = {
      configuration: new InferenceConfiguration(),
      mode: determineClientMode(this.apiUrl),
      selectedModel: undefined,
    };
  }

  static init(apiUrl: string, apiKey?: string, options?: TransportOptions): InferenceHTTPClient {
    return new InferenceHTTPClient(apiUrl, apiKey, options);
  }

  // ---- state -------------------------------------------------------------------------------

  /** The state in effect here: the innermost `useX` scope of this async context, or the client's own. */
  private get state(): ContextState {
    return this.scopes.getStore() ?? this.base;
  }

  get inferenceConfiguration(): InferenceConfiguration {
    return this.state.configuration;
  }

  get clientMode(): ClientMode {
    return this.state.mode;
  }

  get selectedModel(): string | undefined {
    return this.state.selectedModel;
  }

  /** Replaces the whole configuration (no merging), as upstream. */
  configure(configuration: InferenceConfiguration): this {
    this.state.configuration = configuration;
    return this;
  }

  selectApiV0(): this {
    this.state.mode = 'v0';
    return this;
  }

  selectApiV1(): this {
    this.state.mode = 'v1';
    return this;
  }

  selectModel(modelId: string): this {
    this.state.selectedModel = modelId;
    return this;
  }

  /**
   * Runs `fn` with the given state; the state outside is untouched, so concurrent scopes
   * cannot see each other's changes, and nothing needs restoring when `fn` settles or throws.
   */
  private scoped<T>(patch: Partial<ContextState>, fn: () => T | Promise<T>): Promise<T> {
    return this.scopes.run({ ...this.state, ...patch }, async () => fn());
  }

  useConfiguration<T>(configuration: InferenceConfiguration, fn: () => T | Promise<T>): Promise<T> {
    return this.scoped({ configuration }, fn);
  }

  useApiV0<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.scoped({ mode: 'v0' }, fn);
  }

  useApiV1<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.scoped({ mode: 'v1' }, fn);
  }

  useModel<T>(modelId: string, fn: () => T | Promise<T>): Promise<T> {
    return this.scoped({ selectedModel: modelId }, fn);
  }

  /** Aborts every request in flight and closes the connection pool. The client is unusable afterwards. */
  close(): Promise<void> {
    return this.transport.close();
  }

  /** A snapshot: a later selectModel or configure does not change a call already running. */
  private context(): RequestContext {
    return this.transport.context(this.state);
  }

  private async call<F extends (context: RequestContext, ...rest: never[]) => unknown>(
    family: F,
    args: Rest<F>,
  ): Promise<Awaited<ReturnType<F>>> {
    try {
      return (await (family as unknown as (context: RequestContext, ...rest: unknown[]) => unknown)(
        this.context(),
        ...(args as unknown[]),
      )) as Awaited<ReturnType<F>>;
    } catch (error) {
      throw wrapError(error, this.transport.apiKey);
    }
  }

  // ---- server info, inference ----------------------------------------------------------------

  getServerInfo(...args: Rest<typeof inference.getServerInfo>) {
    return this.call(inference.getServerInfo, args);
  }

  infer(...args: Rest<typeof inference.infer>) {
    return this.call(inference.infer, args);
  }

  inferFromApiV0(...args: Rest<typeof inference.inferFromApiV0>) {
    return this.call(inference.inferFromApiV0, args);
  }

  inferFromApiV1(...args: Rest<typeof inference.inferFromApiV1>) {
    return this.call(inference.inferFromApiV1, args);
  }

  // ---- model management (v1 only) ----------------------------------------------------------

  getModelDescription(...args: Rest<typeof models.getModelDescription>) {
    return this.call(models.getModelDescription, args);
  }

  listLoadedModels(...args: Rest<typeof models.listLoadedModels>) {
    return this.call(models.listLoadedModels, args);
  }

  async loadModel(modelId: string, setAsDefault = false, options?: CallOptions) {
    const result = await this.call(models.loadModel, [modelId, options]);
    if (setAsDefault) this.state.selectedModel = resolveModelAlias(modelId);
    return result;
  }

  async unloadModel(modelId: string, options?: CallOptions) {
    const result = await this.call(models.unloadModel, [modelId, options]);
    const selected = this.state.selectedModel;
    if (selected === modelId || selected === resolveModelAlias(modelId)) this.state.selectedModel = undefined;
    return result;
  }

  async unloadAllModels(options?: CallOptions) {
    const result = await this.call(models.unloadAllModels, [options]);
    this.state.selectedModel = undefined;
    return result;
  }

  // ---- core models ---------------------------------------------------------------------------

  ocrImage(...args: Rest<typeof coreModels.ocrImage>) {
    return this.call(coreModels.ocrImage, args);
  }

  getClipImageEmbeddings(...args: Rest<typeof coreModels.getClipImageEmbeddings>) {
    return this.call(coreModels.getClipImageEmbeddings, args);
  }

  getClipTextEmbeddings(...args: Rest<typeof coreModels.getClipTextEmbeddings>) {
    return this.call(coreModels.getClipTextEmbeddings, args);
  }

  clipCompare(...args: Rest<typeof coreModels.clipCompare>) {
    return this.call(coreModels.clipCompare, args);
  }

  getPerceptionEncoderImageEmbeddings(...args: Rest<typeof coreModels.getPerceptionEncoderImageEmbeddings>) {
    return this.call(coreModels.getPerceptionEncoderImageEmbeddings, args);
  }

  getPerceptionEncoderTextEmbeddings(...args: Rest<typeof coreModels.getPerceptionEncoderTextEmbeddings>) {
    return this.call(coreModels.getPerceptionEncoderTextEmbeddings, args);
  }

  detectGazes(...args: Rest<typeof coreModels.detectGazes>) {
    return this.call(coreModels.detectGazes, args);
  }

  promptCogvlm(...args: Rest<typeof coreModels.promptCogvlm>) {
    return this.call(coreModels.promptCogvlm, args);
  }

  inferLmm(...args: Rest<typeof coreModels.inferLmm>) {
    return this.call(coreModels.inferLmm, args);
  }

  depthEstimation(...args: Rest<typeof coreModels.depthEstimation>) {
    return this.call(coreModels.depthEstimation, args);
  }

  sam2SegmentImage(...args: Rest<typeof coreModels.sam2SegmentImage>) {
    return this.call(coreModels.sam2SegmentImage, args);
  }

  sam3ConceptSegment(...args: Rest<typeof coreModels.sam3ConceptSegment>) {
    return this.call(coreModels.sam3ConceptSegment, args);
  }

  sam3VisualSegment(...args: Rest<typeof coreModels.sam3VisualSegment>) {
    return this.call(coreModels.sam3VisualSegment, args);
  }

  sam3EmbedImage(...args: Rest<typeof coreModels.sam3EmbedImage>) {
    return this.call(coreModels.sam3EmbedImage, args);
  }

  sam33dInfer(...args: Rest<typeof coreModels.sam33dInfer>) {
    return this.call(coreModels.sam33dInfer, args);
  }

  inferFromYoloWorld(...args: Rest<typeof coreModels.inferFromYoloWorld>) {
    return this.call(coreModels.inferFromYoloWorld, args);
  }

  // ---- workflows -----------------------------------------------------------------------------

  runWorkflow(...args: Rest<typeof workflows.runWorkflow>) {
    return this.call(workflows.runWorkflow, args);
  }

  inferFromWorkflow(...args: Rest<typeof workflows.inferFromWorkflow>) {
    return this.call(workflows.inferFromWorkflow, args);
  }

  describeWorkflowInterface(...args: Rest<typeof workflows.describeWorkflowInterface>) {
    return this.call(workflows.describeWorkflowInterface, args);
  }

  listWorkflowBlocks(...args: Rest<typeof workflows.listWorkflowBlocks>) {
    return this.call(workflows.listWorkflowBlocks, args);
  }

  // ---- inference pipelines -------------------------------------------------------------------

  startInferencePipelineWithWorkflow(...args: Rest<typeof pipelines.startInferencePipelineWithWorkflow>) {
    return this.call(pipelines.startInferencePipelineWithWorkflow, args);
  }

  listInferencePipelines(...args: Rest<typeof pipelines.listInferencePipelines>) {
    return this.call(pipelines.listInferencePipelines, args);
  }

  getInferencePipelineStatus(...args: Rest<typeof pipelines.getInferencePipelineStatus>) {
    return this.call(pipelines.getInferencePipelineStatus, args);
  }

  pauseInferencePipeline(...args: Rest<typeof pipelines.pauseInferencePipeline>) {
    return this.call(pipelines.pauseInferencePipeline, args);
  }

  resumeInferencePipeline(...args: Rest<typeof pipelines.resumeInferencePipeline>) {
    return this.call(pipelines.resumeInferencePipeline, args);
  }

  terminateInferencePipeline(...args: Rest<typeof pipelines.terminateInferencePipeline>) {
    return this.call(pipelines.terminateInferencePipeline, args);
  }

  consumeInferencePipelineResult(...args: Rest<typeof pipelines.consumeInferencePipelineResult>) {
    return this.call(pipelines.consumeInferencePipelineResult, args);
  }

  // ---- streams -------------------------------------------------------------------------------

  /** Frames of a video, camera or folder, each inferred as it comes; break out of the loop to stop. */
  inferOnStream(...args: Rest<typeof streams.inferOnStream>) {
    const context = this.context();
    return streams.inferOnStream(context, ...args);
  }
}

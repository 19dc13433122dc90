// roboflow-infer: one image (or a batch) in, the model's predictions out, with annotations,
// per-class counts and optionally an annotated JPEG. The message pipeline (flow control,
// status, errors, close) is shared; this file is the pattern other Roboflow nodes copy.
import type { ImageInput, ImagesInput, InferenceConfigurationOptions } from '../core';
import { annotateAndCount, drawPredictions } from '../core/annotate';
import { messageConfigurations, parseOptions } from './shared/configuration';
import { imageBytes } from './shared/images';
import { handleMessages, type WorkContext } from './shared/messages';
import { messageSettings, type MessageSettingsDef } from './shared/messageSettings';
import type { Node, NodeAPI, NodeMessage } from './shared/nodeRed';
import { evaluateProperty, reviveBuffers, setOptionalProperty } from './shared/properties';
import { findServer, type RoboflowServer } from './shared/server';
import type { StatusText } from './shared/status';

/** The configuration a roboflow-infer node may override (blank = the server's value). */
export const INFER_NODE_OPTIONS: ReadonlyArray<keyof InferenceConfigurationOptions> = [
  'confidenceThreshold',
  'iouThreshold',
  'maxDetections',
  'maxCandidates',
  'classFilter',
  'classAgnosticNms',
  'keypointConfidenceThreshold',
  'maskDecodeMode',
  'responseMaskFormat',
  'clientDownsizingDisabled',
  'defaultMaxInputSize',
  'maxBatchSize',
  'maxConcurrentRequests',
];

interface InferDef extends MessageSettingsDef {
  server?: string;
  model?: string;
  modelType?: string;
  image?: string;
  imageType?: string;
  annotationsProperty?: string;
  countsProperty?: string;
  annotatedImageProperty?: string;
  originalImageProperty?: string;
  showConfidence?: boolean;
}

export default function registerRoboflowInfer(RED: NodeAPI): void {
  function RoboflowInferNode(this: Node, config: InferDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const server = findServer(RED, config.server);
    let nodeOptions: InferenceConfigurationOptions = {};
    let setupError: Error | undefined;
    try {
      nodeOptions = parseOptions(config, INFER_NODE_OPTIONS);
    } catch (error) {
      setupError = error as Error;
    }
    if (!server) setupError = new Error(RED._('roboflow-infer.errors.noServer'));
    const configurationFor = messageConfigurations(nodeOptions);

    /** The node's model, or undefined for the server's default model (set by a model manager's load). */
    async function modelIdFor(msg: NodeMessage): Promise<string | undefined> {
      const modelId = await evaluateProperty(RED, node, config.model ?? '', config.modelType || 'str', msg);
      if (modelId === undefined || modelId === null || modelId === '') return undefined;
      if (typeof modelId !== 'string') throw new Error(RED._('roboflow-infer.errors.noModel'));
      return modelId.trim() || undefined;
    }

    async function infer(msg: NodeMessage, context: WorkContext): Promise<StatusText> {
      if (setupError) throw setupError;
      const { client, configuration, fileBaseDir } = server as RoboflowServer;
      const modelId = await modelIdFor(msg);
      const image = reviveBuffers(await evaluateProperty(RED, node, config.image || 'payload', config.imageType || 'msg', msg));
      if (image === undefined || image === null || image === '') throw new Error(RED._('roboflow-infer.errors.noImage'));
      const effective = configurationFor(configuration, msg);

      const startedAt = performance.now();
      const result = await client.useConfiguration(effective, () =>
        client.infer(image as ImagesInput, modelId, { signal: context.signal }),
      );
      const timeMs = Math.round(performance.now() - startedAt);

      const results = Array.isArray(result) ? result : [result];
      if (!results.every(isInferenceResult)) throw new Error(RED._('roboflow-infer.errors.notInferenceResult'));
      const showConfidence = config.showConfidence !== false;
      const { annotations, counts } = annotateAndCount(results, { showConfidence });
      setOptionalProperty(RED, msg, config.originalImageProperty, image);
      msg.payload = result;
      // Missing (a hand-written flow) means the documented default; blank means "don't output".
      setOptionalProperty(RED, msg, config.annotationsProperty ?? 'annotations', Array.isArray(result) ? annotations : annotations[0]);
      setOptionalProperty(RED, msg, config.countsProperty ?? 'counts', counts);
      if (config.annotatedImageProperty?.trim()) {
        setOptionalProperty(RED, msg, config.annotatedImageProperty, await annotatedImages(image as ImagesInput, results, fileBaseDir, showConfidence));
      }
      msg.inference = {
        modelId: modelId ?? client.selectedModel,
        inferenceId: Array.isArray(result) ? results.map(inferenceIdOf) : inferenceIdOf(result),
        timeMs,
        serverTimeMs: serverTimeMs(results),
        dropped: context.dropped,
      };
      const objects = Object.values(counts).reduce((sum, count) => sum + count, 0);
      const done = { count: objects, ms: timeMs, dropped: context.dropped };
      return () => RED._(done.dropped ? 'roboflow-infer.status.doneWithDrops' : 'roboflow-infer.status.done', done);
    }

    handleMessages(node, messageSettings(RED, config), infer);
  }

  RED.nodes.registerType('roboflow-infer', RoboflowInferNode as never);
}

/**
 * Predictions, only the drawn image (v0 `format=image`), or a stub model's placeholder (version 0);
 * anything else is not the server's answer to an inference.
 */
function isInferenceResult(result: unknown): boolean {
  return (
    typeof result === 'object' &&
    result !== null &&
    ('predictions' in result || 'visualization' in result || 'is_stub' in result)
  );
}

function inferenceIdOf(result: unknown): string | undefined {
  return (result as { inference_id?: string } | null)?.inference_id;
}

/** The server's own time (`time`, seconds) summed over a batch, in ms; undefined when it reports none. */
function serverTimeMs(results: unknown[]): number | undefined {
  const times = results.map((single) => (single as { time?: unknown } | null)?.time).filter((time): time is number => typeof time === 'number');
  return times.length ? Math.round(times.reduce((sum, time) => sum + time, 0) * 1000) : undefined;
}

/** One JPEG per input image (a single Buffer for a single image); URL inputs get none. */
async function annotatedImages(
  input: ImagesInput,
  results: unknown[],
  fileBaseDir: string | undefined,
  showConfidence: boolean,
): Promise<Buffer | undefined | Array<Buffer | undefined>> {
  const images = flattenImages(input);
  const drawn = await Promise.all(
    images.map(async (image, index) => {
      const bytes = await imageBytes(image, fileBaseDir);
      return bytes && drawPredictions(bytes, results[index], { showConfidence });
    }),
  );
  return Array.isArray(input) ? drawn : drawn[0];
}

/** Nested lists in input order, as the client flattens them. */
function flattenImages(input: ImagesInput): ImageInput[] {
  return Array.isArray(input) ? input.flatMap(flattenImages) : [input];
}

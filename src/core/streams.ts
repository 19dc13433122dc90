// inferOnStream: upstream's infer_on_stream, with frame-rate control and without its costs.
// Frames come from a frame source (ffmpeg for videos and streams, so nothing is decoded here),
// one inference request each; the v1 model description is cached by the inference module, so
// there is no per-frame registry query. Breaking out of the loop stops the source at once.
import type { RequestContext } from './context';
import { wrapError } from './execution';
import { readFrames, type FrameSourceInput, type FrameSourceOptions } from './frameSources';
import { infer, type InferenceResult } from './inference';

/** The frame source's options: `maxFps` drops frames before they are encoded or sent, `signal` stops the loop. */
export type InferOnStreamOptions = FrameSourceOptions;

export interface StreamInference {
  /** The frame index for videos and streams, the file path for folders. */
  reference: number | string;
  /** The JPEG that was sent. */
  frame: Buffer;
  prediction: InferenceResult;
}

/**
 * Infers each frame of a video file, folder of images, stream URL, webcam or snapshot URL (see
 * frameSources), yielding `{ reference, frame, prediction }` as each answer arrives.
 */
export async function* inferOnStream(
  context: RequestContext,
  source: FrameSourceInput,
  modelId?: string,
  options: InferOnStreamOptions = {},
): AsyncGenerator<StreamInference> {
  const frames = readFrames(source, {
    ...options,
    imageExtensions: options.imageExtensions ?? context.configuration.imageExtensionsForDirectoryScan,
  });
  try {
    for await (const frame of frames) {
      const prediction = (await infer(context, frame.data, modelId, { signal: options.signal })) as InferenceResult;
      yield { reference: frame.reference, frame: frame.data, prediction };
    }
  } catch (error) {
    throw wrapError(error, context.apiKey);
  }
}

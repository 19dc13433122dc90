// /inference_pipelines/*: an in-memory state machine standing in for the server's pipeline manager.
// A running pipeline "processes" one frame per consume call; a paused one yields nothing.
import { randomUUID } from 'node:crypto';
import { HttpError, type Reply, type SimRequest, isRecord, ok } from './http';
import { type Route, type ServerState, route } from './state';
import { validateBody } from './validation';

type PipelineState = 'RUNNING' | 'PAUSED';

export interface SimulatedPipeline {
  id: string;
  state: PipelineState;
  videoReference: unknown;
  processingConfiguration: Record<string, unknown>;
  framesProcessed: number;
  startedAt: Date;
}

/** Produces the workflow outputs of one frame; the workflow interpreter provides it. */
export type FrameProcessor = (
  state: ServerState,
  pipeline: SimulatedPipeline,
  frameId: number,
) => Promise<Record<string, unknown>>;

export class PipelineStore {
  private readonly pipelines = new Map<string, SimulatedPipeline>();

  constructor(readonly processFrame: FrameProcessor) {}

  create(videoReference: unknown, processingConfiguration: Record<string, unknown>): SimulatedPipeline {
    const pipeline: SimulatedPipeline = {
      id: randomUUID(),
      state: 'RUNNING',
      videoReference,
      processingConfiguration,
      framesProcessed: 0,
      startedAt: new Date(),
    };
    this.pipelines.set(pipeline.id, pipeline);
    return pipeline;
  }

  ids(): string[] {
    return [...this.pipelines.keys()];
  }

  get(id: string): SimulatedPipeline {
    const pipeline = this.pipelines.get(id);
    if (!pipeline) throw new HttpError(404, { message: `Could not find InferencePipeline with id=${id}.` });
    return pipeline;
  }

  terminate(id: string): void {
    this.get(id);
    this.pipelines.delete(id);
  }
}

function success(pipelineId: string | null, extra: Record<string, unknown> = {}): Reply {
  return ok({ status: 'success', context: { request_id: randomUUID(), pipeline_id: pipelineId }, ...extra });
}

function transition(next: PipelineState) {
  return async (_request: SimRequest, state: ServerState, [id]: string[]): Promise<Reply> => {
    state.pipelines.get(id).state = next;
    return success(id);
  };
}

export const pipelineRoutes: Route[] = [
  route('POST', /^\/inference_pipelines\/initialise$/, async (request, state) => {
    const body = validateBody(request, {
      video_configuration: { kind: 'object', required: true },
      processing_configuration: { kind: 'object', required: true },
      sink_configuration: { kind: 'object' },
    });
    const video = body.video_configuration as Record<string, unknown>;
    const pipeline = state.pipelines.create(video.video_reference, body.processing_configuration as Record<string, unknown>);
    return success(pipeline.id);
  }),
  route('GET', /^\/inference_pipelines\/list$/, async (_request, state) => success(null, { pipelines: state.pipelines.ids() })),
  route('GET', /^\/inference_pipelines\/([^/]+)\/status$/, async (_request, state, [id]) => {
    const pipeline = state.pipelines.get(id);
    return success(id, {
      report: {
        state: pipeline.state,
        inference_throughput: pipeline.state === 'RUNNING' ? 30 : 0,
        video_source_status_updates: [],
        latency_reports: [],
        sources_metadata: [{ source_id: 0, source_reference: pipeline.videoReference, state: pipeline.state }],
      },
    });
  }),
  route('POST', /^\/inference_pipelines\/([^/]+)\/pause$/, transition('PAUSED')),
  route('POST', /^\/inference_pipelines\/([^/]+)\/resume$/, transition('RUNNING')),
  route('POST', /^\/inference_pipelines\/([^/]+)\/terminate$/, async (_request, state, [id]) => {
    state.pipelines.terminate(id);
    return success(id);
  }),
  route('GET', /^\/inference_pipelines\/([^/]+)\/consume$/, async (request, state, [id]) => {
    const pipeline = state.pipelines.get(id);
    if (pipeline.state !== 'RUNNING') return success(id, { outputs: [], frames_metadata: [] });
    const frameId = ++pipeline.framesProcessed;
    const excluded = isRecord(request.json) && Array.isArray(request.json.excluded_fields) ? request.json.excluded_fields : [];
    const outputs = await state.pipelines.processFrame(state, pipeline, frameId);
    for (const name of excluded) delete outputs[String(name)];
    const frameTimestamp = new Date(pipeline.startedAt.getTime() + (frameId * 1000) / 30).toISOString();
    return success(id, {
      outputs: [outputs],
      frames_metadata: [{ frame_timestamp: frameTimestamp, frame_id: frameId, source_id: 0 }],
    });
  }),
];

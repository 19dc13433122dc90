import type { FrameProcessor } from './pipelines';
import type { Route } from './state';

export const workflowRoutes: Route[] = [];
export const processPipelineFrame: FrameProcessor = async () => ({});

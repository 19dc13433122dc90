// Placeholder: being implemented (see docs/ARCHITECTURE.md).
import type { RequestContext } from './context';

export async function startInferencePipelineWithWorkflow(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('startInferencePipelineWithWorkflow is not implemented yet');
}

export async function listInferencePipelines(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('listInferencePipelines is not implemented yet');
}

export async function getInferencePipelineStatus(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('getInferencePipelineStatus is not implemented yet');
}

export async function pauseInferencePipeline(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('pauseInferencePipeline is not implemented yet');
}

export async function resumeInferencePipeline(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('resumeInferencePipeline is not implemented yet');
}

export async function terminateInferencePipeline(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('terminateInferencePipeline is not implemented yet');
}

export async function consumeInferencePipelineResult(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('consumeInferencePipelineResult is not implemented yet');
}


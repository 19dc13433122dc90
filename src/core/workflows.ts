// Placeholder: being implemented (see docs/ARCHITECTURE.md).
import type { RequestContext } from './context';

export async function runWorkflow(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('runWorkflow is not implemented yet');
}

export async function inferFromWorkflow(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('inferFromWorkflow is not implemented yet');
}

export async function describeWorkflowInterface(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('describeWorkflowInterface is not implemented yet');
}

export async function listWorkflowBlocks(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('listWorkflowBlocks is not implemented yet');
}


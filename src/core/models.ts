// Placeholder: being implemented (see docs/ARCHITECTURE.md).
import type { RequestContext } from './context';

export async function getModelDescription(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('getModelDescription is not implemented yet');
}

export async function listLoadedModels(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('listLoadedModels is not implemented yet');
}

export async function loadModel(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('loadModel is not implemented yet');
}

export async function unloadModel(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('unloadModel is not implemented yet');
}

export async function unloadAllModels(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('unloadAllModels is not implemented yet');
}


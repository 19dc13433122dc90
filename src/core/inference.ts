// Placeholder: being implemented (see docs/ARCHITECTURE.md).
import type { RequestContext } from './context';

export async function getServerInfo(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('getServerInfo is not implemented yet');
}

export async function infer(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('infer is not implemented yet');
}

export async function inferFromApiV0(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('inferFromApiV0 is not implemented yet');
}

export async function inferFromApiV1(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('inferFromApiV1 is not implemented yet');
}


// Placeholder: being implemented (see docs/ARCHITECTURE.md).
import type { RequestContext } from './context';

export async function* inferOnStream(_context: RequestContext, ..._args: unknown[]): AsyncGenerator<unknown> {
  throw new Error('inferOnStream is not implemented yet');
}

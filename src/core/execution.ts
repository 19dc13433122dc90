// Placeholder: the transport is being implemented (see docs/ARCHITECTURE.md).
import type { InferenceConfiguration } from './configuration';
import type { ClientMode, RequestContext } from './context';

export interface ContextState {
  configuration: InferenceConfiguration;
  mode: ClientMode;
  selectedModel: string | undefined;
}

export class Transport {
  constructor(
    readonly apiUrl: string,
    readonly apiKey: string | undefined,
  ) {}

  context(_state: ContextState): RequestContext {
    throw new Error('Transport.context is not implemented yet');
  }

  async close(): Promise<void> {}
}

export function wrapError(error: unknown, _apiKey: string | undefined): unknown {
  return error;
}

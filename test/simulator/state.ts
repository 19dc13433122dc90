// What every route handler may read or change: the server's identity, its model registry and
// the inference pipelines it runs. One instance per simulator.
import type { Reply, SimRequest } from './http';
import type { ModelRegistry } from './models';
import type { PipelineStore } from './pipelines';

export interface ServerState {
  serverId: string;
  serverVersion: string;
  legacyGaze: boolean;
  registry: ModelRegistry;
  pipelines: PipelineStore;
}

/**
 * `params` are the route pattern's capture groups, URL-decoded; an optional group that did not
 * match is undefined at run time, so handlers with optional groups check for it.
 */
export type Handler = (request: SimRequest, state: ServerState, params: string[]) => Promise<Reply>;

export interface Route {
  methods: readonly string[];
  pattern: RegExp;
  handler: Handler;
}

export function route(methods: string | readonly string[], pattern: RegExp, handler: Handler): Route {
  return { methods: typeof methods === 'string' ? [methods] : methods, pattern, handler };
}

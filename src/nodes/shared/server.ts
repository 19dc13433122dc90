// What a roboflow-server config node offers the nodes that use it.
import type { InferenceConfiguration, InferenceHTTPClient } from '../../core';
import type { Node, NodeAPI } from './nodeRed';

export const SERVER_NODE_TYPE = 'roboflow-server';

export interface RoboflowServer extends Node {
  /** One client, one connection pool, shared by every node using this server; closed on redeploy. */
  readonly client: InferenceHTTPClient;
  /** The server's configuration defaults, before per-node and per-message overrides. */
  readonly configuration: InferenceConfiguration;
  /** Relative file-path inputs are read from here. */
  readonly fileBaseDir: string | undefined;
}

/** The deployed server node with this id, or undefined when none is selected or deployed. */
export function findServer(RED: NodeAPI, id: unknown): RoboflowServer | undefined {
  const node = typeof id === 'string' && id ? RED.nodes.getNode(id) : null;
  return node && node.type === SERVER_NODE_TYPE ? (node as RoboflowServer) : undefined;
}

/** A secret field holding `${NAME}` reads the environment variable NAME. */
export function resolveSecret(value: string | undefined): string | undefined {
  const reference = value?.trim().match(/^\$\{(\w+)\}$/);
  const resolved = reference ? process.env[reference[1]] : value?.trim();
  return resolved || undefined;
}

// The slice of Node-RED's runtime API these nodes use. Node-RED ships no type declarations
// (and @types/node-red describes the 1.x API), so the package declares what it relies on.
import type { EventEmitter } from 'node:events';

export interface NodeMessage {
  _msgid?: string;
  payload?: unknown;
  [property: string]: unknown;
}

export type SendFunction = (message: NodeMessage | Array<NodeMessage | null> | null) => void;
export type DoneFunction = (error?: Error) => void;

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [property: string]: unknown;
}

export interface Node<Credentials extends object = object> extends EventEmitter {
  readonly id: string;
  readonly type: string;
  name?: string;
  credentials: Credentials;
  status(status: NodeStatus | Record<string, never>): void;
  send(message: NodeMessage | Array<NodeMessage | null> | null): void;
  log(message: unknown): void;
  warn(message: unknown): void;
  error(error: unknown, message?: NodeMessage): void;
  debug(message: unknown): void;
  on(event: 'input', listener: (msg: NodeMessage, send: SendFunction, done: DoneFunction) => void): this;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): this;
  on(event: string, listener: (...args: never[]) => void): this;
}

export interface AdminRequest {
  params: Record<string, string>;
  body: Record<string, unknown> | undefined;
  query: Record<string, unknown>;
}

export interface AdminResponse {
  status(code: number): AdminResponse;
  json(body: unknown): void;
}

type AdminHandler = (request: AdminRequest, response: AdminResponse, next: () => void) => void;

export interface NodeAPI {
  nodes: {
    createNode(node: object, config: NodeDef): void;
    getNode(id: string): Node | null;
    getCredentials(id: string): Record<string, string | undefined> | undefined;
    registerType(
      type: string,
      constructor: (this: never, config: never) => void,
      options?: { credentials?: Record<string, { type: 'text' | 'password' }>; settings?: Record<string, unknown> },
    ): void;
  };
  util: {
    evaluateNodeProperty(
      value: unknown,
      type: string,
      node: Node,
      msg: NodeMessage | undefined,
      callback: (error: Error | null, result: unknown) => void,
    ): void;
    getMessageProperty(msg: NodeMessage, property: string): unknown;
    setMessageProperty(msg: NodeMessage, property: string, value: unknown, createMissing?: boolean): boolean;
  };
  httpAdmin: {
    get(path: string, ...handlers: AdminHandler[]): void;
    post(path: string, ...handlers: AdminHandler[]): void;
  };
  auth: { needsPermission(permission: string): AdminHandler };
  settings: Record<string, unknown>;
  _(key: string, substitutions?: Record<string, unknown>): string;
}

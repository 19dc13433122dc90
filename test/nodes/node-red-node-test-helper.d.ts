// The part of node-red-node-test-helper 0.3 the node tests use (the package ships no types).
declare module 'node-red-node-test-helper' {
  import type { EventEmitter } from 'node:events';

  /** A supertest request: awaitable, chainable. */
  interface AdminRequest extends PromiseLike<{ status: number; body: any; text: string }> {
    send(body: unknown): AdminRequest;
    set(header: string, value: string): AdminRequest;
  }

  interface TestNode extends EventEmitter {
    id: string;
    type: string;
    receive(msg: Record<string, unknown>): void;
    [property: string]: any;
  }

  interface AdminAgent {
    get(path: string): AdminRequest;
    post(path: string): AdminRequest;
  }

  interface NodeTestHelper {
    init(nodeRedRuntime: string, userSettings?: Record<string, unknown>): void;
    load(nodes: unknown, flow: unknown[], credentials?: Record<string, Record<string, string>>): Promise<void>;
    setFlows(flow: unknown[], type?: 'full' | 'flows' | 'nodes', credentials?: Record<string, Record<string, string>>): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): TestNode;
    request(): AdminAgent;
    /** The sinon spy on the runtime log (set by load); `args` holds every logged event. */
    log(): { args: unknown[][] } | undefined;
    clearFlows(): Promise<void>;
    settings(userSettings?: Record<string, unknown>): Record<string, unknown>;
    startServer(): Promise<void>;
    stopServer(): Promise<void>;
  }

  const helper: NodeTestHelper;
  export default helper;
}

// An embedded Node-RED runtime (no editor, no HTTP) that loads this package's built nodes from
// dist/, for the scenarios that measure the nodes rather than the bare client.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  wires?: string[][];
  [property: string]: unknown;
}

/** The slice of a runtime node the benchmark touches. */
export interface RuntimeNode {
  id: string;
  receive(msg: Record<string, unknown>): void;
  on(event: 'input', listener: (msg: Record<string, unknown>) => void): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}

interface NodeRedModule {
  init(settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { getNode(id: string): RuntimeNode | null };
  events: { once(event: string, listener: () => void): void };
  runtime: { flows: { setFlows(options: { flows: { flows: FlowNode[]; credentials?: Record<string, unknown> }; deploymentType?: string }): Promise<unknown> } };
}

export const TAB_ID = 'bench-tab';
const PACKAGE_ROOT = path.resolve(__dirname, '..');

export class EmbeddedNodeRed {
  private constructor(
    private readonly red: NodeRedModule,
    private readonly userDir: string,
  ) {}

  static async start(): Promise<EmbeddedNodeRed> {
    const red = require('node-red') as NodeRedModule;
    const userDir = mkdtempSync(path.join(os.tmpdir(), 'roboflow-bench-nodered-'));
    red.init({
      userDir,
      nodesDir: [PACKAGE_ROOT],
      httpAdminRoot: false,
      httpNodeRoot: false,
      disableEditor: true,
      credentialSecret: false,
      SKIP_BUILD_CHECK: true,
      logging: { console: { level: process.env.BENCH_NODE_RED_LOG ?? 'error', metrics: false, audit: false } },
      telemetry: { enabled: false, updateNotification: false },
      externalModules: { autoInstall: false, palette: { allowInstall: false } },
    });
    // The (empty) startup flows start after start() resolves; a deploy racing them would be lost.
    const started = new Promise<void>((resolve) => red.events.once('flows:started', resolve));
    await red.start();
    await started;
    return new EmbeddedNodeRed(red, userDir);
  }

  /** Replaces every flow with these nodes (all on one tab); resolves once they are started. */
  async deploy(nodes: FlowNode[], credentials: Record<string, unknown> = {}): Promise<void> {
    const flows: FlowNode[] = [{ id: TAB_ID, type: 'tab', label: 'bench' }, ...nodes.map((node) => ({ z: TAB_ID, ...node }))];
    // setFlows resolves once the flows are saved; they start afterwards.
    const started = new Promise<void>((resolve) => this.red.events.once('flows:started', resolve));
    await this.red.runtime.flows.setFlows({ flows: { flows, credentials }, deploymentType: 'full' });
    await started;
  }

  async clear(): Promise<void> {
    await this.deploy([]);
  }

  node(id: string): RuntimeNode {
    const node = this.red.nodes.getNode(id);
    if (!node) throw new Error(`node ${id} is not deployed (is its type registered in package.json and built?)`);
    return node;
  }

  /** Calls `listener` for every message that reaches node `id` (see `sink`). */
  tap(id: string, listener: (msg: Record<string, unknown>) => void): void {
    this.node(id).on('input', listener);
  }

  async stop(): Promise<void> {
    try {
      await this.clear().catch(() => undefined);
      await this.red.stop();
    } finally {
      rmSync(this.userDir, { recursive: true, force: true });
    }
  }
}

/**
 * A node that does nothing with its messages: the point where the benchmark listens. (Junctions
 * would be cheaper but the runtime wires straight through them, so there is no node to tap.)
 */
export function sink(id: string): FlowNode {
  return { id, type: 'debug', active: false, tosidebar: false, console: false, complete: 'false', wires: [] };
}

let shared: Promise<EmbeddedNodeRed> | null = null;

/** Node-RED can be initialised once per process, so every scenario shares one runtime. */
export function embeddedNodeRed(): Promise<EmbeddedNodeRed> {
  shared ??= EmbeddedNodeRed.start();
  return shared;
}

export async function stopEmbeddedNodeRed(): Promise<void> {
  if (shared) await (await shared).stop();
  shared = null;
}

export interface Arrival {
  /** The sink the message reached. */
  sinkId: string;
  msg: Record<string, unknown>;
}

/** Messages arriving at tapped sinks, handed out one at a time in arrival order. */
export class MessageCollector {
  private readonly arrived: Arrival[] = [];
  private readonly waiting: Array<(arrival: Arrival) => void> = [];
  readonly counts = new Map<string, number>();

  constructor(red: EmbeddedNodeRed, sinkIds: readonly string[]) {
    for (const sinkId of sinkIds) {
      this.counts.set(sinkId, 0);
      red.tap(sinkId, (msg) => {
        this.counts.set(sinkId, (this.counts.get(sinkId) ?? 0) + 1);
        const arrival = { sinkId, msg };
        const waiter = this.waiting.shift();
        if (waiter) waiter(arrival);
        else this.arrived.push(arrival);
      });
    }
  }

  count(sinkId: string): number {
    return this.counts.get(sinkId) ?? 0;
  }

  next(): Promise<Arrival> {
    const arrival = this.arrived.shift();
    if (arrival) return Promise.resolve(arrival);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

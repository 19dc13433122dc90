// Shared set-up for node tests: node-red-node-test-helper with the built nodes (npm run build
// first), the nodes' real en-US messages (the helper's RED._ returns keys), flow builders
// (a tab with catch, status and complete nodes) and collectors of what those nodes receive.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator';

// NODE_RED_PATH runs the same tests on another Node-RED, e.g. 5.x installed elsewhere.
helper.init(process.env.NODE_RED_PATH ?? require.resolve('node-red'));
export { helper };

const DIST = join(__dirname, '..', '..', 'dist', 'nodes');
export const TAB = 'tab1';
export const SERVER_ID = 'server1';
export const API_KEY = 'test-api-key-0123456789';

type NodeModule = (red: { _: unknown }) => void;

function translator(types: string[]): (key: string, substitutions?: Record<string, unknown>) => string {
  const catalog: Record<string, unknown> = {};
  for (const type of types) Object.assign(catalog, JSON.parse(readFileSync(join(DIST, 'locales', 'en-US', `${type}.json`), 'utf8')));
  return (key, substitutions = {}) => {
    const text = key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], catalog);
    if (typeof text !== 'string') return key;
    return text.replace(/__(\w+)__/g, (_match, name: string) => String(substitutions[name]));
  };
}

/** The built node modules, each given a RED._ that translates like the runtime does. */
export function nodeModules(...types: string[]): NodeModule[] {
  const translate = translator(types);
  return types.map((type) => {
    const register = (require(join(DIST, `${type}.js`)) as { default: NodeModule }).default;
    return (red: { _: unknown }) => {
      red._ = translate;
      return register(red);
    };
  });
}

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export function serverNode(url: string, config: Record<string, unknown> = {}): FlowNode {
  return { id: SERVER_ID, type: 'roboflow-server', name: 'simulator', url, ...config };
}

/** An infer node with shapes/1 on msg.payload, wired to a helper node `out`. */
export function inferNode(config: Record<string, unknown> = {}): FlowNode {
  return {
    id: 'infer1',
    type: 'roboflow-infer',
    server: SERVER_ID,
    model: 'shapes/1',
    modelType: 'str',
    image: 'payload',
    imageType: 'msg',
    annotationsProperty: 'annotations',
    countsProperty: 'counts',
    maxInFlight: 1,
    overflow: 'queue',
    queueSize: 100,
    wires: [['out']],
    ...config,
  };
}

/** A tab holding the given nodes plus catch, status and complete nodes watching `watched`, wired to helpers. */
export function flowOnTab(nodes: FlowNode[], watched: string[]): FlowNode[] {
  const onTab = nodes.map((node) => (node.type === 'roboflow-server' ? node : { z: TAB, ...node }));
  return [
    { id: TAB, type: 'tab', label: 'test' },
    ...onTab,
    { id: 'catch1', type: 'catch', z: TAB, scope: watched, uncaught: false, wires: [['caught']] },
    { id: 'status1', type: 'status', z: TAB, scope: watched, wires: [['statuses']] },
    { id: 'complete1', type: 'complete', z: TAB, scope: watched, uncaught: false, wires: [['completed']] },
    { id: 'caught', type: 'helper', z: TAB },
    { id: 'statuses', type: 'helper', z: TAB },
    { id: 'completed', type: 'helper', z: TAB },
  ];
}

export interface Collected {
  messages: Array<Record<string, any>>;
  /** Resolves once `count` messages have arrived. */
  atLeast(count: number): Promise<Array<Record<string, any>>>;
}

/** Everything a helper node receives, from now on. */
export function collect(helperId: string): Collected {
  const messages: Array<Record<string, any>> = [];
  const waiters: Array<() => void> = [];
  helper.getNode(helperId).on('input', (msg: Record<string, any>) => {
    messages.push(msg);
    waiters.splice(0).forEach((wake) => wake());
  });
  return {
    messages,
    async atLeast(count) {
      while (messages.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return messages;
    },
  };
}

/** Polls until `condition` holds (mocha's timeout bounds the wait). */
export async function eventually(condition: () => boolean | Promise<boolean>, intervalMs = 20): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, intervalMs));
}

/** Open sockets and timers, by kind, for leak checks across a redeploy. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return { TCPSocketWrap: counts.TCPSocketWrap ?? 0, Timeout: counts.Timeout ?? 0 };
}

/**
 * The test helper's Node-RED for the enclosing suite, each test's flow unloaded after it. Call
 * inside `describe`: it registers mocha hooks there.
 */
export function useNodeRed(): void {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());
}

/**
 * useNodeRed plus a simulator, fresh for every test (`scope: 'test'`, the default) or one for the
 * whole suite. Returns a getter, since the simulator starts in a hook after this call.
 */
export function useNodeRedWithSimulator(options: SimulatorOptions & { scope?: 'test' | 'suite' } = {}): () => Simulator {
  const { scope = 'test', ...simulatorOptions } = options;
  let simulator: Simulator | undefined;
  useNodeRed();
  const [start, stop] = scope === 'test' ? [beforeEach, afterEach] : [before, after];
  start(async () => {
    simulator = await startSimulator(simulatorOptions);
  });
  stop(async () => {
    await simulator?.stop();
  });
  return () => {
    if (!simulator) throw new Error('the simulator starts in a mocha hook: read it inside a test');
    return simulator;
  };
}

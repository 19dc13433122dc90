// Shared set-up for the reliability suite: a marker API key that must never surface, a recorder
// of everything the process shows (unhandled rejections, warnings, console output, Node-RED log
// lines, node status/log/send calls) and an infer flow watched by Catch and Status nodes.
import assert from 'node:assert/strict';
import { startSimulator, type Simulator } from '../simulator';
import { collect, flowOnTab, helper, inferNode, nodeModules, SERVER_ID, serverNode, useNodeRedWithSimulator, type Collected } from '../nodes/helpers';

export const MARKER_KEY = 'MARKERKEY-5f3c9a7e1d2b4c6a8f0e';
/** The key and the part upstream's masking (`MA***0e`) must hide: either in any output is a leak. */
export const SECRET_FORMS = [MARKER_KEY, MARKER_KEY.slice(2, -2)];
/** A fresh object each time: Node-RED keeps the object it is given as its credential cache and edits it. */
export function credentials(): Record<string, Record<string, string>> {
  return { [SERVER_ID]: { apiKey: MARKER_KEY } };
}
/** Small enough that timeouts cost the suite little, far above the simulator's answer time. */
export const REQUEST_TIMEOUT_MS = 1000;

export const INFER_NODES = () => nodeModules('roboflow-server', 'roboflow-infer');

export interface InferFlow {
  out: Collected;
  caught: Collected;
  statuses: Collected;
}

/** Deploys server + infer node (Catch, Status and output collectors wired) against `url`. */
export async function loadInferFlow(
  url: string,
  options: { infer?: Record<string, unknown>; server?: Record<string, unknown>; credentials?: Record<string, Record<string, string>> } = {},
): Promise<InferFlow> {
  const server = serverNode(url, { requestTimeoutMs: String(REQUEST_TIMEOUT_MS), ...options.server });
  await helper.load(INFER_NODES(), flowOnTab([server, inferNode(options.infer), { id: 'out', type: 'helper' }], ['infer1']), options.credentials ?? credentials());
  return { out: collect('out'), caught: collect('caught'), statuses: collect('statuses') };
}

/** A one-step workflow: object detection with shapes/1 on the `image` input. */
export const VALID_SPECIFICATION = {
  version: '1.0',
  inputs: [{ type: 'WorkflowImage', name: 'image' }],
  steps: [{ type: 'roboflow_core/roboflow_object_detection_model@v2', name: 'detection', images: '$inputs.image', model_id: 'shapes/1' }],
  outputs: [{ type: 'JsonField', name: 'predictions', selector: '$steps.detection.predictions' }],
};

/** Deploys server + workflow node ('workflow1', specification from msg.specification, image from msg.payload). */
export async function loadWorkflowFlow(url: string): Promise<{ out: Collected; caught: Collected }> {
  const workflow = { id: 'workflow1', type: 'roboflow-workflow', server: SERVER_ID, source: 'specification', specificationType: 'msg', specification: 'specification', imageInputs: 'image=payload', wires: [['out']] };
  const server = serverNode(url, { requestTimeoutMs: String(REQUEST_TIMEOUT_MS) });
  await helper.load(nodeModules('roboflow-server', 'roboflow-workflow'), flowOnTab([server, workflow, { id: 'out', type: 'helper' }], ['workflow1']), credentials());
  return { out: collect('out'), caught: collect('caught') };
}

/** Sends one message to the infer node and waits for its outcome: the output or the Catch message. */
export async function outcomeOf(flow: InferFlow, msg: Record<string, unknown>): Promise<{ output?: Record<string, any>; caught?: Record<string, any> }> {
  const outputs = flow.out.messages.length;
  const caught = flow.caught.messages.length;
  helper.getNode('infer1').receive(msg);
  await Promise.race([flow.out.atLeast(outputs + 1), flow.caught.atLeast(caught + 1)]);
  return { output: flow.out.messages[outputs], caught: flow.caught.messages[caught] };
}

/** Asserts the message failed, reached Catch as itself, and returns the error text Catch saw. */
export async function caughtError(flow: InferFlow, msg: Record<string, unknown>): Promise<string> {
  const { output, caught } = await outcomeOf(flow, msg);
  assert.equal(output, undefined, 'a failed message is not sent on');
  assert.ok(caught, 'Catch receives the failure');
  assert.equal(caught.error.source.id, 'infer1');
  for (const [key, value] of Object.entries(msg)) assert.deepEqual(caught[key], value, `Catch gets the original msg.${key}`);
  assert.deepEqual(caught.payload, msg.payload, 'Catch gets the original payload');
  return caught.error.message as string;
}

/** The next message succeeds: the node recovered once the fault ended. */
export async function assertRecovers(flow: InferFlow, payload: unknown): Promise<void> {
  const { output, caught } = await outcomeOf(flow, { payload, topic: 'recovery' });
  assert.equal(caught?.error?.message, undefined, 'no error after the fault ended');
  assert.equal(output?.topic, 'recovery');
  assert.ok(Array.isArray(output?.payload?.predictions), 'the recovered answer has predictions');
}

/** Node-RED still runs: its admin API answers and the server node's endpoint reaches the given server. */
export async function assertRuntimeAlive(simulatorUrl: string): Promise<void> {
  const response = await helper.request().post('/roboflow-server/info').send({ url: simulatorUrl });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.body.version, '1.5.0');
}

interface RecordedProcess {
  rejections: unknown[];
  /** Everything written to stdout/stderr and every process warning since the suite started. */
  console: string[];
}

/**
 * For the enclosing describe: records unhandled rejections (each test fails if one occurred)
 * and tees console output and process warnings into a buffer the leak checks search.
 */
export function watchProcess(): RecordedProcess {
  const recorded: RecordedProcess = { rejections: [], console: [] };
  const onRejection = (reason: unknown) => recorded.rejections.push(reason);
  const onWarning = (warning: Error) => recorded.console.push(`${warning.name}: ${warning.message}`);
  const writers = { stdout: process.stdout.write, stderr: process.stderr.write };
  before(() => {
    process.on('unhandledRejection', onRejection);
    process.on('warning', onWarning);
    for (const stream of ['stdout', 'stderr'] as const) {
      const original = writers[stream];
      process[stream].write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
        recorded.console.push(String(chunk));
        return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
      } as typeof process.stdout.write;
    }
  });
  afterEach(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(recorded.rejections.map(String), [], 'no unhandled rejection');
  });
  after(() => {
    process.off('unhandledRejection', onRejection);
    process.off('warning', onWarning);
    process.stdout.write = writers.stdout;
    process.stderr.write = writers.stderr;
  });
  return recorded;
}

type SpiedPrototype = Record<string, { args?: unknown[][] }>;

/**
 * What the loaded flow has shown so far: Node-RED log lines (node.log/warn/error end there) and
 * every node.status/log/warn/error/send call, read from the test helper's spies. Call before unload.
 */
export function nodeRedOutputs(): unknown[] {
  const prototype = (helper as unknown as { _NodePrototype: SpiedPrototype })._NodePrototype;
  const calls = ['status', 'log', 'warn', 'error', 'debug', 'trace', 'send'].map((method) => prototype[method]?.args ?? []);
  const flows = (helper as unknown as { _redNodes: { getFlows(): unknown } })._redNodes.getFlows();
  return [helper.log()?.args ?? [], calls, flows];
}

/** JSON of anything, with Buffers (images) shortened: they are inputs, not outputs. */
export function serialise(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item && typeof item === 'object') {
      if ((item as { type?: unknown }).type === 'Buffer' && Array.isArray((item as { data?: unknown }).data)) return '<buffer>';
      if (seen.has(item)) return '<cycle>';
      seen.add(item);
    }
    if (item instanceof Error) return { name: item.name, message: item.message, stack: item.stack };
    return typeof item === 'bigint' ? String(item) : item;
  });
}

export function assertNoSecret(text: string, where: string): void {
  for (const form of SECRET_FORMS) assert.ok(!text.includes(form), `${where} contains the API key (${form.slice(0, 6)}...)`);
}

/** A simulator that can be stopped and started again on the same port (a server restart). */
export class RestartableSimulator {
  private constructor(
    public current: Simulator | undefined,
    readonly port: number,
  ) {}

  static async start(): Promise<RestartableSimulator> {
    const simulator = await startSimulator();
    return new RestartableSimulator(simulator, simulator.port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await this.current?.stop();
    this.current = undefined;
  }

  async restart(): Promise<Simulator> {
    await this.stop();
    this.current = await startSimulator({ port: this.port });
    return this.current;
  }
}

/**
 * Node-RED and a fresh simulator for every test (see useNodeRedWithSimulator), and after each test
 * no secret in what Node-RED and the console showed, read before the flow is unloaded.
 */
export function useNodeRedGuardingSecrets(recorded: RecordedProcess): () => Simulator {
  let shown = '';
  afterEach(() => {
    shown = serialise([nodeRedOutputs(), recorded.console]);
  });
  const simulator = useNodeRedWithSimulator();
  afterEach(function () {
    assertNoSecret(shown, `outputs of "${this.currentTest?.title}"`);
  });
  return simulator;
}

// Redeploy and delete while requests are in flight and ffmpeg is running: close is quick, the
// requests are aborted (not reported as errors), and the process keeps no socket, timer or child
// process it did not have before.
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { readdirSync, readFileSync } from 'node:fs';
import { makeImage } from '../fixtures/images';
import { ffmpegChildren, startMjpegServer, type MjpegServer } from '../fixtures/videos';
import { activeResources, collect, eventually, flowOnTab, helper, inferNode, nodeModules, serverNode, type FlowNode } from '../nodes/helpers';
import { startSimulator, type Simulator } from '../simulator';
import { credentials, watchProcess } from './harness';

/** Generous for a loaded 2-core machine; a close that waits on a request or on ffmpeg takes far longer. */
const MAX_CLOSE_MS = 2_000;

/** Live child processes of this process (any program), from the process table. */
function childProcesses(): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && state !== 'Z') children.push(Number(entry));
    } catch {
      // The process ended while the table was read.
    }
  }
  return children;
}

function snapshot() {
  return { TCPSocketWrap: activeResources().TCPSocketWrap, children: childProcesses().length };
}

/** Sockets and children close asynchronously after `close`: waits a little, then compares. */
async function assertBackTo(baseline: ReturnType<typeof snapshot>): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (Date.now() < deadline && JSON.stringify(snapshot()) !== JSON.stringify(baseline)) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual(snapshot(), baseline, 'sockets and child processes as before the deploy');
}

/**
 * Timers created from now on that still keep the process alive. getActiveResourcesInfo() counts
 * timers too, but also mocha's test timeout, which it re-arms once the test function returns.
 */
function trackTimers(): { pending(): string[]; stop(): void } {
  const timers = new Map<number, { timer: NodeJS.Timeout; origin: string }>();
  const hook = createHook({
    init(id, type, _trigger, resource) {
      if (type === 'Timeout') timers.set(id, { timer: resource as NodeJS.Timeout, origin: new Error().stack?.split('\n').slice(5, 9).join(' <- ') ?? '' });
    },
    destroy(id) {
      timers.delete(id);
    },
  });
  hook.enable();
  return {
    pending: () =>
      [...timers.values()]
        .filter(({ timer, origin }) => timer.hasRef() && !(timer as unknown as { _destroyed: boolean })._destroyed && !origin.includes('/node_modules/mocha/'))
        .map(({ timer, origin }) => `${(timer as unknown as { _idleTimeout: number })._idleTimeout} ms: ${origin}`),
    stop: () => hook.disable(),
  };
}

/** A camera feeding an infer node whose server never answers: one request always in flight. */
function cameraToInferFlow(simulatorUrl: string, cameraUrl: string, label: string): FlowNode[] {
  return flowOnTab(
    [
      serverNode(simulatorUrl, { requestTimeoutMs: '60000' }),
      { id: 'stream1', type: 'roboflow-stream-source', name: label, source: cameraUrl, startOnDeploy: true, realtime: false, stallTimeout: '10', wires: [['infer1', 'frames']] },
      inferNode({ name: label, overflow: 'drop', maxInFlight: 1 }),
      { id: 'out', type: 'helper' },
      { id: 'frames', type: 'helper' },
    ],
    ['infer1', 'stream1'],
  );
}

describe('reliability: redeploy and delete with requests in flight and ffmpeg running', function () {
  this.timeout(30_000);
  watchProcess();
  let simulator: Simulator;
  let camera: MjpegServer;

  // No helper.startServer(): the editor's websocket heartbeat timer would start at an unknown moment
  // and blur the timer count; these tests need no admin API.
  beforeEach(async () => {
    simulator = await startSimulator({ preloaded: ['shapes/1'] });
    camera = await startMjpegServer([await makeImage({ width: 160, height: 120 })], 50);
  });
  afterEach(async () => {
    await helper.unload();
    await camera.stop();
    await simulator.stop();
  });

  async function deployBusyFlow(label: string) {
    await helper.load(nodeModules('roboflow-server', 'roboflow-infer', 'roboflow-stream-source'), cameraToInferFlow(simulator.url, camera.url, label), credentials());
    const flow = { out: collect('out'), caught: collect('caught'), frames: collect('frames') };
    await flow.frames.atLeast(3);
    await eventually(() => simulator.requests('/infer/').length >= 1);
    assert.equal(ffmpegChildren().running.length, 1, 'ffmpeg runs');
    return flow;
  }

  async function timed(action: () => Promise<unknown>): Promise<number> {
    const startedAt = performance.now();
    await action();
    return performance.now() - startedAt;
  }

  it('delete: closes in under 2 s and leaves nothing behind', async () => {
    const baseline = snapshot();
    const timers = trackTimers();
    simulator.inject({ route: '/infer/*', kind: 'no-response', count: Infinity });
    const flow = await deployBusyFlow('first');

    const closeMs = await timed(() => helper.setFlows([], 'full'));
    assert.ok(closeMs < MAX_CLOSE_MS, `stopping took ${Math.round(closeMs)} ms`);
    assert.deepEqual(ffmpegChildren(), { running: [], zombies: [] });
    // The request never answered holds its socket unless the close aborted it.
    await assertBackTo(baseline);
    assert.deepEqual(timers.pending(), [], 'no timer left running');
    timers.stop();
    assert.equal(flow.out.messages.length, 0);
    assert.equal(flow.caught.messages.length, 0, 'an aborted request is not an error');
  });

  it('redeploy: the old nodes let go of their request and ffmpeg, the new ones start afresh', async () => {
    const baseline = snapshot();
    const timers = trackTimers();
    simulator.inject({ route: '/infer/*', kind: 'no-response', count: Infinity });
    const flow = await deployBusyFlow('first');
    const [oldFfmpeg] = ffmpegChildren().running;

    const redeployMs = await timed(() => helper.setFlows(cameraToInferFlow(simulator.url, camera.url, 'second'), 'full', credentials()));
    assert.ok(redeployMs < MAX_CLOSE_MS, `redeploying took ${Math.round(redeployMs)} ms`);
    await eventually(() => ffmpegChildren().running.length === 1 && ffmpegChildren().running[0] !== oldFfmpeg);
    assert.equal(flow.caught.messages.length, 0, 'an aborted request is not an error');

    // The new flow works once the server answers again.
    simulator.clearFaults();
    const out = collect('out');
    await out.atLeast(1);

    await helper.setFlows([], 'full');
    await assertBackTo(baseline);
    assert.deepEqual(timers.pending(), [], 'no timer left running');
    timers.stop();
    assert.deepEqual(ffmpegChildren(), { running: [], zombies: [] });
  });
});

// Scenario 5: what the roboflow-infer node adds to each message over calling the client directly,
// both against a zero-latency server in a separate process.
import { replayDetection } from '../answers';
import { BENCH_API_KEY, DETECTION_MODEL, benchClient, benchImage } from '../fixtures';
import { inferNode, serverNode, SERVER_ID } from '../flows';
import { embeddedNodeRed, MessageCollector, sink, type FlowNode } from '../nodeRed';
import { RemoteSimulator } from '../remoteSimulator';
import type { Row } from '../report';
import { sized, type BenchOptions, type Scenario } from '../scenario';
import { measure, sequentially } from '../stats';

const WARM_UP = 50;

function inferFlow(url: string): FlowNode[] {
  return [
    serverNode(url),
    inferNode('infer', { wires: [['results']] }),
    sink('results'),
    { id: 'error-watch', type: 'catch', scope: ['infer'], uncaught: false, wires: [['failures']] },
    sink('failures'),
  ];
}

async function run(options: BenchOptions): Promise<Row[]> {
  const count = sized(options, { quick: 300, default: 2000, long: 2000 });
  const image = await benchImage(640, 480);
  const simulator = await RemoteSimulator.start({ latencyMs: 0, preloaded: [DETECTION_MODEL] });
  const red = await embeddedNodeRed();
  const client = benchClient(simulator.url);
  try {
    await replayDetection(simulator, image);
    await red.deploy(inferFlow(simulator.url), { [SERVER_ID]: { apiKey: BENCH_API_KEY } });
    const outcomes = new MessageCollector(red, ['results', 'failures']);
    const infer = red.node('infer');
    const throughNode = async () => {
      infer.receive({ payload: image });
      const { sinkId, msg } = await outcomes.next();
      if (sinkId === 'failures') throw msgError(msg);
    };
    const direct = () => client.infer(image, DETECTION_MODEL);

    await sequentially(WARM_UP, throughNode);
    await sequentially(WARM_UP, direct);
    const node = await measure(() => sequentially(count, throughNode));
    const bare = await measure(() => sequentially(count, direct));
    const perMessage = (ms: number) => (ms * 1000) / count;
    const scenario = '5 node overhead';
    return [
      { scenario, figure: `roboflow-infer, ${count} sequential msgs (floor: direct client.infer)`, value: perMessage(node.wallMs), unit: 'µs/msg', ideal: perMessage(bare.wallMs) },
      { scenario, figure: 'added by the node per message', value: perMessage(node.wallMs - bare.wallMs), unit: 'µs' },
      { scenario, figure: 'CPU per message, node (floor: direct call)', value: perMessage(node.cpuMs), unit: 'µs', ideal: perMessage(bare.cpuMs) },
    ];
  } finally {
    await red.clear();
    await client.close();
    await simulator.stop();
  }
}

function msgError(msg: Record<string, unknown>): Error {
  const error = msg.error as { message?: string } | undefined;
  return new Error(`roboflow-infer failed: ${error?.message ?? 'unknown error'}`);
}

export const nodeOverheadScenario: Scenario = { name: 'node-overhead', run };

// Child-process entry: runs the simulator outside the benchmark process, so the benchmark's
// CPU and memory figures are the client's alone. Controlled over the IPC channel by
// remoteSimulator.ts; exits as soon as its parent goes away, so it can never outlive a run.
import { startSimulator, type Fault, type Simulator, type SimulatorOptions } from '../test/simulator';

export type ControlRequest =
  | { id: number; type: 'setLatency'; ms: number }
  | { id: number; type: 'inject'; fault: Fault }
  | { id: number; type: 'clearFaults' }
  | { id: number; type: 'requestCount' }
  | { id: number; type: 'stop' };

export type ControlReply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: string };
export interface ReadyMessage {
  type: 'ready';
  url: string;
  port: number;
}

// The simulator keeps every request in its log; a long run would grow the child without bound.
const LOG_TRIM_INTERVAL_MS = 2_000;

function send(message: ControlReply | ReadyMessage): void {
  process.send?.(message);
}

function handle(simulator: Simulator, counter: { requests: number }, request: ControlRequest): unknown {
  switch (request.type) {
    case 'setLatency':
      return simulator.setLatency(request.ms);
    case 'inject':
      return simulator.inject(request.fault);
    case 'clearFaults':
      return simulator.clearFaults();
    case 'requestCount':
      return counter.requests + simulator.log.length;
    case 'stop':
      return undefined;
  }
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as SimulatorOptions;
  const simulator = await startSimulator(options);
  const counter = { requests: 0 };
  const trimmer = setInterval(() => {
    counter.requests += simulator.log.length;
    simulator.clearLog();
  }, LOG_TRIM_INTERVAL_MS);

  const shutdown = async (code: number) => {
    clearInterval(trimmer);
    await simulator.stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('disconnect', () => void shutdown(0));
  process.on('message', (request: ControlRequest) => {
    try {
      const value = handle(simulator, counter, request);
      send({ id: request.id, ok: true, value });
      if (request.type === 'stop') void shutdown(0);
    } catch (error) {
      send({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  });
  send({ type: 'ready', url: simulator.url, port: simulator.port });
}

main().catch((error: unknown) => {
  console.error('simulator process failed:', error);
  process.exit(1);
});

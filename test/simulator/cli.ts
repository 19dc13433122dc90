// `npm run simulator [-- --port 9001 --latency 50 --legacy-gaze]`: the simulated inference server
// as a standalone process on 127.0.0.1, logging one line per request.
import { parseArgs } from 'node:util';
import { type LoggedRequest, startSimulator } from './index';

const USAGE = 'usage: simulator [--port <n>] [--latency <ms>] [--legacy-gaze]';

function options(): { port: number; latencyMs: number; legacyGaze: boolean } {
  try {
    const { values } = parseArgs({
      options: {
        port: { type: 'string' },
        latency: { type: 'string' },
        'legacy-gaze': { type: 'boolean', default: false },
      },
    });
    const port = Number(values.port ?? process.env.PORT ?? 9001);
    const latencyMs = Number(values.latency ?? 0);
    if (Number.isInteger(port) && port >= 0 && Number.isFinite(latencyMs) && latencyMs >= 0) {
      return { port, latencyMs, legacyGaze: values['legacy-gaze'] ?? false };
    }
  } catch (error) {
    console.error((error as Error).message);
  }
  console.error(USAGE);
  process.exit(2);
}

/** Method, path, status and duration only: query strings and bodies may carry API keys. */
function describe(entry: LoggedRequest): string {
  const duration = entry.respondedAt === undefined ? '-' : `${entry.respondedAt - entry.receivedAt}ms`;
  return `${new Date(entry.receivedAt).toISOString()} ${entry.method} ${entry.path} ${entry.status ?? '-'} ${duration}`;
}

async function main(): Promise<void> {
  const simulator = await startSimulator(options());
  let printed = 0;
  const printer = setInterval(() => {
    while (printed < simulator.log.length && simulator.log[printed].respondedAt !== undefined) {
      console.log(describe(simulator.log[printed++]));
    }
    // The log is only for printing here; dropping printed entries keeps a long-running process small.
    if (printed > 1000) {
      simulator.log.splice(0, printed);
      printed = 0;
    }
  }, 100);
  console.log(`Roboflow Inference simulator listening on ${simulator.url}`);

  const shutdown = (signal: string) => {
    console.log(`${signal} received, stopping`);
    clearInterval(printer);
    simulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error('simulator failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});

// `npm run bench [-- --quick | --long] [--soak N] [--only name,name]`
// Runs the scenarios one after the other, prints one table and writes bench/results/latest.md.
// The run never fails on a number; it exits non-zero only when it could not run at all.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stopEmbeddedNodeRed } from './nodeRed';
import { consoleTable, describeMachine, loadAverage, markdownReport, type Row } from './report';
import type { BenchOptions, RunMode, Scenario } from './scenario';
import { cameraScenario } from './scenarios/camera';
import { clientOverheadScenario } from './scenarios/clientOverhead';
import { concurrencyScenario } from './scenarios/concurrency';
import { downsizingScenario } from './scenarios/downsizing';
import { nodeOverheadScenario } from './scenarios/nodeOverhead';
import { soakScenario } from './scenarios/soak';
import { workflowClipScenario } from './scenarios/workflowClip';

const RESULTS_FILE = path.join(__dirname, 'results', 'latest.md');
/** Past this, the run prints what it has and exits: `--quick` must never hold CI up. */
const WALL_CLOCK_BUDGET_MS: Record<RunMode, number> = { quick: 60_000, default: 8 * 60_000, long: 45 * 60_000 };

const SHUTDOWN_GRACE_MS = 3_000;

interface Arguments {
  mode: RunMode;
  soakMinutes: number;
  only: string[] | null;
}

function parseArguments(argv: readonly string[]): Arguments {
  const parsed: Arguments = { mode: 'default', soakMinutes: 0, only: null };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === '--quick') parsed.mode = 'quick';
    else if (argument === '--long') parsed.mode = 'long';
    else if (argument === '--soak') parsed.soakMinutes = Number(argv[++index]);
    else if (argument === '--only') parsed.only = (argv[++index] ?? '').split(',').filter(Boolean);
    else throw new Error(`unknown argument '${argument}' (expected --quick, --long, --soak N, --only a,b)`);
  }
  if (!Number.isFinite(parsed.soakMinutes) || parsed.soakMinutes < 0) throw new Error('--soak needs a number of minutes');
  return parsed;
}

function selectScenarios(args: Arguments): Scenario[] {
  const standard = [
    concurrencyScenario,
    clientOverheadScenario,
    downsizingScenario,
    cameraScenario,
    nodeOverheadScenario,
    workflowClipScenario,
  ];
  const unknown = (args.only ?? []).filter((name) => !standard.some((scenario) => scenario.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario ${unknown.join(', ')} (expected ${standard.map((scenario) => scenario.name).join(', ')})`);
  }
  // `--soak N` alone runs only the soak; with --only it can join others.
  const all = args.soakMinutes > 0 ? [...(args.only ? standard : []), soakScenario] : standard;
  return args.only ? all.filter((scenario) => scenario.name === 'soak' || args.only?.includes(scenario.name)) : all;
}

async function runAll(scenarios: Scenario[], options: BenchOptions, rows: Row[]): Promise<void> {
  for (const scenario of scenarios) {
    options.progress(`bench: ${scenario.name} ...`);
    const started = Date.now();
    try {
      rows.push(...(await scenario.run(options)));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      rows.push({ scenario: scenario.name, figure: 'did not run', value: null, unit: '', note: `failed: ${message.split('\n')[0]}` });
    }
    options.progress(`bench: ${scenario.name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

function publish(rows: Row[], args: Arguments, startedAt: Date, loadBefore: string, suffix = ''): void {
  const soak = args.soakMinutes > 0 ? `soak ${args.soakMinutes} min` : '';
  const mode = `${soak && !args.only ? soak : [args.mode, soak].filter(Boolean).join(', ')}${suffix}`;
  const report = markdownReport(rows, {
    ...describeMachine(),
    date: startedAt.toISOString(),
    loadBefore,
    loadAfter: loadAverage(),
    mode,
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
  });
  process.stdout.write(`\n${consoleTable(rows)}\n\n`);
  mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, report);
  process.stderr.write(`bench: written to ${path.relative(process.cwd(), RESULTS_FILE)}\n`);
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  const startedAt = new Date();
  const loadBefore = loadAverage();
  const rows: Row[] = [];
  const options: BenchOptions = {
    mode: args.mode,
    soakMinutes: args.soakMinutes,
    progress: (line) => process.stderr.write(`${line}\n`),
  };
  const budgetMs = WALL_CLOCK_BUDGET_MS[args.mode] + args.soakMinutes * 60_000;
  const watchdog = setTimeout(() => {
    publish(rows, args, startedAt, loadBefore, ', stopped by the wall-clock budget');
    // Closing Node-RED stops ffmpeg; simulator children exit on their own when this process goes.
    const giveUp = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS));
    void Promise.race([stopEmbeddedNodeRed(), giveUp]).finally(() => process.exit(2));
  }, budgetMs);
  await runAll(selectScenarios(args), options, rows);
  await stopEmbeddedNodeRed().catch(() => undefined);
  clearTimeout(watchdog);
  publish(rows, args, startedAt, loadBefore);
  // Embedded Node-RED and undici keep-alive sockets are closed by the scenarios; exiting
  // explicitly still guarantees CI never waits on a forgotten handle.
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

// The one table `npm run bench` prints: each measured figure beside its ideal (or floor) and
// the ratio between them, so a reader sees at a glance how far the client is from "free".
import os from 'node:os';

export interface Row {
  scenario: string;
  figure: string;
  value: number | null;
  unit: string;
  /** The best possible value (throughput) or the unavoidable cost (floor); null when there is none. */
  ideal?: number | null;
  /** What we aim for, in words ("ratio >= 0.95"); shown as-is. */
  target?: string;
  /** Free text shown instead of a number, e.g. why a scenario did not run. */
  note?: string;
}

export function ratioOf(row: Row): number | null {
  if (row.value === null || row.ideal === undefined || row.ideal === null || row.ideal === 0) return null;
  return row.value / row.ideal;
}

function formatNumber(value: number): string {
  const magnitude = Math.abs(value);
  if (Number.isInteger(value) || magnitude >= 1000) return value.toFixed(0);
  if (magnitude >= 100) return value.toFixed(1);
  if (magnitude >= 10) return value.toFixed(2);
  return value.toFixed(3);
}

function cells(row: Row): string[] {
  const value = row.value === null ? (row.note ?? 'n/a') : `${formatNumber(row.value)} ${row.unit}`;
  const ideal = row.ideal === undefined || row.ideal === null ? '' : `${formatNumber(row.ideal)} ${row.unit}`;
  const ratio = ratioOf(row);
  const note = row.value === null ? '' : (row.note ?? '');
  return [row.scenario, row.figure, value, ideal, ratio === null ? '' : ratio.toFixed(2), [row.target, note].filter(Boolean).join('; ')];
}

const HEADER = ['scenario', 'figure', 'value', 'ideal or floor', 'ratio', 'target / note'];

export function markdownTable(rows: readonly Row[]): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    `| ${HEADER.join(' | ')} |`,
    `| ${HEADER.map((_, index) => (index >= 2 && index <= 4 ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((row) => `| ${cells(row).map(escape).join(' | ')} |`),
  ];
  return lines.join('\n');
}

export function consoleTable(rows: readonly Row[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, column) => Math.max(...table.map((line) => line[column].length)));
  const render = (line: string[]) =>
    line.map((cell, column) => (column >= 2 && column <= 4 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ').trimEnd();
  return [render(HEADER), widths.map((width) => '-'.repeat(width)).join('  '), ...table.slice(1).map(render)].join('\n');
}

export interface Environment {
  date: string;
  node: string;
  cpu: string;
  cores: number;
  loadBefore: string;
  loadAfter: string;
  mode: string;
  durationSeconds: number;
}

export function describeMachine(): Pick<Environment, 'node' | 'cpu' | 'cores'> {
  const cpus = os.cpus();
  return { node: process.version, cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length };
}

export function loadAverage(): string {
  return os.loadavg().map((load) => load.toFixed(2)).join(' / ');
}

export function markdownReport(rows: readonly Row[], environment: Environment): string {
  return [
    `# Benchmark results (${environment.mode})`,
    '',
    `- date: ${environment.date}`,
    `- node: ${environment.node}`,
    `- cpu: ${environment.cpu} (${environment.cores} cores)`,
    `- load average (1/5/15 min) before: ${environment.loadBefore}; after: ${environment.loadAfter}`,
    `- wall time: ${environment.durationSeconds.toFixed(0)} s`,
    '',
    markdownTable(rows),
    '',
  ].join('\n');
}

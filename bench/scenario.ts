// What every scenario receives and returns.
import type { Row } from './report';

export type RunMode = 'quick' | 'default' | 'long';

export interface BenchOptions {
  mode: RunMode;
  /** Minutes of the soak run; 0 = no soak. */
  soakMinutes: number;
  /** Progress lines go to stderr so stdout carries only the table. */
  progress(line: string): void;
}

export interface Scenario {
  /** Short name shown in the table's first column. */
  name: string;
  run(options: BenchOptions): Promise<Row[]>;
}

/** `quick`, `default` and `long` sizes of one knob. */
export function sized<T>(options: BenchOptions, sizes: Record<RunMode, T>): T {
  return sizes[options.mode];
}

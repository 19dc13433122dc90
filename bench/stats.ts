// Small measurement helpers shared by the scenarios.

export function percentile(values: readonly number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index];
}

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Milliseconds since an arbitrary origin, with sub-millisecond resolution. */
export function now(): number {
  return performance.now();
}

export interface Measured<T> {
  result: T;
  wallMs: number;
  /** User + system CPU time of this whole process (all threads, libvips included), in ms. */
  cpuMs: number;
}

export async function measure<T>(work: () => Promise<T>): Promise<Measured<T>> {
  const cpuBefore = process.cpuUsage();
  const start = now();
  const result = await work();
  const wallMs = now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  return { result, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Runs `task` `count` times, one after the other. */
export async function sequentially(count: number, task: (index: number) => Promise<unknown>): Promise<void> {
  for (let index = 0; index < count; index += 1) await task(index);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function rssMegabytes(): number {
  return process.memoryUsage().rss / (1024 * 1024);
}

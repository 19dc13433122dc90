// Parent side of simulatorProcess.ts: starts the simulator in its own process and drives it
// (latency, faults, restarts) over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Fault, SimulatorOptions } from '../test/simulator';
import type { ControlReply, ControlRequest, ReadyMessage } from './simulatorProcess';

const ENTRY = path.join(__dirname, 'simulatorProcess.ts');
const START_TIMEOUT_MS = 20_000;
const CONTROL_TIMEOUT_MS = 10_000;

type Command = ControlRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class RemoteSimulator {
  private child!: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  url = '';
  port = 0;

  private constructor(private readonly options: SimulatorOptions) {}

  static async start(options: SimulatorOptions = {}): Promise<RemoteSimulator> {
    const simulator = new RemoteSimulator(options);
    await simulator.spawn(options.port ?? 0);
    return simulator;
  }

  private spawn(port: number): Promise<void> {
    const child = fork(ENTRY, [JSON.stringify({ ...this.options, port })], {
      execArgv: ['--require', 'tsx/cjs'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    child.on('message', (message: ControlReply | ReadyMessage) => {
      if ('id' in message) this.settle(message);
    });
    child.on('exit', () => {
      if (this.child !== child) return;
      for (const { reject } of this.pending.values()) reject(new Error('simulator process exited'));
      this.pending.clear();
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('simulator process did not start in time'));
      }, START_TIMEOUT_MS);
      child.on('message', (message: ControlReply | ReadyMessage) => {
        if ('type' in message && message.type === 'ready') {
          clearTimeout(timer);
          this.url = message.url;
          this.port = message.port;
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`simulator process exited with code ${code} before it was ready`));
      });
    });
  }

  private settle(reply: ControlReply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(new Error(reply.error));
  }

  private control(command: Command): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`simulator did not answer '${command.type}'`));
      }, CONTROL_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ ...command, id } as ControlRequest);
    });
  }

  async setLatency(ms: number): Promise<void> {
    await this.control({ type: 'setLatency', ms });
  }

  async inject(fault: Fault): Promise<void> {
    await this.control({ type: 'inject', fault });
  }

  /**
   * Answers every request to `route` with `body` after the set latency. The simulator still
   * receives and parses each request, but skips its image analysis (about 10 ms of CPU for a
   * 640x480 image, on one thread), which would otherwise cap every throughput figure.
   * Injected first, it also shadows any later fault on the same route.
   */
  async answerAlways(route: string, body: unknown): Promise<void> {
    await this.inject({ route, status: 200, body, count: Infinity });
  }

  async clearFaults(): Promise<void> {
    await this.control({ type: 'clearFaults' });
  }

  async requestCount(): Promise<number> {
    return (await this.control({ type: 'requestCount' })) as number;
  }

  /** Kills the process outright (a crash, not a shutdown) and starts a fresh one on the same port. */
  async restart(downtimeMs = 0): Promise<void> {
    await this.kill();
    if (downtimeMs > 0) await new Promise((resolve) => setTimeout(resolve, downtimeMs));
    await this.spawn(this.port);
  }

  private kill(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await this.control({ type: 'stop' }).catch(() => child.kill('SIGKILL'));
    const forced = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(forced);
  }
}

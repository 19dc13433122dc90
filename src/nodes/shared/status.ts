// A node's status, throttled: per-frame sources would otherwise flood the editor's websocket.
// The newest status always wins; one that arrives too early is shown when the interval ends.
import type { Node, NodeStatus } from './nodeRed';

const MIN_INTERVAL_MS = 500;

export class StatusReporter {
  private lastShownAt = 0;
  private pending: NodeStatus | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly node: Node) {}

  busy(text: string): void {
    this.show({ fill: 'yellow', shape: 'ring', text });
  }

  success(text: string): void {
    this.show({ fill: 'green', shape: 'dot', text });
  }

  failure(text: string): void {
    this.show({ fill: 'red', shape: 'ring', text: shorten(text) });
  }

  /** Cancels any pending update and clears the status: for 'close'. */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    this.node.status({});
  }

  private show(status: NodeStatus): void {
    const wait = this.lastShownAt + MIN_INTERVAL_MS - Date.now();
    if (wait <= 0 && !this.timer) return this.apply(status);
    this.pending = status;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (this.pending) this.apply(this.pending);
    }, Math.max(wait, 0));
  }

  private apply(status: NodeStatus): void {
    this.pending = undefined;
    this.lastShownAt = Date.now();
    this.node.status(status);
  }
}

const MAX_STATUS_LENGTH = 32;

/** Status text stays short in the editor; the full message is in the debug sidebar. */
export function shorten(text: string): string {
  const firstLine = text.split('\n')[0] ?? '';
  return firstLine.length > MAX_STATUS_LENGTH ? `${firstLine.slice(0, MAX_STATUS_LENGTH - 1)}…` : firstLine;
}

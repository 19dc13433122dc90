// A node's status, throttled: per-frame sources would otherwise flood the editor's websocket.
// The newest status always wins; one that arrives too early is shown when the interval ends.
import type { Node, NodeStatus } from './nodeRed';

const MIN_INTERVAL_MS = 500;

/**
 * A status text, or how to make it: translating (RED._) costs more per message than the rest of
 * a node's own work, and most per-message updates are replaced before they are shown.
 */
export type StatusText = string | (() => string);

interface PendingStatus extends Omit<NodeStatus, 'text'> {
  text: StatusText;
}

export class StatusReporter {
  private lastShownAt = 0;
  private pending: PendingStatus | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly node: Node) {}

  busy(text: StatusText): void {
    this.show({ fill: 'yellow', shape: 'ring', text });
  }

  success(text: StatusText): void {
    this.show({ fill: 'green', shape: 'dot', text });
  }

  failure(text: StatusText): void {
    this.show({ fill: 'red', shape: 'ring', text: () => shorten(textOf(text)) });
  }

  /** Cancels any pending update and clears the status: for 'close'. */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    this.node.status({});
  }

  private show(status: PendingStatus): void {
    const wait = this.lastShownAt + MIN_INTERVAL_MS - Date.now();
    if (wait <= 0 && !this.timer) return this.apply(status);
    this.pending = status;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (this.pending) this.apply(this.pending);
    }, Math.max(wait, 0));
  }

  private apply(status: PendingStatus): void {
    this.pending = undefined;
    this.lastShownAt = Date.now();
    this.node.status({ ...status, text: textOf(status.text) });
  }
}

function textOf(text: StatusText): string {
  return typeof text === 'string' ? text : text();
}

const MAX_STATUS_LENGTH = 32;

/** Status text stays short in the editor; the full message is in the debug sidebar. */
export function shorten(text: string): string {
  const firstLine = text.split('\n')[0] ?? '';
  return firstLine.length > MAX_STATUS_LENGTH ? `${firstLine.slice(0, MAX_STATUS_LENGTH - 1)}…` : firstLine;
}

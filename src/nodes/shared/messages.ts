// The input pipeline every Roboflow node shares: flow control, status lifecycle, errors that
// reach Catch nodes (and optionally a second output), and a clean 'close'.
// A node supplies only the work for one message; see roboflow-infer.ts for the pattern.
import { FlowControl, type FlowControlOptions } from './flowControl';
import type { DoneFunction, Node, NodeMessage, SendFunction } from './nodeRed';
import { StatusReporter, type StatusText } from './status';

export interface WorkContext {
  /** Aborted when the node closes (redeploy, delete, shutdown). */
  signal: AbortSignal;
  /** Messages this node has dropped so far (overflow policy), read when asked. */
  readonly dropped: number;
}

/**
 * Does the work for one message, sets its output properties and returns the success status text
 * (a function when it needs translating: it is called only if the status is shown).
 */
export type MessageWork = (msg: NodeMessage, context: WorkContext) => Promise<StatusText>;

export interface MessageHandlingOptions {
  flow: FlowControlOptions;
  /** Also send failed messages, with `msg.error`, on a second output. */
  errorOutput: boolean;
  /** Status texts, translated by the node. */
  text: {
    busy(queued: number): string;
    dropped(count: number): string;
    /** Status text for a failure when the error's own message would not say it well. */
    failure?(error: Error): string | undefined;
  };
}

export interface MessageHandling {
  readonly flow: FlowControl;
  readonly status: StatusReporter;
}

export function handleMessages(node: Node, options: MessageHandlingOptions, work: MessageWork): MessageHandling {
  const flow = new FlowControl(options.flow);
  const status = new StatusReporter(node);
  const inFlight = new Set<AbortController>();
  let closing = false;

  async function process(msg: NodeMessage, send: SendFunction, done: DoneFunction): Promise<void> {
    const controller = new AbortController();
    inFlight.add(controller);
    const queued = flow.queued;
    status.busy(() => options.text.busy(queued));
    try {
      const text = await work(msg, {
        signal: controller.signal,
        get dropped() {
          return flow.dropped;
        },
      });
      send(options.errorOutput ? [msg, null] : msg);
      status.success(text);
      done();
    } catch (error) {
      if (closing) return done();
      const failure = error instanceof Error ? error : new Error(String(error));
      status.failure(() => options.text.failure?.(failure) ?? failure.message);
      if (options.errorOutput) {
        msg.error = { name: failure.name, message: failure.message, source: { id: node.id, type: node.type, name: node.name } };
        send([null, msg]);
      }
      done(failure);
    } finally {
      inFlight.delete(controller);
    }
  }

  node.on('input', (msg: NodeMessage, send: SendFunction, done: DoneFunction) => {
    flow.submit({
      run: () => process(msg, send, done),
      drop: () => {
        const dropped = flow.dropped;
        if (!closing) status.busy(() => options.text.dropped(dropped));
        done();
      },
    });
  });

  node.on('close', (_removed: boolean, done: () => void) => {
    closing = true;
    flow.close();
    inFlight.forEach((controller) => controller.abort());
    status.clear();
    done();
  });

  return { flow, status };
}

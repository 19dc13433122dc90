// The message-handling settings every image node's dialog offers (in flight, when busy, queue
// size, error output), read the same way for each node, with status texts from its own locale.
import { OVERFLOW_POLICIES, type OverflowPolicy } from './flowControl';
import type { MessageHandlingOptions } from './messages';
import type { NodeAPI, NodeDef } from './nodeRed';
import { numberSetting } from './properties';

export interface MessageSettingsDef extends NodeDef {
  maxInFlight?: string | number;
  overflow?: OverflowPolicy;
  queueSize?: string | number;
  errorOutput?: boolean;
}

const DEFAULT_QUEUE_SIZE = 100;

/** Needs `<type>.status.busy` (with __queued__) and `<type>.status.dropped` (with __count__) in the node's locale. */
export function messageSettings(RED: NodeAPI, config: MessageSettingsDef): MessageHandlingOptions {
  const overflow = OVERFLOW_POLICIES.includes(config.overflow as OverflowPolicy) ? (config.overflow as OverflowPolicy) : 'queue';
  return {
    flow: {
      maxInFlight: numberSetting(config.maxInFlight, 1),
      overflow,
      queueSize: numberSetting(config.queueSize, DEFAULT_QUEUE_SIZE),
    },
    errorOutput: config.errorOutput === true,
    text: {
      busy: (queued) => RED._(`${config.type}.status.busy`, { queued }),
      dropped: (count) => RED._(`${config.type}.status.dropped`, { count }),
    },
  };
}

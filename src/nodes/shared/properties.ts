// Typed inputs (msg / flow / global / env / str ...) and output properties of a message.
import type { Node, NodeAPI, NodeMessage } from './nodeRed';

/** `RED.util.evaluateNodeProperty` as a promise (flow and global context need the callback form). */
export function evaluateProperty(RED: NodeAPI, node: Node, value: unknown, type: string, msg: NodeMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    RED.util.evaluateNodeProperty(value, type, node, msg, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** Sets `msg.<property>` unless the property is left empty (= "don't output"). */
export function setOptionalProperty(RED: NodeAPI, msg: NodeMessage, property: unknown, value: unknown): void {
  if (typeof property === 'string' && property.trim()) RED.util.setMessageProperty(msg, property.trim(), value, true);
}

/** A Buffer that went through JSON (`{ type: 'Buffer', data: [...] }`, e.g. from a file or MQTT) becomes a Buffer again. */
export function reviveBuffers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reviveBuffers);
  if (isSerialisedBuffer(value)) return Buffer.from(value.data);
  return value;
}

function isSerialisedBuffer(value: unknown): value is { type: 'Buffer'; data: number[] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  );
}

/** Editor fields are strings; a missing or unparsable number falls back to the default. */
export function numberSetting(value: unknown, fallback: number, minimum = 1): number {
  const number = Number(value);
  return value === '' || value === undefined || !Number.isFinite(number) ? fallback : Math.max(minimum, Math.floor(number));
}

// Reads the image a node works on from its TypedInput (msg.payload unless the user chose otherwise).
import type { ImagesInput } from '../../core';
import type { Node, NodeAPI, NodeMessage } from './nodeRed';
import { evaluateProperty, reviveBuffers } from './properties';

/** The image(s) in the chosen property; `missing` is the (translated) error when there are none. */
export async function readImages(
  RED: NodeAPI,
  node: Node,
  msg: NodeMessage,
  source: { property?: string; type?: string },
  /** The error message when there is no image, made only then. */
  missing: () => string,
): Promise<ImagesInput> {
  const value = reviveBuffers(await evaluateProperty(RED, node, source.property || 'payload', source.type || 'msg', msg));
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
    throw new Error(missing());
  }
  return value as ImagesInput;
}

// Loads a flow from examples/ into the test runtime against a test simulator: the server node is
// pointed at the simulator, and debug nodes become helper nodes (same ids) so a test sees their input.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TAB, type FlowNode } from './helpers';

const CORE_NODES = join(dirname(require.resolve('@node-red/nodes/package.json')), 'core');

/** The core nodes the examples use besides debug (which becomes a helper) and catch (built in). */
export const coreNodes = ['common/20-inject.js', 'common/90-comment.js', 'function/10-switch.js'].map(
  (file) => require(join(CORE_NODES, file)) as (red: unknown) => void,
);

export function exampleFlow(name: string, simulatorUrl: string): FlowNode[] {
  const nodes = JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', `${name}.json`), 'utf8')) as FlowNode[];
  const onTab = nodes.map((node): FlowNode => {
    if (node.type === 'roboflow-server') {
      assert(node.url === 'http://localhost:9001', `${name}: the example's server is ${String(node.url)}`);
      return { ...node, url: simulatorUrl };
    }
    return { ...node, z: TAB, ...(node.type === 'debug' ? { type: 'helper' } : {}) };
  });
  return [{ id: TAB, type: 'tab', label: name }, ...onTab];
}

/** The id of the example's only node of this type. */
export function nodeOfType(flow: FlowNode[], type: string): string {
  const matches = flow.filter((node) => node.type === type);
  assert(matches.length === 1, `expected one ${type}, found ${matches.length}`);
  return matches[0].id;
}

/** The helper node (a debug node in the example) with this name. */
export function debugNamed(flow: FlowNode[], name: string): string {
  const match = flow.find((node) => node.type === 'helper' && node.name === name);
  assert(match, `no debug node named ${name}`);
  return match.id;
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

// The editor definitions of the nodes (the RED.nodes.registerType call in nodes/*.html), run
// with the editor's own RED.validators. A property missing from a flow (one saved by an older
// version of this package, a hand-written example) must read as blank, as the runtime reads it:
// otherwise the editor marks the node invalid and Deploy asks for edits nobody can see.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';

const ROOT = join(__dirname, '..', '..');
const NODE_TYPES = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } })['node-red'].nodes);

type Validator = (value: unknown, options?: unknown) => unknown;
interface PropertyDefinition {
  value: unknown;
  required?: boolean;
  validate?: Validator;
}

/** Node-RED's editor validators, taken from the editor bundle Node-RED serves. */
function editorValidators(): Record<string, (...args: unknown[]) => Validator> {
  const bundle = readFileSync(require.resolve('@node-red/editor-client/public/red/red.js'), 'utf8');
  const start = bundle.indexOf('RED.validators = {');
  const end = bundle.indexOf('\n};', start);
  assert.ok(start >= 0 && end > start, 'RED.validators in the editor bundle');
  const sandbox = { RED: { _: (key: string) => key } as Record<string, unknown> };
  runInNewContext(bundle.slice(start, end + 3), sandbox);
  return sandbox.RED.validators as Record<string, (...args: unknown[]) => Validator>;
}

/** The defaults each node registers, with validators marked by kind (typedInput ones need a live editor). */
function registeredDefaults(type: string): Record<string, PropertyDefinition & { kind?: string }> {
  const html = readFileSync(join(ROOT, 'nodes', `${type}.html`), 'utf8');
  const script = html.match(/<script type="text\/javascript">([\s\S]*?)<\/script>/);
  assert.ok(script, `nodes/${type}.html registers its node`);
  const real = editorValidators();
  const validators = Object.fromEntries(
    Object.entries(real).map(([kind, make]) => [kind, (...args: unknown[]) => Object.assign(make(...args), { kind })]),
  );
  let defaults: Record<string, PropertyDefinition & { kind?: string }> | undefined;
  const RED = {
    validators,
    _: (key: string) => key,
    nodes: {
      registerType(registered: string, definition: { defaults: typeof defaults }) {
        if (registered === type) defaults = definition.defaults;
      },
    },
  };
  runInNewContext(script[1], { RED, $: () => ({}) });
  assert.ok(defaults, `${type} registered`);
  return defaults;
}

describe('node editor definitions', function () {
  for (const type of NODE_TYPES) {
    it(`${type}: every optional property is valid when a flow leaves it out, and every default is valid`, () => {
      const invalidWhenMissing: string[] = [];
      for (const [name, property] of Object.entries(registeredDefaults(type))) {
        const validate = property.validate as (Validator & { kind?: string }) | undefined;
        if (!validate || validate.kind === 'typedInput') continue;
        assert.equal(validate.call({}, property.value), true, `${type}.${name}: its default ${JSON.stringify(property.value)} is valid`);
        if (!property.required && validate.call({}, undefined) !== true) invalidWhenMissing.push(name);
      }
      assert.deepEqual(invalidWhenMissing, [], `${type}: properties a flow may leave out`);
    });
  }
});

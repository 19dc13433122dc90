// Each node's help as the editor's help panel shows it: in locales/en-US (so it can be
// translated like every other user-facing string), in Node-RED's standard sections, and
// naming the message properties the runtime really reads.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MESSAGE_SHORTCUTS } from '../../src/nodes/shared/configuration';

const ROOT = join(__dirname, '..', '..');
const NODE_TYPES = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } })['node-red'].nodes);
const CONFIG_NODES = ['roboflow-server'];

function localeHelp(type: string): string {
  const file = join(ROOT, 'nodes', 'locales', 'en-US', `${type}.html`);
  assert.ok(existsSync(file), `nodes/locales/en-US/${type}.html holds the help of ${type}`);
  return readFileSync(file, 'utf8');
}

function sections(help: string): string[] {
  return [...help.matchAll(/<h3>([^<]+)<\/h3>/g)].map((match) => match[1]);
}

describe('node help', function () {
  for (const type of NODE_TYPES) {
    it(`${type}: in locales/en-US, in the standard sections`, () => {
      const help = localeHelp(type);
      assert.match(help, new RegExp(`^<script type="text/html" data-help-name="${type}">\\s*<p>`), 'opens with a summary paragraph');
      const expected = CONFIG_NODES.includes(type) ? ['Details', 'References'] : ['Inputs', 'Outputs', 'Details', 'References'];
      assert.deepEqual(sections(help), expected);
      const editor = readFileSync(join(ROOT, 'nodes', `${type}.html`), 'utf8');
      assert.doesNotMatch(editor, /data-help-name/, `nodes/${type}.html leaves the help to the locale file`);
    });
  }

  it('roboflow-infer lists exactly the per-message shortcuts the node reads', () => {
    const help = localeHelp('roboflow-infer');
    const listed = help.match(/<dt class="optional">((?:\w+, )+\w+)<\/dt>/);
    assert.ok(listed, 'a list of shortcut properties');
    assert.deepEqual(listed[1].split(', ').sort(), Object.keys(MESSAGE_SHORTCUTS).sort());
  });
});

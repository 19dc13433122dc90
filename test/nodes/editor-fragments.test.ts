// The rows nodes share through resources/editor.js: each node's template names them with
// placeholders that the script fills in when the node type registers. The browser tests skip a
// property whose input is missing, so this checks, per node, that every placeholder is known and
// that after expansion every property the dialog edits has its input.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';

const ROOT = join(__dirname, '..', '..');
const EDITOR_SCRIPT = 'resources/@inference-red/node-red-roboflow/editor.js';
const NODE_TYPES = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } })['node-red'].nodes);
/** Properties a dialog sets without an input of its own. */
const WITHOUT_INPUT = ['outputs'];

interface EditorPage {
  templates: Map<string, string>;
  registerType(type: string): void;
  listeners: Record<string, unknown[]>;
  global: Record<string, unknown>;
}

/** resources/editor.js in a page of just the templates, with the parts of RED and jQuery it uses. */
function loadEditorScript(): EditorPage {
  const templates = new Map<string, string>();
  const listeners: Record<string, Array<(payload: string) => void>> = {};
  const $ = (selector: string) => {
    const type = /^script\[data-template-name="([\w-]+)"\]$/.exec(selector)?.[1];
    assert.ok(type, `editor.js only looks up templates, not ${selector}`);
    return {
      text(replacement?: string) {
        if (replacement === undefined) return templates.get(type) ?? '';
        templates.set(type, replacement);
        return this;
      },
    };
  };
  const RED = { events: { on: (event: string, listener: (payload: string) => void) => (listeners[event] ??= []).push(listener) } };
  const global: Record<string, unknown> = { $, RED };
  global.window = global;
  runInNewContext(readFileSync(join(ROOT, 'resources', 'editor.js'), 'utf8'), global);
  return {
    templates,
    listeners,
    global,
    registerType: (type) => listeners['registry:node-type-added']?.forEach((listener) => listener(type)),
  };
}

function nodeHtml(type: string): string {
  return readFileSync(join(ROOT, 'nodes', `${type}.html`), 'utf8');
}

function template(html: string, type: string): string {
  const match = new RegExp(`<script type="text/html" data-template-name="${type}">([\\s\\S]*?)</script>`).exec(html);
  assert.ok(match, `${type} has an edit template`);
  return match[1];
}

function defaultsOf(html: string): string[] {
  const defaults = /defaults: \{([\s\S]*?)\n {4}\},/.exec(html);
  assert.ok(defaults, 'defaults in the registerType call');
  const names = [...defaults[1].matchAll(/^ {6}(\w+):/gm)].map((match) => match[1]);
  assert.ok(names.includes('name'), 'the defaults were read');
  return names;
}

describe('shared editor rows (resources/editor.js)', function () {
  for (const type of NODE_TYPES) {
    const html = nodeHtml(type);
    const usesFragments = html.includes('data-roboflow-fragment') || html.includes('RoboflowEditor.');

    it(`${type}: loads the shared script when it uses it, and its dialog has an input for every property`, () => {
      if (usesFragments) assert.ok(html.includes(`<script src="${EDITOR_SCRIPT}"></script>`), `${type} loads ${EDITOR_SCRIPT}`);
      const page = loadEditorScript();
      page.templates.set(type, template(html, type));
      page.registerType(type);
      const expanded = page.templates.get(type)!;
      assert.doesNotMatch(expanded, /data-roboflow-fragment/);
      const prefix = type === 'roboflow-server' ? 'node-config-input' : 'node-input';
      const missing = defaultsOf(html).filter((name) => !WITHOUT_INPUT.includes(name) && !expanded.includes(`id="${prefix}-${name}"`));
      assert.deepEqual(missing, []);
    });
  }

  it('labels shared rows in the namespace of the node they are in', () => {
    const page = loadEditorScript();
    page.templates.set('roboflow-gaze', '<div data-roboflow-fragment="flow-control"></div>');
    page.registerType('roboflow-gaze');
    const keys = [...page.templates.get('roboflow-gaze')!.matchAll(/data-i18n="([^"]+)"/g)].map((match) => match[1]);
    assert.ok(keys.length > 0);
    assert.deepEqual(keys.filter((key) => !key.startsWith('roboflow-gaze.')), []);
    const catalog = JSON.parse(readFileSync(join(ROOT, 'nodes', 'locales', 'en-US', 'roboflow-gaze.json'), 'utf8'));
    const untranslated = keys.filter((key) => typeof key.split('.').reduce((node, part) => node?.[part], catalog) !== 'string');
    assert.deepEqual(untranslated, []);
  });

  it('refuses a placeholder it has no row for, and leaves other node types alone', () => {
    const page = loadEditorScript();
    page.templates.set('roboflow-gaze', '<div data-roboflow-fragment="no-such-row"></div>');
    assert.throws(() => page.registerType('roboflow-gaze'), /no shared editor fragment "no-such-row"/);
    page.templates.set('inject', '<div data-roboflow-fragment="name"></div>');
    page.registerType('inject');
    assert.equal(page.templates.get('inject'), '<div data-roboflow-fragment="name"></div>');
  });

  it('runs once however many nodes load it', () => {
    const page = loadEditorScript();
    const first = page.global.RoboflowEditor;
    runInNewContext(readFileSync(join(ROOT, 'resources', 'editor.js'), 'utf8'), page.global);
    assert.equal(page.global.RoboflowEditor, first);
    assert.equal(page.listeners['registry:node-type-added'].length, 1);
  });
});

// Every example flow, the way a user meets it: Import > Examples > this package, Deploy without
// edits, press its inject buttons, read the debug sidebar. The examples point at
// http://localhost:9001, so the simulator listens there.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import {
  debugMessages,
  deploy,
  EDITOR_TEST_TIMEOUT,
  invalidNodes,
  openEditor,
  REPO_ROOT,
  resetFlows,
  screenshot,
  triggerInject,
  useEditorEnvironment,
  type EditorPage,
} from './harness';

// Browser globals, for the callbacks that run in the page (the test tsconfig has no DOM lib).
declare const window: any;

const EXAMPLES_PORT = 9001;
/** Read when the file loads: mocha builds one test per example before any hook runs. */
const EXAMPLES = readdirSync(path.join(REPO_ROOT, 'examples'))
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.replace(/\.json$/, ''))
  .sort();
const PACKAGE_NAME = '@inference-red/node-red-roboflow';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

interface ImportedFlow {
  /** Inject nodes to press, top to bottom; those that only send action "stop" are left alone. */
  injects: string[];
  /** Debug nodes fed by a Catch node: they must stay silent. */
  errorDebugs: string[];
  /** Every other debug node: each must show something. */
  outputDebugs: Array<{ id: string; name: string }>;
}

async function importExample(page: Page, example: string): Promise<void> {
  await page.locator('#red-ui-header-button-sidemenu').click();
  await page.locator('#menu-item-import').click();
  await page.locator('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples a').click();
  const examples = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
  await examples.locator('.red-ui-treeList-label', { hasText: PACKAGE_NAME }).click();
  await examples.locator('.red-ui-treeList-label', { hasText: new RegExp(`^${example}$`) }).click();
  const before = await page.evaluate(() => window.RED.nodes.filterNodes({}).length);
  await page.locator('#red-ui-clipboard-dialog-ok').click();
  await page.locator('#red-ui-clipboard-dialog-ok').waitFor({ state: 'hidden' });
  // The dialog fetches the example before it imports it.
  await page.waitForFunction((count) => window.RED.nodes.filterNodes({}).length > count, before);
  // Imported nodes hang on the pointer until a click drops them, as for a user.
  if (await page.evaluate(() => window.RED.view.state() === window.RED.state.IMPORT_DRAGGING)) {
    await page.mouse.move(500, 300);
    await page.mouse.click(500, 300);
  }
  await page.waitForFunction(() => window.RED.view.state() === window.RED.state.DEFAULT);
}

async function describeImportedFlow(page: Page): Promise<ImportedFlow> {
  return page.evaluate(() => {
    const RED = window.RED;
    const nodes: any[] = [];
    RED.nodes.eachNode((node: any) => {
      nodes.push(node);
    });
    const fedByCatch = new Set<string>();
    for (const node of nodes.filter((candidate) => candidate.type === 'catch')) {
      for (const link of RED.nodes.filterLinks({ source: node })) fedByCatch.add(link.target.id);
    }
    const stopsOnly = (node: any) =>
      Array.isArray(node.props) && node.props.length === 1 && node.props[0].p === 'action' && node.props[0].v === 'stop';
    return {
      injects: nodes
        .filter((node) => node.type === 'inject' && !stopsOnly(node))
        .sort((a, b) => a.y - b.y)
        .map((node) => node.id),
      errorDebugs: nodes.filter((node) => node.type === 'debug' && fedByCatch.has(node.id)).map((node) => node.id),
      outputDebugs: nodes
        .filter((node) => node.type === 'debug' && !fedByCatch.has(node.id))
        .map((node) => ({ id: node.id, name: node.name || node.id })),
    };
  });
}

describe('editor: every example imports from the menu, deploys unedited and shows its output', function () {
  this.timeout(EDITOR_TEST_TIMEOUT);
  before(async function () {
    if (!(await portIsFree(EXAMPLES_PORT))) {
      console.warn(`    example tests skipped: port ${EXAMPLES_PORT}, where the examples expect the server, is in use`);
      this.skip();
    }
  });
  // Gaze is served by servers before 1.2.8 only; its example says so, and runs against such a server.
  const environment = useEditorEnvironment({ simulator: { port: EXAMPLES_PORT, legacyGaze: true } });
  let editor: EditorPage;

  before(async () => {
    editor = await openEditor(environment().browser, environment().nodeRed.url);
  });
  after(async () => editor?.close());

  it('has examples', () => {
    assert.ok(EXAMPLES.length > 0, 'examples/ holds no flow');
  });

  for (const example of EXAMPLES) {
    it(example, async () => {
      const { page } = editor;
      await resetFlows(page);
      await importExample(page, example);
      assert.deepEqual(await invalidNodes(page), [], `${example}: nodes need editing before Deploy`);
      assert.equal((await deploy(page)).status(), 200);

      const flow = await describeImportedFlow(page);
      assert.ok(flow.injects.length > 0 && flow.outputDebugs.length > 0, `${example} has no inject or no debug node`);
      for (const inject of flow.injects) {
        const before = (await debugMessages(page)).length;
        await triggerInject(page, inject);
        await page
          .waitForFunction((count) => window.__debugMessages.length > count, before)
          .catch(() => assert.fail(`${example}: inject ${inject} led to no debug output`));
      }
      const outputIds = flow.outputDebugs.map((debug) => debug.id);
      await page
        .waitForFunction(
          (ids) => ids.every((id: string) => window.__debugMessages.some((message: { id: string }) => message.id === id)),
          outputIds,
        )
        .catch(async () => {
          const heard = new Set((await debugMessages(page)).map((message) => message.id));
          const silent = flow.outputDebugs.filter((debug) => !heard.has(debug.id)).map((debug) => debug.name);
          assert.fail(`${example}: debug ${silent.join(', ')} showed nothing`);
        });
      const failures = (await debugMessages(page)).filter(
        (message) => flow.errorDebugs.includes(message.id) || (message as { level?: number }).level === 20,
      );
      assert.deepEqual(failures, [], `${example} reported errors`);
      await page.evaluate(() => window.RED.sidebar.show('debug'));
      await screenshot(page, `example-${example}`);
      assert.deepEqual(editor.errors, []);
    });
  }
});

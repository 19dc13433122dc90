// The palette and the help sidebar, for every node package.json declares.
import assert from 'node:assert/strict';
import { EDITOR_TEST_TIMEOUT, openEditor, packageNodes, useEditorEnvironment, type EditorPage } from './harness';

// Browser globals, for the callbacks that run in the page (the test tsconfig has no DOM lib).
declare const window: any, getComputedStyle: any;

describe('editor: palette and help', function () {
  this.timeout(EDITOR_TEST_TIMEOUT);
  const environment = useEditorEnvironment();
  let editor: EditorPage;
  let flowTypes: string[];

  before(async function () {
    flowTypes = (await packageNodes()).flowTypes;
    editor = await openEditor(environment().browser, environment().nodeRed.url);
  });
  after(async () => editor?.close());

  it('package.json declares flow nodes besides the config node', () => {
    assert.ok(flowTypes.length > 0, 'no roboflow-* flow node is registered in package.json');
  });

  it('lists every node under the Roboflow category with its own icon', async () => {
    const { page } = editor;
    await page.locator('#red-ui-palette-header-Roboflow').waitFor();
    assert.equal((await page.locator('#red-ui-palette-header-Roboflow').innerText()).trim(), 'Roboflow');
    for (const type of flowTypes) {
      const paletteNode = page.locator(`#red-ui-palette-base-category-Roboflow [data-palette-type="${type}"]`);
      assert.equal(await paletteNode.count(), 1, `${type} is not in the Roboflow category`);
      const icon = await paletteNode.locator('.red-ui-palette-icon').evaluate((element: any) => {
        const image = getComputedStyle(element).backgroundImage;
        return /url\("?([^")]+)"?\)/.exec(image)?.[1] ?? '';
      });
      assert.match(icon, /\/icons\/@inference-red\/node-red-roboflow\//, `${type} does not use an icon of this package`);
      const response = await page.request.get(icon);
      assert.equal(response.status(), 200, `${type}: icon ${icon} does not load`);
      assert.match(response.headers()['content-type'] ?? '', /^image\//);
    }
  });

  it('shows Inputs, Outputs and Details in each node’s help', async () => {
    const { page } = editor;
    for (const type of flowTypes) {
      await page.evaluate((nodeType) => window.RED.sidebar.help.show(nodeType), type);
      const headings = page.locator('.red-ui-sidebar-help-stack .red-ui-help h3');
      await headings.first().waitFor();
      const titles = (await headings.allInnerTexts()).map((title) => title.trim());
      for (const section of ['Inputs', 'Outputs', 'Details']) {
        assert.ok(titles.includes(section), `${type} help lacks "${section}" (has ${titles.join(', ')})`);
      }
    }
  });

  it('raised no page errors', () => {
    assert.deepEqual(editor.errors, []);
  });
});

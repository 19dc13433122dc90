// Every node's edit dialog: renders in both themes at two window sizes, marks bad values, saves
// and reopens with what was entered, and its TypedInputs switch types.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  addNodes,
  closeAllTrays,
  cancelNodeDialog,
  closeTray,
  confirmConfigDialog,
  confirmNodeDialog,
  EDITOR_TEST_TIMEOUT,
  editConfigNode,
  editNode,
  openEditor,
  packageNodes,
  screenshot,
  useEditorEnvironment,
  VIEWPORTS,
  type EditorPage,
  type Theme,
} from './harness';
import {
  BAD_VALUES,
  chooseTypedInputType,
  dialogFields,
  editEveryField,
  inputPrefix,
  isMarkedInvalid,
  overflowingTrayBodies,
  readEveryField,
  readField,
  writeField,
  type DialogField,
} from './dialogs';
import { poorlyContrastedText } from './legibility';

// Browser globals, for the callbacks that run in the page (the test tsconfig has no DOM lib).
declare const window: any, document: any, getComputedStyle: any;

interface DialogUnderTest {
  type: string;
  isConfig: boolean;
  /** Node id once added to the workspace. */
  id: string;
}

async function dialogsUnderTest(): Promise<DialogUnderTest[]> {
  const { configType, flowTypes } = await packageNodes();
  return [
    ...flowTypes.map((type) => ({ type, isConfig: false, id: `editor-test-${type}` })),
    { type: configType, isConfig: true, id: `editor-test-${configType}` },
  ];
}

async function addDialogNodes(page: Page, dialogs: DialogUnderTest[]): Promise<void> {
  await addNodes(
    page,
    dialogs.map((dialog, index) =>
      dialog.isConfig ? { id: dialog.id, type: dialog.type } : { id: dialog.id, type: dialog.type, x: 200, y: 80 + index * 60 },
    ),
  );
}

async function openDialog(page: Page, dialog: DialogUnderTest): Promise<void> {
  if (dialog.isConfig) await editConfigNode(page, dialog.type, dialog.id);
  else await editNode(page, dialog.id);
}

async function saveDialog(page: Page, dialog: DialogUnderTest): Promise<void> {
  await (dialog.isConfig ? confirmConfigDialog(page) : confirmNodeDialog(page));
}

async function cancelDialog(page: Page, dialog: DialogUnderTest): Promise<void> {
  await (dialog.isConfig ? closeTray(page, '#node-config-dialog-cancel') : cancelNodeDialog(page));
}

async function isDark(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const tray = document.querySelector('.red-ui-tray');
    const [r, g, b] = (getComputedStyle(tray).backgroundColor.match(/\d+/g) ?? []).map(Number);
    return (r + g + b) / 3 < 80;
  });
}

for (const theme of ['light', 'dark'] as Theme[]) {
  describe(`editor: node dialogs, ${theme} theme`, function () {
    this.timeout(EDITOR_TEST_TIMEOUT * 2);
    const environment = useEditorEnvironment({ theme });
    let dialogs: DialogUnderTest[];
    let editor: EditorPage;
    before(async () => {
      dialogs = await dialogsUnderTest();
      editor = await openEditor(environment().browser, environment().nodeRed.url);
      await addDialogNodes(editor.page, dialogs);
    });
    afterEach(async () => closeAllTrays(editor.page));
    after(async () => editor?.close());

    for (const viewport of VIEWPORTS) {
      it(`renders every dialog at ${viewport.width}x${viewport.height} without errors or horizontal overflow`, async () => {
        const { page } = editor;
        await page.setViewportSize(viewport);
        const checkRendering = async (what: string) => {
          assert.deepEqual(await overflowingTrayBodies(page), [], `${what} overflows horizontally`);
          if (theme === 'dark') {
            assert.ok(await isDark(page), 'the dark theme is not applied');
            assert.deepEqual(await poorlyContrastedText(page), [], `${what} has hard-to-read text`);
          }
        };
        for (const dialog of dialogs) {
          await openDialog(page, dialog);
          await checkRendering(dialog.type);
          if (viewport === VIEWPORTS[0]) await screenshot(page, `dialog-${theme}-${dialog.type}`);
          // Tabs inside the dialog's form (not the tray's own): each shows other fields.
          const tabs = page.locator('.red-ui-tray-content form .red-ui-tab:visible a.red-ui-tab-label');
          for (let index = 0; index < (await tabs.count()); index += 1) {
            await tabs.nth(index).click();
            await checkRendering(`${dialog.type}, tab "${(await tabs.nth(index).innerText()).trim()}"`);
          }
          await cancelDialog(page, dialog);
        }
        assert.deepEqual(editor.errors, []);
      });
    }

    if (theme === 'light') dialogBehaviour(() => editor, () => dialogs);
  });
}

function dialogBehaviour(getEditor: () => EditorPage, getDialogs: () => DialogUnderTest[]): void {
  it('marks a missing server and bad values with input-error', async () => {
    const editor = getEditor();
    const { page } = editor;
    const marked: string[] = [];
    for (const dialog of getDialogs()) {
      await openDialog(page, dialog);
      const prefix = inputPrefix(dialog.isConfig);
      const fields = await dialogFields(page, dialog.type, prefix);
      for (const field of fields.filter((candidate) => candidate.configReference && candidate.required)) {
        assert.ok(await isMarkedInvalid(page, prefix, field.property), `${dialog.type}: no ${field.property} chosen, yet not marked`);
        marked.push(`${dialog.type}.${field.property}`);
      }
      for (const field of fields.filter((candidate) => candidate.validated && ['text', 'typed'].includes(candidate.kind))) {
        const badValue = await firstRejected(page, prefix, field);
        if (badValue !== undefined) marked.push(`${dialog.type}.${field.property}=${JSON.stringify(badValue)}`);
      }
      await cancelDialog(page, dialog);
    }
    for (const dialog of getDialogs()) {
      assert.ok(marked.some((entry) => entry.startsWith(`${dialog.type}.`)), `${dialog.type} marked nothing invalid`);
    }
    assert.ok(marked.some((entry) => entry.includes('=')), `no dialog marked any bad value (marked: ${marked.join(', ')})`);
    assert.deepEqual(editor.errors, []);
  });

  it('saves every field and reopens with the same values', async () => {
    const editor = getEditor();
    const { page } = editor;
    for (const dialog of getDialogs()) {
      await openDialog(page, dialog);
      const prefix = inputPrefix(dialog.isConfig);
      const fields = await dialogFields(page, dialog.type, prefix);
      const entered = await editEveryField(page, prefix, fields);
      await saveDialog(page, dialog);
      const saved = await page.evaluate((id) => window.RED.nodes.node(id).name, dialog.id);
      if ('name' in entered) assert.equal(saved, entered.name, `${dialog.type}: name was not saved`);
      await openDialog(page, dialog);
      assert.deepEqual(await readEveryField(page, prefix, fields), entered, `${dialog.type} reopened with other values`);
      await cancelDialog(page, dialog);
    }
    assert.deepEqual(editor.errors, []);
  });

  it('switches TypedInput types from their menu and keeps the chosen type', async () => {
    const editor = getEditor();
    const { page } = editor;
    const switched: string[] = [];
    for (const dialog of getDialogs()) {
      await openDialog(page, dialog);
      const prefix = inputPrefix(dialog.isConfig);
      const typed = (await dialogFields(page, dialog.type, prefix)).filter((field) => field.kind === 'typed');
      for (const field of typed) {
        if (!(await page.locator(`#${prefix}-${field.property} + .red-ui-typedInput-container`).isVisible())) continue;
        const before = (await readField(page, prefix, field)) as { type: string; value: string };
        const target = await otherValidType(page, prefix, field, before.type);
        if (!target) continue;
        await chooseTypedInputType(page, prefix, field.property, target);
        const after = (await readField(page, prefix, field)) as { type: string };
        assert.equal(after.type, target, `${dialog.type}.${field.property} did not switch to ${target}`);
        switched.push(`${dialog.type}.${field.property}: ${before.type} -> ${target}`);
      }
      await saveDialog(page, dialog);
      if (typed.length === 0) continue;
      await openDialog(page, dialog);
      for (const entry of switched.filter((line) => line.startsWith(`${dialog.type}.`))) {
        const [, property, target] = /\.(\w+): \S+ -> (\S+)$/.exec(entry) ?? [];
        const field = typed.find((candidate) => candidate.property === property)!;
        assert.equal(((await readField(page, prefix, field)) as { type: string }).type, target, `${entry} was not kept`);
      }
      await cancelDialog(page, dialog);
    }
    assert.ok(switched.length > 0, 'no dialog has a TypedInput that could switch type');
    assert.deepEqual(editor.errors, []);
  });
}

/** The first bad value that marks the field, after which the field is restored and unmarked again. */
async function firstRejected(page: Page, prefix: string, field: DialogField): Promise<string | undefined> {
  const original = await readField(page, prefix, field);
  const markedBefore = await isMarkedInvalid(page, prefix, field.property);
  let rejected: string | undefined;
  for (const bad of BAD_VALUES) {
    const value = field.kind === 'typed' ? { ...(original as { type: string; value: string }), value: bad } : bad;
    if (await writeField(page, prefix, field, value)) {
      rejected = bad;
      break;
    }
  }
  const markedAfter = await writeField(page, prefix, field, original);
  assert.equal(markedAfter, markedBefore, `${field.property}: the mark did not follow the restored value`);
  return rejected;
}

async function otherValidType(page: Page, prefix: string, field: DialogField, current: string): Promise<string | undefined> {
  const types = await page.evaluate(
    (id) => (window.$(`#${id}`).data('noderedTypedInput').typeList as Array<{ value: string }>).map((entry) => entry.value),
    `${prefix}-${field.property}`,
  );
  return types.find((type) => type !== current);
}

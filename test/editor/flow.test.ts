// A user's first flow, built in the editor: inject -> infer -> debug, with the server config node
// added from the infer dialog, deployed and run against the simulator. Also where the API key
// may and may not end up afterwards.
import assert from 'node:assert/strict';
import { createDecipheriv, createHash } from 'node:crypto';
import { standardImage } from '../fixtures/images';
import {
  addNodes,
  confirmConfigDialog,
  confirmNodeDialog,
  CREDENTIAL_SECRET,
  deploy,
  EDITOR_TEST_TIMEOUT,
  editNode,
  openEditor,
  screenshot,
  useEditorEnvironment,
  waitForDebugMessage,
  waitForTrayIdle,
  type EditorPage,
} from './harness';

// Browser globals, for the callbacks that run in the page (the test tsconfig has no DOM lib).
declare const window: any;

const API_KEY = `editor-test-key-${process.pid}-${Date.now().toString(36)}`;
const INJECT_ID = 'editor-flow-inject';
const INFER_ID = 'editor-flow-infer';
const DEBUG_ID = 'editor-flow-debug';

/** What Node-RED's credentials module does: AES-256-CTR keyed by SHA-256 of the secret, IV in front. */
function decryptCredentials(fileText: string): Record<string, Record<string, string>> {
  const encrypted: string = JSON.parse(fileText).$;
  const key = createHash('sha256').update(CREDENTIAL_SECRET).digest();
  const decipher = createDecipheriv('aes-256-ctr', key, Buffer.from(encrypted.slice(0, 32), 'hex'));
  return JSON.parse(decipher.update(encrypted.slice(32), 'base64', 'utf8') + decipher.final('utf8'));
}

describe('editor: building, deploying and running a flow', function () {
  this.timeout(EDITOR_TEST_TIMEOUT);
  const environment = useEditorEnvironment({ simulator: { preloaded: ['shapes/1', 'coco/3'] } });
  let editor: EditorPage;
  let serverId: string;

  before(async () => {
    editor = await openEditor(environment().browser, environment().nodeRed.url);
    const image = (await standardImage()).toString('base64');
    await addNodes(editor.page, [
      { id: INJECT_ID, type: 'inject', name: 'test image', x: 160, y: 120, payload: image, payloadType: 'str', props: [{ p: 'payload' }], wires: [[INFER_ID]] },
      { id: INFER_ID, type: 'roboflow-infer', x: 380, y: 120, wires: [[DEBUG_ID]] },
      { id: DEBUG_ID, type: 'debug', name: 'predictions', x: 600, y: 120, active: true, tosidebar: true, complete: 'payload', wires: [] },
    ]);
  });
  after(async () => editor?.close());

  it('adds a server from the infer dialog: Test connection names the server, the picker lists its models', async () => {
    const { page } = editor;
    await editNode(page, INFER_ID);
    await page.locator('#node-input-btn-server-add').click();
    await page.locator('#node-config-dialog-ok').waitFor();
    await waitForTrayIdle(page);
    await page.locator('#node-config-input-name').fill('simulator');
    await page.locator('#node-config-input-url').fill(environment().simulator.url);
    await page.locator('#node-config-input-apiKey').fill(API_KEY);
    await page.locator('#roboflow-server-test').click();
    // The click shows a progress text at once; the answer replaces it.
    const progress = await page.locator('#roboflow-server-test-result').innerText();
    await page.waitForFunction((shown) => window.$('#roboflow-server-test-result').text() !== shown, progress);
    assert.match(await page.locator('#roboflow-server-test-result').innerText(), /Roboflow Inference Server 1\.5\.0/);
    await confirmConfigDialog(page);

    serverId = await page.locator('#node-input-server').inputValue();
    assert.equal(await page.evaluate((id) => window.RED.nodes.node(id)?.type, serverId), 'roboflow-server');

    await page.locator('#roboflow-infer-pick-model').click();
    await page.waitForFunction(() => window.$('#roboflow-infer-models option').length > 0);
    const listed = await page.locator('#roboflow-infer-models option').evaluateAll((options: any[]) => options.map((option) => option.value));
    assert.deepEqual([...listed].sort(), ['coco/3', 'shapes/1']);
    await page.locator('#node-input-model + .red-ui-typedInput-container input.red-ui-typedInput-input').fill('shapes/1');
    await screenshot(page, 'node-dialog');
    await confirmNodeDialog(page);
    assert.equal(await page.evaluate((id) => window.RED.nodes.node(id).model, INFER_ID), 'shapes/1');
    assert.deepEqual(editor.errors, []);
  });

  it('deploys; an injected image reaches the debug sidebar with predictions and the status shows count and time', async () => {
    const { page } = editor;
    assert.equal((await deploy(page)).status(), 200);
    await page.locator(`[id="${INJECT_ID}"] .red-ui-flow-node-button-button`).click();
    const message = await waitForDebugMessage(page, DEBUG_ID);
    const payload = JSON.parse(message.msg);
    const classes = (payload.predictions as Array<{ class: string }>).map((prediction) => prediction.class).sort();
    assert.deepEqual(classes, ['blue', 'red']);

    // The busy status comes first; the node's status is throttled, so the result follows it.
    await page.waitForFunction((id) => / objects · /.test(window.RED.nodes.node(id).status?.text ?? ''), INFER_ID);
    const status = await page.evaluate((id) => window.RED.nodes.node(id).status, INFER_ID);
    assert.match(status.text, /^2 objects · \d+ ms$/);
    assert.equal(status.fill, 'green');
    const label = page.locator(`[id="${INFER_ID}"] .red-ui-flow-node-status-label`);
    assert.equal(await label.textContent(), status.text);

    const inferRequests = environment().simulator.requests('/infer/object_detection');
    assert.equal(inferRequests.length, 1);
    assert.equal((inferRequests[0].body as { api_key?: string }).api_key, API_KEY, 'the deployed key did not reach the server');

    await page.evaluate(() => window.RED.sidebar.show('debug'));
    const debugMessage = page.locator('.red-ui-debug-msg').first();
    await debugMessage.locator('.red-ui-debug-msg-expandable').first().click();
    await debugMessage.getByText('predictions: array[2]', { exact: true }).click();
    await debugMessage.getByText('0: object', { exact: true }).click();
    await page.locator('#red-ui-palette-search input').pressSequentially('roboflow');
    await page.locator('.red-ui-palette-node[data-palette-type="inject"]').waitFor({ state: 'hidden' });
    await page.waitForFunction(() => !window.$(':animated').length);
    await page.mouse.move(600, 500);
    // For the picture: no toasts over the flow, and the canvas back where the flow is.
    await page.evaluate(() => {
      window.$('.red-ui-notification').remove();
      window.$('#red-ui-workspace-chart').scrollTop(0).scrollLeft(0);
    });
    await screenshot(page, 'editor-flow');
    assert.deepEqual(editor.errors, []);
  });

  it('keeps the API key out of flows.json, exports and the admin API: only flows_cred.json holds it, encrypted', async () => {
    const { page } = editor;
    const { nodeRed } = environment();
    const flowsFile = await nodeRed.readUserFile('flows.json');
    assert.ok(flowsFile.includes(serverId), 'the server node was not saved');
    assert.ok(!flowsFile.includes(API_KEY), 'flows.json contains the API key');

    const credentialsFile = await nodeRed.readUserFile('flows_cred.json');
    assert.deepEqual(Object.keys(JSON.parse(credentialsFile)), ['$'], 'flows_cred.json is not encrypted');
    assert.ok(!credentialsFile.includes(API_KEY), 'flows_cred.json contains the key in clear');
    assert.equal(decryptCredentials(credentialsFile)[serverId]?.apiKey, API_KEY);

    const completeSet = await page.evaluate(() => JSON.stringify(window.RED.nodes.createCompleteNodeSet()));
    assert.ok(completeSet.includes(serverId) && !completeSet.includes(API_KEY), 'the exportable node set carries the key');

    await page.locator('#red-ui-header-button-sidemenu').click();
    await page.locator('#menu-item-export').click();
    await page.locator('#red-ui-clipboard-dialog-export-rng-full').click();
    const exported = await page.locator('#red-ui-clipboard-dialog-export-text').inputValue();
    assert.ok(exported.includes('roboflow-server'), 'the export does not contain the flow');
    assert.ok(!exported.includes(API_KEY), 'the Export dialog shows the API key');
    await page.locator('#red-ui-clipboard-dialog-cancel').click();

    const adminFlows = await page.request.get(new URL('/flows', nodeRed.url).toString());
    assert.ok(!(await adminFlows.text()).includes(API_KEY), 'GET /flows returns the API key');
    assert.ok(!nodeRed.output().includes(API_KEY), 'Node-RED logged the API key');
    assert.deepEqual(editor.errors, []);
  });
});

// The editor in a real browser: Node-RED 4 from node_modules as a child process (its own
// process, so it cannot collide with the runtime that node-red-node-test-helper loads into the
// mocha process), the simulator, and Debian's chromium driven by playwright-core.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page, type Response } from 'playwright-core';
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator/index';

// Browser globals, for the callbacks that run in the page (the test tsconfig has no DOM lib).
declare const window: any, document: any;

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test', 'artifacts');
const DARK_THEME_DIR = path.join(__dirname, 'dark-theme');
const NODE_RED_CLI = path.join(REPO_ROOT, 'node_modules', 'node-red', 'red.js');

export const CREDENTIAL_SECRET = 'editor-test-credential-secret';
/** Generous on purpose: CI runs this once on a loaded 2-core machine. */
export const EDITOR_TEST_TIMEOUT = 60_000;
const CONDITION_TIMEOUT = 30_000;

export type Theme = 'light' | 'dark';
export interface Viewport {
  width: number;
  height: number;
}
export const VIEWPORTS: Viewport[] = [
  { width: 1440, height: 900 },
  { width: 800, height: 600 },
];

export interface PackageNodes {
  configType: string;
  flowTypes: string[];
}

/** The node types package.json declares, read at call time so newly registered nodes are covered. */
export async function packageNodes(): Promise<PackageNodes> {
  const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8'));
  const types = Object.keys(pkg['node-red']?.nodes ?? {});
  return {
    configType: 'roboflow-server',
    flowTypes: types.filter((type) => type !== 'roboflow-server'),
  };
}

export interface NodeRedOptions {
  theme?: Theme;
}

export interface NodeRedInstance {
  url: string;
  /** Everything Node-RED printed so far. */
  output(): string;
  readUserFile(name: string): Promise<string>;
  stop(): Promise<void>;
}

function settingsSource(userDir: string, theme: Theme): string {
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: 0,
    userDir,
    flowFile: 'flows.json',
    nodesDir: theme === 'dark' ? [REPO_ROOT, DARK_THEME_DIR] : [REPO_ROOT],
    credentialSecret: CREDENTIAL_SECRET,
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false },
    editorTheme: {
      tours: false,
      projects: { enabled: false },
      // The palette manager would fetch the public catalogue: no network in tests.
      palette: { catalogues: [] },
      ...(theme === 'dark' ? { theme: 'editor-test-dark' } : {}),
    },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  };
  return `module.exports = ${JSON.stringify(settings, null, 2)};\n`;
}

function waitForListening(child: ChildProcess, output: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onData = () => {
      const match = /Server now running at (http:\/\/127\.0\.0\.1:\d+)\//.exec(output());
      if (match) {
        cleanup();
        resolve(match[1]);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`Node-RED exited (${code}) before listening:\n${output()}`));
    };
    const cleanup = () => {
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const forceKill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(forceKill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startNodeRed(options: NodeRedOptions = {}): Promise<NodeRedInstance> {
  const userDir = await mkdtemp(path.join(tmpdir(), 'roboflow-editor-'));
  const settingsFile = path.join(userDir, 'settings.js');
  await writeFile(settingsFile, settingsSource(userDir, options.theme ?? 'light'));

  let output = '';
  const child = spawn(process.execPath, [NODE_RED_CLI, '--settings', settingsFile], {
    cwd: userDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  try {
    const url = await waitForListening(child, () => output);
    return {
      url,
      output: () => output,
      readUserFile: (name) => readFile(path.join(userDir, name), 'utf8'),
      async stop() {
        await stopChild(child);
        await rm(userDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopChild(child);
    await rm(userDir, { recursive: true, force: true });
    throw error;
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

export interface EditorPage {
  page: Page;
  /** Uncaught page exceptions and console errors, in order. */
  errors: string[];
  close(): Promise<void>;
}

export async function openEditor(browser: Browser, url: string, viewport: Viewport = VIEWPORTS[0]): Promise<EditorPage> {
  const context = await browser.newContext({ viewport });
  // tsx compiles with esbuild's keepNames, which wraps named functions inside page.evaluate
  // callbacks in a __name() helper that exists only in Node.
  await context.addInitScript({ content: 'window.__name = (fn) => fn;' });
  const page = await context.newPage();
  page.setDefaultTimeout(CONDITION_TIMEOUT);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  await waitForEditorReady(page);
  return { page, errors, close: () => context.close() };
}

export async function waitForEditorReady(page: Page): Promise<void> {
  await page.waitForFunction(() => Boolean(window.RED?.workspaces?.active?.()), undefined, {
    timeout: CONDITION_TIMEOUT,
  });
  await page.waitForSelector('#red-ui-loading-progress', { state: 'hidden' });
  await page.evaluate(() => {
    window.__debugMessages = [];
    window.RED.comms.subscribe('debug', (_topic: string, message: unknown) => window.__debugMessages.push(message));
  });
}

/**
 * Adds nodes to the active workspace as the palette would, with the type's defaults filled in.
 * (RED.view.importNodes would attach them to the mouse pointer until a click drops them.)
 */
export async function addNodes(page: Page, nodes: Array<Record<string, unknown>>): Promise<void> {
  await page.evaluate((toAdd) => {
    const RED = window.RED;
    const z = RED.workspaces.active();
    const placed = toAdd.map((node) => (node.z === undefined && node.x !== undefined ? { ...node, z } : node));
    RED.nodes.import(placed, { generateIds: false, applyNodeDefaults: true });
    RED.nodes.dirty(true);
    RED.view.redraw(true);
  }, nodes);
}

/** Waits until the edit tray has stopped sliding, so clicks land where the buttons are. */
export async function waitForTrayIdle(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const trays = Array.from<any>(document.querySelectorAll('.red-ui-tray'));
    return trays.length > 0 && trays.every((tray) => tray.getAnimations({ subtree: true }).length === 0);
  });
  await page.waitForFunction(() => !window.$(':animated').length);
}

export async function editNode(page: Page, id: string): Promise<void> {
  await page.evaluate((nodeId) => {
    const RED = window.RED;
    RED.editor.edit(RED.nodes.node(nodeId));
  }, id);
  await page.waitForSelector('#node-dialog-ok', { state: 'visible' });
  await waitForTrayIdle(page);
}

/** Opens a config node's dialog; `id` undefined opens the "add new" dialog. */
export async function editConfigNode(page: Page, type: string, id?: string): Promise<void> {
  await page.evaluate(
    ([nodeType, nodeId]) => window.RED.editor.editConfig('', nodeType, nodeId ?? '_ADD_'),
    [type, id] as const,
  );
  await page.waitForSelector('#node-config-dialog-ok', { state: 'visible' });
  await waitForTrayIdle(page);
}

async function trayCount(page: Page): Promise<number> {
  return page.locator('.red-ui-tray').count();
}

/**
 * Clicks a tray button until the tray closes: a click during an animation can miss. Trays stack
 * (a config dialog opened from a node dialog replaces it in the DOM until it closes), so "closed"
 * means this button is gone, not that fewer trays exist.
 */
export async function closeTray(page: Page, buttonSelector: string): Promise<void> {
  const button = page.locator(buttonSelector);
  const deadline = Date.now() + CONDITION_TIMEOUT;
  while (Date.now() < deadline) {
    await button.click({ timeout: 5_000 }).catch(() => undefined);
    const closed = await button
      .waitFor({ state: 'hidden', timeout: 3_000 })
      .then(() => true)
      .catch(() => false);
    if (closed) {
      if ((await trayCount(page)) > 0) await waitForTrayIdle(page);
      else await page.waitForFunction(() => !window.$(':animated').length);
      return;
    }
  }
  throw new Error(`${buttonSelector} did not close the tray`);
}

/** Closes whatever trays a failed test left open, so the next test starts from the bare workspace. */
export async function closeAllTrays(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const RED = window.RED;
    while (document.querySelectorAll('.red-ui-tray').length > 0) {
      const before = document.querySelectorAll('.red-ui-tray').length;
      await new Promise<void>((resolve) => RED.tray.close(resolve));
      if (document.querySelectorAll('.red-ui-tray').length >= before) break;
    }
  });
}

export const confirmNodeDialog = (page: Page) => closeTray(page, '#node-dialog-ok');
export const cancelNodeDialog = (page: Page) => closeTray(page, '#node-dialog-cancel');
export const confirmConfigDialog = (page: Page) => closeTray(page, '#node-config-dialog-ok');

/** Labels of the nodes the editor marks invalid: Deploy would ask for confirmation because of them. */
export async function invalidNodes(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const RED = window.RED;
    const invalid: string[] = [];
    const check = (node: any) => {
      if (node.valid !== false) return;
      const reasons = (node.validationErrors ?? []).join('; ');
      invalid.push(`${node.type} "${RED.utils.getNodeLabel(node, node.id)}": ${reasons}`);
    };
    RED.nodes.eachNode(check);
    RED.nodes.eachConfig(check);
    return invalid;
  });
}

/** Resets the runtime to an empty flow through the admin API and reloads the editor. */
export async function resetFlows(page: Page): Promise<void> {
  const response = await page.request.post(new URL('/flows', page.url()).toString(), {
    data: [],
    headers: { 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v1' },
  });
  if (response.status() !== 204 && response.status() !== 200) throw new Error(`POST /flows: HTTP ${response.status()}`);
  // Undeployed changes (a test that failed half-way) would make the page ask before unloading.
  await page.evaluate(() => window.RED.nodes.dirty(false));
  await page.reload();
  await waitForEditorReady(page);
}

/** Clicks Deploy and resolves with the POST /flows response. */
export async function deploy(page: Page): Promise<Response> {
  const response = page.waitForResponse(
    (candidate) => candidate.request().method() === 'POST' && new URL(candidate.url()).pathname === '/flows',
  );
  await page.locator('#red-ui-header-button-deploy').click();
  const result = await response;
  await page.waitForFunction(() => !window.RED.nodes.dirty());
  return result;
}

export interface DebugMessage {
  id: string;
  name?: string;
  msg: string;
  format: string;
  property?: string;
}

export async function debugMessages(page: Page): Promise<DebugMessage[]> {
  return page.evaluate(() => window.__debugMessages as DebugMessage[]);
}

/** Waits for a debug message from the debug node `debugNodeId` and returns it. */
export async function waitForDebugMessage(page: Page, debugNodeId: string): Promise<DebugMessage> {
  const handle = await page.waitForFunction(
    (id) => (window.__debugMessages as DebugMessage[]).find((message) => message.id === id),
    debugNodeId,
  );
  return (await handle.jsonValue()) as DebugMessage;
}

/** Fires an inject node the way its button does. */
export async function triggerInject(page: Page, injectNodeId: string): Promise<void> {
  const response = await page.request.post(new URL(`/inject/${injectNodeId}`, page.url()).toString());
  if (response.status() !== 200) throw new Error(`inject ${injectNodeId}: HTTP ${response.status()}`);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

export interface EditorEnvironment {
  nodeRed: NodeRedInstance;
  simulator: Simulator;
  browser: Browser;
}

export interface EnvironmentOptions extends NodeRedOptions {
  simulator?: SimulatorOptions;
}

/**
 * Registers mocha hooks that start Node-RED, the simulator and chromium before the suite and tear
 * all of them down after it. Returns a getter, valid inside tests. Skips the suite without chromium.
 */
export function useEditorEnvironment(options: EnvironmentOptions = {}): () => EditorEnvironment {
  let environment: Partial<EditorEnvironment> = {};
  before(async function () {
    if (!existsSync(CHROMIUM_PATH)) {
      console.warn(`    editor tests skipped: ${CHROMIUM_PATH} is missing (apt-get install chromium)`);
      this.skip();
    }
    this.timeout(EDITOR_TEST_TIMEOUT);
    const simulator = await startSimulator(options.simulator);
    environment.simulator = simulator;
    environment.nodeRed = await startNodeRed({ theme: options.theme });
    environment.browser = await launchChromium();
  });
  after(async function () {
    this.timeout(EDITOR_TEST_TIMEOUT);
    const { browser, nodeRed, simulator } = environment;
    environment = {};
    await browser?.close();
    await nodeRed?.stop();
    await simulator?.stop();
  });
  return () => {
    const { nodeRed, simulator, browser } = environment;
    if (!nodeRed || !simulator || !browser) throw new Error('editor environment is not running');
    return { nodeRed, simulator, browser };
  };
}

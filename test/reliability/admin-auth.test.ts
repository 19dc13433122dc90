// A real Node-RED (the CLI, with adminAuth and a credential secret) running the package: the admin
// endpoints refuse unauthenticated and read-only users, and a key deployed through the editor API
// appears neither in flows.json, the credentials file, the flows export nor the runtime's log,
// even when the server echoes it in an error.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { standardImage } from '../fixtures/images';
import { startSimulator, type Simulator } from '../simulator';
import { MARKER_KEY, SECRET_FORMS } from './harness';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const NODE_RED_CLI = path.join(REPO_ROOT, 'node_modules', 'node-red', 'red.js');
const PASSWORD = 'reliability-password';

/** Settings with Node-RED's custom user authentication (no password hashing library needed). */
function settingsSource(userDir: string): string {
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: 0,
    userDir,
    flowFile: 'flows.json',
    nodesDir: [REPO_ROOT],
    credentialSecret: 'reliability-credential-secret',
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false },
    editorTheme: { tours: false, projects: { enabled: false }, palette: { catalogues: [] } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  };
  const users = { admin: '*', viewer: 'read' };
  return `const users = ${JSON.stringify(users)};
module.exports = {
  ...${JSON.stringify(settings)},
  adminAuth: {
    type: 'credentials',
    users: async (username) => (users[username] ? { username, permissions: users[username] } : null),
    authenticate: async (username, password) =>
      users[username] && password === ${JSON.stringify(PASSWORD)} ? { username, permissions: users[username] } : null,
  },
};
`;
}

interface NodeRed {
  url: string;
  userDir: string;
  output(): string;
  stop(): Promise<void>;
}

async function startNodeRed(): Promise<NodeRed> {
  const userDir = mkdtempSync(path.join(tmpdir(), 'roboflow-admin-auth-'));
  const settingsFile = path.join(userDir, 'settings.js');
  writeFileSync(settingsFile, settingsSource(userDir));
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [NODE_RED_CLI, '--settings', settingsFile], { cwd: userDir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
    rmSync(userDir, { recursive: true, force: true });
  };
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /Server now running at (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (match) {
        child.stdout!.off('data', check);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`Node-RED exited (${code}):\n${output}`)));
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { url, userDir, output: () => output, stop };
}

async function token(nodeRed: NodeRed, username: string, scope = '*'): Promise<string> {
  const response = await fetch(`${nodeRed.url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password: PASSWORD }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { access_token: string }).access_token;
}

function post(nodeRed: NodeRed, route: string, body: unknown, accessToken?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${nodeRed.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
}

function assertNoKey(text: string, where: string): void {
  for (const form of SECRET_FORMS) assert.ok(!text.includes(form), `${where} contains the API key`);
}

describe('reliability: a real Node-RED with adminAuth', function () {
  this.timeout(60_000);
  let nodeRed: NodeRed;
  let simulator: Simulator;

  before(async () => {
    simulator = await startSimulator();
    nodeRed = await startNodeRed();
  });
  after(async () => {
    await nodeRed?.stop();
    await simulator?.stop();
  });

  it('refuses the admin endpoints without a login, and to a read-only user', async () => {
    const viewer = await token(nodeRed, 'viewer', 'read');
    for (const route of ['/roboflow-server/info', '/roboflow-server/models', '/roboflow-workflow/interface']) {
      const anonymous = await post(nodeRed, route, { url: simulator.url });
      assert.equal(anonymous.status, 401, `${route} without a login`);
      const readOnly = await post(nodeRed, route, { url: simulator.url }, viewer);
      assert.ok([401, 403].includes(readOnly.status), `${route} for a read-only user answered ${readOnly.status}`);
    }
    assert.equal(simulator.log.length, 0, 'no refused call reached the inference server');
  });

  it('keeps a key deployed through the editor API out of flows.json, the export and the log', async () => {
    const admin = await token(nodeRed, 'admin');
    const imageFile = path.join(nodeRed.userDir, 'camera.jpg');
    writeFileSync(imageFile, await standardImage());
    // Every inference answer echoes the key, as a misbehaving server or proxy might.
    simulator.inject({ route: '/infer/*', status: 401, count: Infinity, body: { message: `Invalid key api_key=${MARKER_KEY} (${MARKER_KEY})` } });
    const flows = [
      { id: 'tab1', type: 'tab', label: 'secure' },
      { id: 'server1', type: 'roboflow-server', name: 'sim', url: simulator.url, requestTimeoutMs: '2000', credentials: { apiKey: MARKER_KEY } },
      { id: 'inject1', type: 'inject', z: 'tab1', props: [{ p: 'payload' }], payload: imageFile, payloadType: 'str', repeat: '', once: false, wires: [['infer1']] },
      { id: 'infer1', type: 'roboflow-infer', z: 'tab1', server: 'server1', model: 'shapes/1', modelType: 'str', image: 'payload', imageType: 'msg', wires: [['debug1']] },
      { id: 'debug1', type: 'debug', z: 'tab1', active: true, tosidebar: true, console: true, complete: 'true', targetType: 'full', wires: [] },
    ];
    const deployed = await post(nodeRed, '/flows', flows, admin, { 'node-red-deployment-type': 'full' });
    assert.ok(deployed.ok, await deployed.text());

    const info = await post(nodeRed, '/roboflow-server/info', { id: 'server1', url: simulator.url }, admin);
    assert.equal(info.status, 200);
    assertNoKey(await info.text(), 'the info answer');

    // The deploy answers before the new flows have started.
    while ((await post(nodeRed, '/inject/inject1', {}, admin)).status === 404) await new Promise((resolve) => setTimeout(resolve, 50));
    while (!/\[roboflow-infer:.*HTTP 401/.test(nodeRed.output())) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(simulator.requests('/infer/').length, 1);
    assert.match(nodeRed.output(), /Invalid key api_key=MA\*\*\*0e/);

    const exported = await fetch(`${nodeRed.url}/flows`, { headers: { authorization: `Bearer ${admin}` } });
    assertNoKey(await exported.text(), 'the flows export');
    const flowFile = readFileSync(path.join(nodeRed.userDir, 'flows.json'), 'utf8');
    assert.match(flowFile, /roboflow-server/);
    assertNoKey(flowFile, 'flows.json');
    assertNoKey(readFileSync(path.join(nodeRed.userDir, 'flows_cred.json'), 'utf8'), 'the encrypted credentials file');
    assertNoKey(nodeRed.output(), 'the Node-RED log');
  });
});

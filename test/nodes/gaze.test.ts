import assert from 'node:assert/strict';
import { standardImage } from '../fixtures/images';
import { startSimulator, type Simulator } from '../simulator';
import { coreNodes, debugNamed, exampleFlow, nodeOfType } from './examples';
import { API_KEY, collect, eventually, flowOnTab, helper, nodeModules, SERVER_ID, serverNode, useNodeRed, type FlowNode } from './helpers';

const NODES = () => nodeModules('roboflow-server', 'roboflow-gaze');
const CREDENTIALS = { [SERVER_ID]: { apiKey: API_KEY } };

function flow(simulatorUrl: string): FlowNode[] {
  return flowOnTab(
    [
      serverNode(simulatorUrl),
      { id: 'gaze1', type: 'roboflow-gaze', server: SERVER_ID, image: 'payload', imageType: 'msg', annotationsProperty: 'annotations', overflow: 'queue', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ],
    ['gaze1'],
  );
}

describe('roboflow-gaze', function () {
  let simulator: Simulator | undefined;

  useNodeRed();
  afterEach(async () => {
    await simulator?.stop();
  });

  it('outputs yaw, pitch, face box and landmarks per face from a server that still has gaze', async () => {
    simulator = await startSimulator({ legacyGaze: true });
    await helper.load(NODES(), flow(simulator.url), CREDENTIALS);
    const out = collect('out');
    const statuses = collect('statuses');
    helper.getNode('gaze1').receive({ payload: await standardImage(), topic: 'door' });
    const [msg] = await out.atLeast(1);

    assert.equal(msg.topic, 'door');
    assert.equal(msg.payload.length, 2);
    for (const face of msg.payload) {
      assert.equal(typeof face.yaw, 'number');
      assert.equal(typeof face.pitch, 'number');
      assert.equal(face.face.class, 'face');
      assert.equal(face.face.landmarks.length, 6);
    }
    assert.equal(msg.gaze.predictions, msg.payload);
    // A rect per face and a circle per landmark.
    assert.equal(msg.annotations.filter((a: { type: string }) => a.type === 'rect').length, 2);
    assert.equal(msg.annotations.filter((a: { type: string }) => a.type === 'circle').length, 12);
    const [request] = simulator.requests('/gaze/gaze_detection');
    assert.deepEqual(Object.keys(request.body as object).sort(), ['api_key', 'image']);
    await eventually(() => statuses.messages.some((status) => status.status.text === '2 face(s)'));
  });

  it('fails once against a server that removed gaze, then fails fast without asking again until redeployed', async () => {
    simulator = await startSimulator();
    await helper.load(NODES(), flow(simulator.url), CREDENTIALS);
    const caught = collect('caught');
    const statuses = collect('statuses');
    const completed = collect('completed');
    const out = collect('out');
    const image = await standardImage();
    for (const id of ['m1', 'm2', 'm3']) helper.getNode('gaze1').receive({ payload: image, _msgid: id });

    const failures = await caught.atLeast(3);
    assert.deepEqual(failures.map((msg) => msg._msgid), ['m1', 'm2', 'm3']);
    for (const failure of failures) {
      assert.match(failure.error.message, /FeatureDeprecatedError|removed gaze detection/);
      assert.match(failure.error.message, /older than 1\.2\.8/);
      assert.equal(failure.error.source.id, 'gaze1');
    }
    assert.equal(simulator.requests('/gaze/gaze_detection').length, 1);
    await eventually(() => statuses.messages.at(-1)?.status.text === 'server no longer supports gaze');
    assert.equal(statuses.messages.at(-1)!.status.fill, 'red');
    assert.equal(out.messages.length, 0);
    assert.equal(completed.messages.length, 0);

    // A redeploy is a new node, which asks the server again.
    await helper.unload();
    await helper.load(NODES(), flow(simulator.url), CREDENTIALS);
    const caughtAgain = collect('caught');
    helper.getNode('gaze1').receive({ payload: image });
    await caughtAgain.atLeast(1);
    assert.equal(simulator.requests('/gaze/gaze_detection').length, 2);
  });

  it('does not remember ordinary failures: the next message asks the server again', async () => {
    simulator = await startSimulator({ legacyGaze: true });
    await helper.load(NODES(), flow(simulator.url), CREDENTIALS);
    const caught = collect('caught');
    const out = collect('out');
    simulator.inject({ route: '/gaze/gaze_detection', status: 500, body: { message: 'Internal error.' } });
    helper.getNode('gaze1').receive({ payload: await standardImage() });
    await caught.atLeast(1);
    helper.getNode('gaze1').receive({ payload: await standardImage() });
    await out.atLeast(1);
    assert.equal(simulator.requests('/gaze/gaze_detection').length, 2);
  });
});

describe('examples/gaze.json', function () {
  let simulator: Simulator | undefined;

  useNodeRed();
  afterEach(async () => {
    await simulator?.stop();
  });

  it('shows the clear error from a current server in its error debug node', async () => {
    simulator = await startSimulator();
    const example = exampleFlow('gaze', simulator.url);
    await helper.load([...NODES(), ...coreNodes], example);
    const errors = collect(debugNamed(example, 'error'));
    helper.getNode(nodeOfType(example, 'inject')).receive({});
    const [msg] = await errors.atLeast(1);
    assert.match(msg.error.message, /removed gaze detection/);
  });

  it('shows the faces from an old server (npm run simulator -- --legacy-gaze)', async () => {
    simulator = await startSimulator({ legacyGaze: true });
    const example = exampleFlow('gaze', simulator.url);
    await helper.load([...NODES(), ...coreNodes], example);
    const faces = collect(debugNamed(example, 'faces'));
    helper.getNode(nodeOfType(example, 'inject')).receive({});
    const [msg] = await faces.atLeast(1);
    assert.equal(msg.payload.length, 2);
  });
});

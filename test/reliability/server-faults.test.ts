// The fault matrix, server side: whatever the inference server does, the infer node reports a
// clear error to Catch with the original message, recovers once the fault ends, and Node-RED
// keeps running. Every output is searched for the marker API key afterwards.
import assert from 'node:assert/strict';
import { standardImage } from '../fixtures/images';
import { helper } from '../nodes/helpers';
import type { Fault } from '../simulator';
import {
  assertNoSecret,
  assertRecovers,
  assertRuntimeAlive,
  caughtError,
  loadInferFlow,
  loadWorkflowFlow,
  MARKER_KEY,
  REQUEST_TIMEOUT_MS,
  RestartableSimulator,
  VALID_SPECIFICATION,
  watchProcess,
  useNodeRedGuardingSecrets,
  type InferFlow,
} from './harness';

interface FaultCase {
  fault: Omit<Fault, 'route'>;
  /** What Catch sees: `<ErrorClass>: <message>`. */
  error: RegExp;
  /** Requests the node makes before giving up: 1 = no retry, 3 = upstream's retry policy. */
  attempts: number;
}

/** Each row is one fault, injected on every inference request until the test clears it. */
const FAULT_MATRIX: Record<string, FaultCase> = {
  '429 storm': { fault: { status: 429 }, error: /^HTTPCallErrorError: HTTP 429: Too many requests\./, attempts: 3 },
  '503 storm': { fault: { status: 503 }, error: /^HTTPCallErrorError: HTTP 503: Model is temporarily not ready/, attempts: 3 },
  '500 (not retried)': { fault: { status: 500 }, error: /^HTTPCallErrorError: HTTP 500: Internal error\. \(500 Server Error/, attempts: 1 },
  '504': { fault: { status: 504 }, error: /^HTTPCallErrorError: HTTP 504: Timeout when attempting to connect/, attempts: 3 },
  'request timeout (no answer)': {
    fault: { kind: 'no-response' },
    error: new RegExp(`^HTTPClientError: Request timed out after ${REQUEST_TIMEOUT_MS} ms: POST http://127\\.0\\.0\\.1:\\d+/infer/object_detection`),
    attempts: 1,
  },
  'headers sent, then the body stalls': {
    fault: { kind: 'stall-body' },
    error: new RegExp(`^HTTPClientError: Request timed out after ${REQUEST_TIMEOUT_MS} ms`),
    attempts: 1,
  },
  'connection reset mid-response': {
    fault: { kind: 'reset' },
    error: /^HTTPClientError: Error with server connection: POST http:\/\/127\.0\.0\.1:\d+\/infer\/object_detection: /,
    attempts: 3,
  },
  'malformed JSON': {
    fault: { kind: 'malformed-json' },
    error: /^HTTPClientError: Expected JSON from POST .*\/infer\/object_detection \(status 200, content-type application\/json\), got: \{"predictions"/,
    attempts: 1,
  },
  'truncated JSON': {
    fault: { kind: 'truncated-json' },
    error: /^HTTPClientError: Error with server connection: POST .*\/infer\/object_detection: /,
    attempts: 3,
  },
  'HTML error page with status 200': {
    fault: { kind: 'html-200' },
    error: /^HTTPClientError: Expected JSON from POST .* \(status 200, content-type text\/html; charset=utf-8\), got: <html><head><title>502 Bad Gateway/,
    attempts: 1,
  },
  'wrong content type on an error': {
    fault: { kind: 'wrong-content-type', status: 502 },
    error: /^HTTPCallErrorError: HTTP 502: .*\(502 Server Error: Bad Gateway for url: /,
    attempts: 1,
  },
  'server error echoing the API key': {
    fault: { status: 401, body: { message: `Invalid api_key=${MARKER_KEY} for key ${MARKER_KEY}` } },
    error: /^HTTPCallErrorError: HTTP 401: Invalid api_key=MA\*\*\*0e for key MA\*\*\*0e/,
    attempts: 1,
  },
};

describe('reliability: server faults reach Catch and the infer node recovers', function () {
  this.timeout(30_000);
  const recorded = watchProcess();
  const simulator = useNodeRedGuardingSecrets(recorded);
  let image: Buffer;

  before(async () => {
    image = await standardImage();
  });

  for (const [name, { fault, error, attempts }] of Object.entries(FAULT_MATRIX)) {
    it(name, async () => {
      const flow = await loadInferFlow(simulator().url);
      await assertRecovers(flow, image); // the model is registered; from here on only /infer is faulty
      simulator().clearLog();
      simulator().inject({ route: '/infer/*', count: Infinity, ...fault });

      const message = await caughtError(flow, { payload: image, topic: name, camera: { id: 7 } });
      assert.match(message, error);
      assert.equal(simulator().requests('/infer/').length, attempts, 'attempts made');
      await assertStatusShows(flow, 'red');
      assertNoSecret(message, 'the error');

      simulator().clearFaults();
      await assertRecovers(flow, image);
      await assertRuntimeAlive(simulator().url);
    });
  }

  it('server error echoing the Authorization header (header key transport)', async () => {
    const flow = await loadInferFlow(simulator().url, { server: { apiKeyTransport: 'header' } });
    await assertRecovers(flow, image);
    assert.equal(simulator().requests('/infer/')[0].headers.authorization, `Bearer ${MARKER_KEY}`);
    simulator().inject({ route: '/infer/*', status: 403, body: { message: `Rejected header Authorization: Bearer ${MARKER_KEY}` } });
    const message = await caughtError(flow, { payload: image, topic: 'header' });
    assert.match(message, /^HTTPCallErrorError: HTTP 403: Rejected header Authorization: Bearer \*\*\* \(403 Client Error: Forbidden for url: /);
    await assertRecovers(flow, image);
  });

  it('429 storm: waits as long as Retry-After says between attempts', async () => {
    const flow = await loadInferFlow(simulator().url);
    await assertRecovers(flow, image);
    simulator().clearLog();
    simulator().inject({ route: '/infer/*', count: Infinity, status: 429, retryAfter: 1 });
    assert.match(await caughtError(flow, { payload: image }), /HTTP 429/);
    const arrivals = simulator().requests('/infer/').map((request) => request.receivedAt);
    assert.equal(arrivals.length, 3);
    for (let index = 1; index < arrivals.length; index++) {
      assert.ok(arrivals[index] - arrivals[index - 1] >= 950, `attempt ${index + 1} came ${arrivals[index] - arrivals[index - 1]} ms after the previous one`);
    }
  });

  it('503 then success: a short storm is ridden out by the retries, no error', async () => {
    const flow = await loadInferFlow(simulator().url);
    await assertRecovers(flow, image);
    simulator().clearLog();
    simulator().inject({ route: '/infer/*', count: 2, status: 503 });
    await assertRecovers(flow, image);
    assert.deepEqual(simulator().requests('/infer/').map((request) => request.status), [503, 503, 200]);
    assert.equal(flow.caught.messages.length, 0);
  });

  it('a 50 MB response that is no inference result', async () => {
    const flow = await loadInferFlow(simulator().url, { server: { requestTimeoutMs: '20000' } });
    await assertRecovers(flow, image);
    simulator().inject({ route: '/infer/*', kind: 'huge-body' });
    const message = await caughtError(flow, { payload: image, topic: 'huge' });
    assert.equal(message, "Error: The server's answer is not an inference result (no predictions)");
    await assertRecovers(flow, image);
    await assertRuntimeAlive(simulator().url);
  });

  it('503 storm on a workflow: upstream\'s workflow retry policy, then a clear error', async () => {
    const flow = await loadWorkflowFlow(simulator().url);
    simulator().inject({ route: '/workflows/run', status: 503, count: Infinity });
    helper.getNode('workflow1').receive({ payload: image, specification: VALID_SPECIFICATION, topic: 'workflow storm' });
    const [failure] = await flow.caught.atLeast(1);
    assert.equal(failure.topic, 'workflow storm');
    assert.equal(
      failure.error.message,
      'HTTPCallErrorError: HTTP 503: Original request failed and retry did not succeed. Status code shows the response of the last request executed.',
    );
    assert.equal(simulator().requests('/workflows/run').length, 3);

    simulator().clearFaults();
    helper.getNode('workflow1').receive({ payload: image, specification: VALID_SPECIFICATION, topic: 'workflow back' });
    const [result] = await flow.out.atLeast(1);
    assert.equal(result.topic, 'workflow back');
    await assertRuntimeAlive(simulator().url);
  });

  describe('the server itself', () => {
    let restartable: RestartableSimulator | undefined;

    afterEach(async () => {
      await restartable?.stop();
      restartable = undefined;
    });

    it('server down at deploy: connection refused, then served once it is up', async () => {
      restartable = await RestartableSimulator.start();
      await restartable.stop();
      const flow = await loadInferFlow(restartable.url);
      const message = await caughtError(flow, { payload: image, topic: 'down' });
      assert.match(message, /^HTTPClientError: Error with server connection: .*ECONNREFUSED/);
      await assertStatusShows(flow, 'red');

      await restartable.restart();
      await assertRecovers(flow, image);
      await assertRuntimeAlive(restartable.url);
    });

    it('server stopped and restarted in the middle of a stream', async () => {
      restartable = await RestartableSimulator.start();
      const flow = await loadInferFlow(restartable.url);
      for (let frame = 0; frame < 3; frame++) await assertRecovers(flow, image);

      await restartable.stop();
      for (let frame = 0; frame < 2; frame++) {
        assert.match(await caughtError(flow, { payload: image, frame }), /^HTTPClientError: Error with server connection/);
      }

      const restarted = await restartable.restart();
      for (let frame = 0; frame < 3; frame++) await assertRecovers(flow, image);
      assert.ok(restarted.requests('/infer/').length >= 3, 'the restarted server answered');
      await assertRuntimeAlive(restartable.url);
    });

    it('DNS failure: a .invalid host name', async () => {
      const flow = await loadInferFlow('http://inference-server.invalid:9001');
      const message = await caughtError(flow, { payload: image, topic: 'dns' });
      assert.match(message, /^HTTPClientError: Error with server connection: GET http:\/\/inference-server\.invalid:9001\/model\/registry\?api_key=MA\*\*\*0e: getaddrinfo (ENOTFOUND|EAI_AGAIN)/);
      // Still alive and still failing cleanly for the next message.
      assert.match(await caughtError(flow, { payload: image, topic: 'dns again' }), /ENOTFOUND|EAI_AGAIN/);
      await assertRuntimeAlive(simulator().url);
    });
  });
});

async function assertStatusShows(flow: InferFlow, fill: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!flow.statuses.messages.some((status) => status.status.fill === fill)) {
    assert.ok(Date.now() < deadline, `a ${fill} status`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

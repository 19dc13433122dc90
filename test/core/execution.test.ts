import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { InferenceHTTPClient } from '../../src/core/client';
import { InferenceConfiguration, type InferenceConfigurationOptions } from '../../src/core/configuration';
import type { RequestContext } from '../../src/core/context';
import { HTTPCallErrorError, HTTPClientError } from '../../src/core/errors';
import {
  Transport,
  extractApiMessage,
  linkSignals,
  makeBatches,
  mapConcurrent,
  queryString,
  retryDelay,
} from '../../src/core/execution';
import { makeImage, standardImage } from '../fixtures/images';
import { type LoggedRequest, type Simulator, startSimulator } from '../simulator';

const API_KEY = 'abcdef-secret-123456yz';

/** The largest number of requests the server was handling at the same moment. */
function maxInFlight(entries: LoggedRequest[]): number {
  const events = entries.flatMap((entry) => [
    { at: entry.receivedAt, change: 1 },
    { at: entry.respondedAt ?? Infinity, change: -1 },
  ]);
  // At equal timestamps a finished response is counted before the next request starts.
  events.sort((a, b) => a.at - b.at || a.change - b.change);
  let current = 0;
  let peak = 0;
  for (const event of events) {
    current += event.change;
    peak = Math.max(peak, current);
  }
  return peak;
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('execution', () => {
  let simulator: Simulator;
  let transport: Transport;
  let image: Buffer;

  const contextWith = (options: InferenceConfigurationOptions = {}): RequestContext =>
    transport.context({
      configuration: new InferenceConfiguration({ apiKeyTransport: 'legacy', ...options }),
      mode: 'v1',
      selectedModel: undefined,
    });

  before(async () => {
    simulator = await startSimulator({ preloaded: ['shapes/1'] });
    image = await standardImage();
  });
  after(() => simulator.stop());
  beforeEach(() => {
    simulator.clearLog();
    simulator.clearFaults();
    simulator.setLatency(0);
    transport = new Transport(simulator.url, API_KEY);
  });
  afterEach(() => transport.close());

  describe('wire helpers', () => {
    it('serialises queries: nulls dropped, booleans lower-case, arrays repeated', () => {
      assert.equal(queryString({ a: ['1', '2'], b: '3', c: undefined, d: null, e: true, f: false, g: 0 }), '?a=1&a=2&b=3&e=true&f=false&g=0');
      assert.equal(queryString({ a: undefined }), '');
      assert.equal(queryString(undefined), '');
    });

    it('cuts batches like upstream make_batches', () => {
      assert.deepEqual(makeBatches([], 10), []);
      assert.deepEqual(makeBatches([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
      assert.deepEqual(makeBatches([1, 2], 0), [[1], [2]]);
    });

    it('waits as long as Retry-After says, up to 10 s, else up to 1 s of jitter', () => {
      assert.equal(retryDelay('1'), 1000);
      assert.equal(retryDelay('0'), 0);
      assert.equal(retryDelay('3600'), 10_000);
      assert.equal(retryDelay(new Date(Date.now() + 3_600_000).toUTCString()), 10_000);
      for (let sample = 0; sample < 20; sample += 1) {
        const jitter = retryDelay(undefined);
        assert.ok(jitter >= 0 && jitter <= 1000, String(jitter));
      }
      const garbage = retryDelay('soon');
      assert.ok(garbage >= 0 && garbage <= 1000);
    });

    it('extracts api messages like upstream', () => {
      const json = (body: unknown) => Buffer.from(JSON.stringify(body));
      assert.equal(extractApiMessage('application/json', json({ message: 'Not Found' })), 'Not Found');
      assert.equal(extractApiMessage('application/json', json({ detail: 'Fine-tuned SAM 3 models are not supported.' })), 'Fine-tuned SAM 3 models are not supported.');
      assert.equal(extractApiMessage('application/json', json({ other: 1 })), 'N/A');
      assert.equal(
        extractApiMessage('application/json', json({ message: 'Step failed', inner_error_message: 'division by zero' })),
        'Step failed. More details: division by zero',
      );
      assert.equal(
        extractApiMessage(
          'application/json',
          json({ detail: [{ loc: ['body', 'confidence'], msg: 'Input should be a valid number', type: 'float_parsing' }] }),
        ),
        'body.confidence: Input should be a valid number',
      );
      assert.equal(extractApiMessage('text/html', Buffer.from('<h1>Bad gateway</h1>')), '<h1>Bad gateway</h1>');
      assert.equal(extractApiMessage('text/plain', Buffer.from('x'.repeat(10_000)))?.length, 503);
      assert.equal(extractApiMessage('text/plain', Buffer.alloc(0)), null);
    });
  });

  describe('linkSignals', () => {
    it('aborts with the first source that aborts, and detaches on release', () => {
      const first = new AbortController();
      const second = new AbortController();
      const link = linkSignals([first.signal, undefined, second.signal]);
      second.abort('second reason');
      assert.equal(link.signal.aborted, true);
      assert.equal(link.signal.reason, 'second reason');

      const released = linkSignals([first.signal]);
      released.release();
      first.abort('late');
      assert.equal(released.signal.aborted, false, 'a released link no longer follows its sources');
      assert.equal(linkSignals([first.signal]).signal.reason, 'late', 'an already aborted source aborts at once');
    });
  });

  describe('mapConcurrent', () => {
    it('is a sliding window: a slow item does not hold back the others', async () => {
      const slow = deferred<string>();
      const started: number[] = [];
      const running = mapConcurrent(
        [0, 1, 2, 3, 4, 5],
        async (item) => {
          started.push(item);
          if (item === 0) return slow.promise;
          return `item ${item}`;
        },
        2,
      );
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(started, [0, 1, 2, 3, 4, 5], 'items 2..5 ran while item 0 was still in flight');
      slow.resolve('item 0');
      assert.deepEqual(await running, ['item 0', 'item 1', 'item 2', 'item 3', 'item 4', 'item 5']);
    });

    it('never has more than the limit in flight', async () => {
      let inFlight = 0;
      let peak = 0;
      await mapConcurrent(
        Array.from({ length: 20 }, (_, index) => index),
        async (index) => {
          inFlight += 1;
          peak = Math.max(peak, inFlight);
          await new Promise((resolve) => setTimeout(resolve, index % 3));
          inFlight -= 1;
        },
        3,
      );
      assert.equal(peak, 3);
    });

    it('rejects with the first failure and aborts the rest', async () => {
      const signals: AbortSignal[] = [];
      const started: number[] = [];
      await assert.rejects(
        mapConcurrent(
          [0, 1, 2, 3, 4],
          async (item, signal) => {
            started.push(item);
            signals.push(signal);
            if (item === 1) throw new Error('item 1 failed');
            await new Promise((resolve) => setTimeout(resolve, 20));
            return item;
          },
          2,
        ),
        /item 1 failed/,
      );
      assert.ok(signals.every((signal) => signal.aborted));
      assert.ok(!started.includes(4), 'no new item started after the failure');
    });
  });

  describe('concurrency and batching over HTTP', () => {
    it('runs 64 single-image requests with at most 8 in flight, and uses all 8', async () => {
      const client = new InferenceHTTPClient(simulator.url, API_KEY);
      try {
        client.configure(new InferenceConfiguration({ maxConcurrentRequests: 8, apiKeyTransport: 'legacy' }));
        await client.infer(image, 'shapes/1');
        simulator.clearLog();
        simulator.setLatency(50);
        const results = await client.infer(Array.from({ length: 64 }, () => image), 'shapes/1');
        assert.ok(Array.isArray(results) && results.length === 64);
        const inferRequests = simulator.requests('/infer/object_detection');
        assert.equal(inferRequests.length, 64);
        assert.equal(simulator.requests('/model/').length, 0, 'the model description came from the cache');
        assert.equal(maxInFlight(inferRequests), 8);
      } finally {
        await client.close();
      }
    });

    it('posts images in batches of maxBatchSize (array per batch, object for a single image)', async () => {
      const context = contextWith({ maxBatchSize: 2, maxConcurrentRequests: 2 });
      const images = await context.loadImages([image, image, image, image, image]);
      const results = await context.postImages('/infer/object_detection', images, { model_id: 'shapes/1' });
      assert.equal(results.length, 5);
      const bodies = simulator.requests('/infer/').map((entry) => (entry.body as { image: unknown }).image);
      assert.equal(bodies.length, 3);
      assert.ok(Array.isArray(bodies[0]) && bodies[0].length === 2);
      assert.ok(Array.isArray(bodies[1]) && bodies[1].length === 2);
      assert.deepEqual(bodies[2], { type: 'base64', value: image.toString('base64') });
    });

    it('keeps results in input order', async () => {
      const context = contextWith({ maxConcurrentRequests: 4 });
      const colours = ['red', 'green', 'blue', 'yellow'] as const;
      const inputs = await Promise.all(
        colours.map((colour) => makeImage({ width: 200, height: 200, boxes: [{ colour, left: 10, top: 10, width: 50, height: 50 }] })),
      );
      simulator.inject({ route: '/infer/object_detection', latencyMs: 80 });
      const results = (await context.postImages('/infer/object_detection', await context.loadImages(inputs), {
        model_id: 'shapes/1',
      })) as Array<{ predictions: Array<{ class: string }> }>;
      assert.deepEqual(
        results.map((result) => result.predictions[0].class),
        ['red', 'green', 'blue', 'yellow'],
      );
    });
  });

  describe('retries', () => {
    const getInfo = (context: RequestContext, retry: 'inference' | 'workflow' | 'none') =>
      context.send({ method: 'GET', path: '/info', retry });

    it('retries 503 and succeeds on the third attempt', async () => {
      simulator.inject({ route: '/info', status: 503, count: 2 });
      const response = await getInfo(contextWith(), 'inference');
      assert.equal(response.status, 200);
      assert.deepEqual(simulator.log.map((entry) => entry.status), [503, 503, 200]);
    });

    it('gives up after three 503s with HTTPCallErrorError', async () => {
      simulator.inject({ route: '/info', status: 503, count: 3 });
      await assert.rejects(getInfo(contextWith(), 'inference'), (error: unknown) => {
        assert.ok(error instanceof HTTPCallErrorError);
        assert.equal(error.statusCode, 503);
        assert.equal(error.apiMessage, 'Model is temporarily not ready - retry request.');
        return true;
      });
      assert.equal(simulator.log.length, 3);
    });

    it('does not retry a 500', async () => {
      simulator.inject({ route: '/info', status: 500 });
      await assert.rejects(getInfo(contextWith(), 'inference'), { name: 'HTTPCallErrorError', statusCode: 500 });
      assert.equal(simulator.log.length, 1);
    });

    it('retries 429 and 504 and connection resets', async () => {
      simulator.inject({ route: '/info', status: 429 });
      simulator.inject({ route: '/info', kind: 'reset' });
      assert.equal((await getInfo(contextWith(), 'inference')).status, 200);
      simulator.inject({ route: '/info', status: 504 });
      assert.equal((await getInfo(contextWith(), 'inference')).status, 200);
      assert.equal(simulator.log.length, 5);
    });

    it('does not retry with the none policy (model management, /info)', async () => {
      simulator.inject({ route: '/info', status: 503 });
      await assert.rejects(getInfo(contextWith(), 'none'), { name: 'HTTPCallErrorError', statusCode: 503 });
      assert.equal(simulator.log.length, 1);
    });

    it('honours Retry-After', async () => {
      simulator.inject({ route: '/info', status: 503, retryAfter: 1 });
      await getInfo(contextWith(), 'inference');
      const [first, second] = simulator.log;
      assert.ok(second.receivedAt - (first.respondedAt ?? 0) >= 950, 'waited about one second before retrying');
    });

    it('workflow policy: exhausted status retries give upstream\'s "retry did not succeed" error', async () => {
      simulator.inject({ route: '/info', status: 503, count: 3 });
      await assert.rejects(getInfo(contextWith(), 'workflow'), (error: unknown) => {
        assert.ok(error instanceof HTTPCallErrorError);
        assert.equal(error.statusCode, 503);
        assert.equal(error.apiMessage, null);
        assert.match(error.description, /^Original request failed and retry did not succeed\. Status code shows/);
        return true;
      });
      assert.equal(simulator.log.length, 3);
    });

    it('workflow policy: exhausted connection retries give HTTPClientError with details', async () => {
      simulator.inject({ route: '/info', kind: 'reset', count: 3 });
      await assert.rejects(getInfo(contextWith(), 'workflow'), (error: unknown) => {
        assert.ok(error instanceof HTTPClientError && !(error instanceof HTTPCallErrorError));
        assert.match(error.message, /^Original request failed and retry did not succeed\. Details: /);
        return true;
      });
    });

    it('workflow policy with retries disabled: one attempt, plain errors', async () => {
      simulator.inject({ route: '/info', status: 503 });
      await assert.rejects(getInfo(contextWith({ workflowRunRetriesEnabled: false }), 'workflow'), (error: unknown) => {
        assert.ok(error instanceof HTTPCallErrorError);
        assert.equal(error.statusCode, 503);
        assert.doesNotMatch(error.description, /retry did not succeed/);
        return true;
      });
      assert.equal(simulator.log.length, 1);
    });
  });

  describe('failures', () => {
    it('times out a request after requestTimeoutMs', async () => {
      simulator.inject({ route: '/info', kind: 'no-response' });
      await assert.rejects(contextWith({ requestTimeoutMs: 200 }).send({ method: 'GET', path: '/info' }), {
        name: 'HTTPClientError',
        message: /timed out after 200 ms/,
      });
    });

    it('times out a body that stalls', async () => {
      simulator.inject({ route: '/info', kind: 'stall-body' });
      await assert.rejects(contextWith({ requestTimeoutMs: 200 }).send({ method: 'GET', path: '/info' }), /timed out/);
    });

    it('explains a body that is not JSON', async () => {
      for (const kind of ['html-200', 'malformed-json'] as const) {
        simulator.inject({ route: '/info', kind });
        const response = await contextWith().send({ method: 'GET', path: '/info' });
        assert.throws(() => response.json(), { name: 'HTTPClientError', message: /Expected JSON from GET http:\/\/127\.0\.0\.1/ });
      }
    });

    it('parses JSON sent with a wrong content type', async () => {
      simulator.inject({ route: '/info', kind: 'wrong-content-type' });
      const response = await contextWith().send({ method: 'GET', path: '/info' });
      assert.equal(response.json<{ name: string }>().name, 'Roboflow Inference Server');
    });

    it('treats a body cut off mid-way as a connection error, retried by the inference policy', async () => {
      simulator.inject({ route: '/info', kind: 'truncated-json' });
      await assert.rejects(contextWith().send({ method: 'GET', path: '/info' }), {
        name: 'HTTPClientError',
        message: /Error with server connection/,
      });
      simulator.inject({ route: '/info', kind: 'truncated-json' });
      const response = await contextWith().send({ method: 'GET', path: '/info', retry: 'inference' });
      assert.equal(response.json<{ name: string }>().name, 'Roboflow Inference Server');
    });

    it('turns a refused connection into HTTPClientError', async () => {
      const closed = new Transport('http://127.0.0.1:9', API_KEY);
      try {
        await assert.rejects(
          closed
            .context({ configuration: new InferenceConfiguration(), mode: 'v1', selectedModel: undefined })
            .send({ method: 'GET', path: '/info' }),
          { name: 'HTTPClientError', message: /Error with server connection/ },
        );
      } finally {
        await closed.close();
      }
    });

    it('refuses at once, not as a connection failure, a request undici cannot send (a key with a line break)', async () => {
      const pasted = new Transport(simulator.url, `${API_KEY}\n`);
      try {
        const context = pasted.context({
          configuration: new InferenceConfiguration({ apiKeyTransport: 'header' }),
          mode: 'v1',
          selectedModel: undefined,
        });
        await assert.rejects(context.send({ method: 'GET', path: '/model/registry', retry: 'inference' }), (error: Error) => {
          assert.equal(error.name, 'HTTPClientError');
          assert.match(error.message, /^Cannot send GET http:\/\/127\.0\.0\.1:\d+\/model\/registry: invalid authorization header/);
          assert.ok(!error.message.includes(API_KEY));
          return true;
        });
        assert.equal(simulator.log.length, 0);
      } finally {
        await pasted.close();
      }
    });

    it('aborts a call through its signal', async () => {
      simulator.setLatency(10_000);
      const controller = new AbortController();
      const outcome = assert.rejects(contextWith().send({ method: 'GET', path: '/info', signal: controller.signal }), {
        name: 'AbortError',
      });
      while (simulator.log.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      controller.abort();
      await outcome;
    });

    it('close() aborts requests in flight', async () => {
      simulator.setLatency(10_000);
      const outcome = assert.rejects(contextWith().send({ method: 'GET', path: '/info' }), {
        name: 'HTTPClientError',
        message: /closed/,
      });
      while (simulator.log.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await transport.close();
      await outcome;
    });
  });

  describe('API key transport and masking', () => {
    it('sends Authorization only in both/header transport and never to /info', async () => {
      for (const apiKeyTransport of ['legacy', 'both', 'header'] as const) {
        simulator.clearLog();
        const context = contextWith({ apiKeyTransport });
        await context.send({ method: 'GET', path: '/model/registry' });
        await context.send({ method: 'GET', path: '/info', anonymous: true });
        const [registry, info] = simulator.log;
        assert.equal(registry.headers.authorization, apiKeyTransport === 'legacy' ? undefined : `Bearer ${API_KEY}`);
        assert.equal(info.headers.authorization, undefined);
      }
    });

    it('places the key per family: legacy payload, model body (v1), model query (v0)', () => {
      const placements = (apiKeyTransport: 'legacy' | 'both' | 'header', mode: 'v0' | 'v1') => {
        const context = transport.context({
          configuration: new InferenceConfiguration({ apiKeyTransport }),
          mode,
          selectedModel: undefined,
        });
        return [context.legacyKeyPayload(), context.modelKeyPayload(), context.modelKeyQuery()];
      };
      const key = { api_key: API_KEY };
      assert.deepEqual(placements('legacy', 'v1'), [key, key, {}]);
      assert.deepEqual(placements('both', 'v1'), [key, key, {}]);
      assert.deepEqual(placements('legacy', 'v0'), [key, {}, key]);
      assert.deepEqual(placements('both', 'v0'), [key, {}, key]);
      assert.deepEqual(placements('header', 'v0'), [{}, {}, {}]);
      assert.deepEqual(placements('header', 'v1'), [{}, {}, {}]);
    });

    it('leaves the key out entirely when the client has none', () => {
      const keyless = new Transport(simulator.url, undefined);
      const context = keyless.context({ configuration: new InferenceConfiguration(), mode: 'v1', selectedModel: undefined });
      assert.deepEqual([context.legacyKeyPayload(), context.modelKeyPayload(), context.modelKeyQuery()], [{}, {}, {}]);
      return keyless.close();
    });

    it('masks the key in descriptions, api messages and messages of wrapped errors', async () => {
      const client = new InferenceHTTPClient(simulator.url, API_KEY);
      try {
        simulator.inject({ route: '/model/registry', status: 401, body: { message: `key ${API_KEY} is not valid` } });
        await assert.rejects(client.listLoadedModels(), (error: unknown) => {
          assert.ok(error instanceof HTTPCallErrorError);
          const everything = `${error.message} ${error.description} ${error.apiMessage} ${error.stack}`;
          assert.ok(!everything.includes(API_KEY), everything);
          assert.match(error.description, /^401 Client Error: Unauthorized for url: http:\/\/127\.0\.0\.1:\d+\/model\/registry\?api_key=ab\*\*\*yz$/);
          return true;
        });
      } finally {
        await client.close();
      }
    });

    it('masks an Authorization header a server echoes back in its error', async () => {
      const client = new InferenceHTTPClient(simulator.url, API_KEY);
      client.configure(new InferenceConfiguration({ apiKeyTransport: 'header' }));
      try {
        simulator.inject({ route: '/model/registry', status: 400, body: { detail: `bad header Authorization: Bearer ${API_KEY}` } });
        await assert.rejects(client.listLoadedModels(), (error: unknown) => {
          assert.ok(error instanceof HTTPCallErrorError);
          assert.equal(error.apiMessage, 'bad header Authorization: Bearer ***');
          assert.ok(!`${error.message} ${error.stack}`.includes(API_KEY));
          return true;
        });
      } finally {
        await client.close();
      }
    });

    it('keeps the key out of the error for an api URL that is not a URL', () => {
      assert.throws(() => new InferenceHTTPClient(`host/${API_KEY}`, API_KEY), (error: Error) => {
        assert.equal(error.name, 'HTTPClientError');
        assert.equal(error.message, 'Invalid api URL: host/ab***yz');
        return true;
      });
    });

    it('keeps the key out of what inspecting or serialising a client or a context shows', async () => {
      const client = new InferenceHTTPClient(simulator.url, API_KEY);
      try {
        const context = contextWith();
        for (const holder of [client, transport, context]) {
          assert.ok(!inspect(holder, { depth: 4, showHidden: true }).includes(API_KEY), inspect(holder, { depth: 1 }));
          assert.ok(!String(JSON.stringify(holder)).includes(API_KEY));
        }
        assert.equal(context.apiKey, API_KEY);
      } finally {
        await client.close();
      }
    });
  });
});

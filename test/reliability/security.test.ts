// Security: what a message may not do (re-point requests, read files outside the base folder,
// fetch URLs the policy forbids), what the admin endpoints answer, and where the key never goes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { standardImage } from '../fixtures/images';
import { helper, SERVER_ID } from '../nodes/helpers';
import { startSimulator } from '../simulator';
import {
  assertNoSecret,
  assertRecovers,
  caughtError,
  credentials,
  loadInferFlow,
  MARKER_KEY,
  outcomeOf,
  useNodeRedGuardingSecrets,
  watchProcess,
} from './harness';

const METADATA_URL = 'http://169.254.169.254/latest/meta-data/iam/security-credentials/';

interface ImageServer {
  url: string;
  /** Paths requested so far. */
  requested: string[];
  stop(): Promise<void>;
}

/** Serves /img.jpg, a redirect to the cloud metadata address, a large body and a stalled body. */
async function startImageServer(image: Buffer): Promise<ImageServer> {
  const requested: string[] = [];
  const server: Server = createServer((request, response) => {
    requested.push(request.url ?? '');
    switch (request.url) {
      case '/img.jpg':
        response.writeHead(200, { 'content-type': 'image/jpeg' }).end(image);
        return;
      case '/redirect':
        response.writeHead(302, { location: METADATA_URL }).end();
        return;
      case '/hop':
        response.writeHead(301, { location: '/img.jpg' }).end();
        return;
      case '/stall':
        response.writeHead(200, { 'content-type': 'image/jpeg' });
        response.write(image.subarray(0, 100));
        return;
      default:
        response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requested,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('reliability: security', function () {
  this.timeout(30_000);
  const recorded = watchProcess();
  const simulator = useNodeRedGuardingSecrets(recorded);
  let image: Buffer;

  before(async () => {
    image = await standardImage();
  });

  describe('a message cannot redirect requests', () => {
    it('server URL, key, headers and transport stay as configured, whatever the message says', async () => {
      const elsewhere = await startSimulator();
      try {
        const flow = await loadInferFlow(simulator().url);
        const { output } = await outcomeOf(flow, {
          payload: image,
          url: elsewhere.url,
          apiUrl: elsewhere.url,
          server: elsewhere.url,
          serverUrl: elsewhere.url,
          apiKey: 'message-key-123456',
          api_key: 'message-key-123456',
          headers: { authorization: 'Bearer message-key-123456', host: '127.0.0.1' },
          requestTimeoutMs: 1,
        });
        assert.ok(output, 'the message was inferred');
        assert.equal(elsewhere.log.length, 0, 'nothing went elsewhere');
        const [request] = simulator().requests('/infer/');
        assert.equal((request.body as Record<string, unknown>).api_key, MARKER_KEY);
        assert.ok(!JSON.stringify(simulator().log).includes('message-key'), 'no message-supplied credential was sent');

        for (const refused of [{ apiKeyTransport: 'header' }, { apiUrl: elsewhere.url }, { maxConcurrentRequests: 64 }, { serviceSecret: 'x' }]) {
          assert.match(await caughtError(flow, { payload: image, inferenceConfiguration: refused }), /^InvalidParameterError: msg\.inferenceConfiguration cannot set/);
        }
        assert.equal(elsewhere.log.length, 0);
      } finally {
        await elsewhere.stop();
      }
    });
  });

  describe('file inputs stay inside the configured base folder', () => {
    let root: string;
    let base: string;

    before(() => {
      root = mkdtempSync(path.join(tmpdir(), 'roboflow-base-'));
      base = path.join(root, 'images');
      mkdirSync(base);
    });
    after(() => rmSync(root, { recursive: true, force: true }));

    it('reads a file inside; refuses .., absolute paths and symlinks that lead outside', async () => {
      writeFileSync(path.join(base, 'inside.jpg'), image);
      writeFileSync(path.join(root, 'secret.jpg'), image);
      symlinkSync(path.join(root, 'secret.jpg'), path.join(base, 'link.jpg'));
      const flow = await loadInferFlow(simulator().url, { server: { fileBaseDir: base }, infer: { annotatedImageProperty: 'annotated' } });

      const { output } = await outcomeOf(flow, { payload: 'inside.jpg' });
      assert.ok(Buffer.isBuffer(output?.annotated), 'a file inside the folder is read (and drawn on)');
      for (const outside of ['../secret.jpg', path.join(root, 'secret.jpg'), 'link.jpg', '/etc/hostname']) {
        assert.equal(
          await caughtError(flow, { payload: outside, topic: outside }),
          `InvalidInputFormatError: Image file '${outside}' is outside the allowed folder.`,
        );
      }
      assert.equal(simulator().requests('/infer/').length, 1, 'nothing from outside reached the server');
    });
  });

  describe('image URLs in messages follow the server node URL policy', () => {
    let images: ImageServer;

    beforeEach(async () => {
      images = await startImageServer(image);
    });
    afterEach(async () => {
      await images.stop();
    });

    it('permissive (upstream default): downloads from any address, following redirects', async () => {
      const flow = await loadInferFlow(simulator().url);
      await assertRecovers(flow, `${images.url}/hop`);
      assert.deepEqual(images.requested, ['/hop', '/img.jpg']);
    });

    it('strict preset: refuses http://127.0.0.1 before connecting', async () => {
      const flow = await loadInferFlow(simulator().url, { server: { urlPolicy: 'strict' } });
      assert.equal(
        await caughtError(flow, { payload: `${images.url}/img.jpg` }),
        'InvalidURLImageInput: Image URL rejected: only https URLs are allowed by the URL policy.',
      );
      assert.equal(
        await caughtError(flow, { payload: `${images.url.replace('http:', 'https:')}/img.jpg` }),
        "InvalidURLImageInput: Image URL rejected: '127.0.0.1' is not a fully qualified domain name.",
      );
      assert.deepEqual(images.requested, []);
      assert.equal(simulator().requests('/infer/').length, 0);
    });

    it('a redirect from an allowed host to 169.254.169.254 is re-validated and refused', async () => {
      const flow = await loadInferFlow(simulator().url, { server: { urlPolicy: 'custom', allowedHosts: '127.0.0.1' } });
      assert.equal(
        await caughtError(flow, { payload: `${images.url}/redirect` }),
        "URLAddressNotAllowedError: Image URL rejected: host '169.254.169.254' is not on the allow list.",
      );
      assert.deepEqual(images.requested, ['/redirect'], 'the allowed first hop was fetched, the redirect target was not');
      await assertRecovers(flow, `${images.url}/img.jpg`);
    });

    it('private addresses refused: an allowed host that is itself local is not contacted', async () => {
      const flow = await loadInferFlow(simulator().url, { server: { urlPolicy: 'custom', allowNonGlobalAddresses: false, allowedHosts: '127.0.0.1' } });
      assert.equal(
        await caughtError(flow, { payload: `${images.url}/redirect` }),
        "URLAddressNotAllowedError: Image URL rejected: '127.0.0.1' is not a public address.",
      );
      assert.deepEqual(images.requested, []);
    });

    it('deny list, and URL input switched off', async () => {
      const denied = await loadInferFlow(simulator().url, { server: { deniedHosts: 'example.com, 127.0.0.1' } });
      assert.equal(
        await caughtError(denied, { payload: `${images.url}/img.jpg` }),
        "URLAddressNotAllowedError: Image URL rejected: host '127.0.0.1' is on the deny list.",
      );
      await helper.unload();
      const off = await loadInferFlow(simulator().url, { server: { urlPolicy: 'custom', allowUrlInput: false } });
      assert.equal(
        await caughtError(off, { payload: `${images.url}/img.jpg` }),
        'InvalidURLImageInput: Providing images as URLs is not allowed by the URL policy.',
      );
      assert.deepEqual(images.requested, []);
    });

    it('download size and time caps set on the server node', async () => {
      const flow = await loadInferFlow(simulator().url, { server: { maxDownloadMb: '0.001', downloadTimeoutSeconds: '0.3' } });
      assert.equal(
        await caughtError(flow, { payload: `${images.url}/img.jpg` }),
        `HTTPClientError: Could not load image from URL. Details: ${images.url}/img.jpg is larger than 1049 bytes.`,
      );
      assert.equal(await caughtError(flow, { payload: `${images.url}/stall` }), 'HTTPClientError: Could not load image from URL. Details: download timed out after 300 ms');
      assert.equal(simulator().requests('/infer/').length, 0);
    });
  });

  describe('admin endpoints', () => {
    it('answer the editor without the key, also when the server echoes it in an error', async () => {
      await loadInferFlow(simulator().url);
      const models = await helper.request().post('/roboflow-server/models').send({ id: SERVER_ID, url: simulator().url });
      assert.equal(models.status, 200);
      simulator().inject({ route: '/info', status: 401, body: { message: `bad api_key=${MARKER_KEY}` } });
      const info = await helper.request().post('/roboflow-server/info').send({ id: SERVER_ID, url: simulator().url });
      assert.equal(info.status, 502);
      assert.match(info.body.error, /HTTP 401/);
      const workflow = await helper.request().post('/roboflow-workflow/interface').send({ server: SERVER_ID, specification: '{}' });
      for (const answer of [models, info, workflow]) assertNoSecret(answer.text, 'an admin answer');
    });
  });

  it('the key is in the node credentials only, never in the flow', async () => {
    await loadInferFlow(simulator().url, { credentials: credentials() });
    const nodes = helper as unknown as { _redNodes: { getFlows(): unknown; getCredentialDefinition(type: string): unknown } };
    assertNoSecret(JSON.stringify(nodes._redNodes.getFlows()), 'the deployed flow');
    assert.deepEqual(nodes._redNodes.getCredentialDefinition('roboflow-server'), { apiKey: { type: 'password' }, serviceSecret: { type: 'password' } });
  });
});

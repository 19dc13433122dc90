import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { InferenceHTTPClient, determineClientMode } from '../../src/core/client';
import { InferenceConfiguration } from '../../src/core/configuration';
import { standardImage } from '../fixtures/images';
import { type Simulator, startSimulator } from '../simulator';

/** Runs a few key placements in a fresh process (the warning is once per process) and returns its stderr. */
async function guidanceWarnings(
  transports: Array<string | undefined>,
  environment: Record<string, string> = {},
  apiKey: string | null = 'key',
): Promise<number> {
  const script = `
    const { InferenceConfiguration } = require(${JSON.stringify(join(__dirname, '../../src/core/configuration'))});
    const { Transport } = require(${JSON.stringify(join(__dirname, '../../src/core/execution'))});
    const transport = new Transport('http://127.0.0.1:1', ${JSON.stringify(apiKey)});
    for (const apiKeyTransport of ${JSON.stringify(transports)}) {
      const configuration = new InferenceConfiguration(apiKeyTransport ? { apiKeyTransport } : {});
      transport.context({ configuration, mode: 'v1', selectedModel: undefined }).legacyKeyPayload();
    }
    transport.close();
  `;
  const { stderr } = await promisify(execFile)(process.execPath, ['-r', require.resolve('tsx/cjs'), '-e', script], {
    env: { ...process.env, INFERENCE_WARNINGS_DISABLED: 'false', ...environment },
  });
  return stderr.split('InferenceSDKGuidanceWarning').length - 1;
}

describe('client state', () => {
  let simulator: Simulator;
  let client: InferenceHTTPClient;

  before(async () => {
    simulator = await startSimulator();
  });
  after(() => simulator.stop());
  beforeEach(() => {
    simulator.clearLog();
    client = new InferenceHTTPClient(`${simulator.url}/`, 'state-test-key');
  });
  afterEach(() => client.close());

  it('picks the mode from upstream prefix list, not from the domain', () => {
    for (const url of [
      'https://detect.roboflow.com',
      'https://outline.roboflow.com',
      'https://classify.roboflow.com',
      'https://infer.roboflow.com',
      'https://serverless.roboflow.com',
      'https://detect.roboflow.com.example.org',
    ]) {
      assert.equal(determineClientMode(url), 'v0', url);
    }
    for (const url of ['http://127.0.0.1:9090', 'https://some.com', 'http://detect.roboflow.com', 'https://app.roboflow.com']) {
      assert.equal(determineClientMode(url), 'v1', url);
    }
    assert.equal(client.clientMode, 'v1');
  });

  it('normalises a trailing slash in the api URL', async () => {
    assert.equal(client.apiUrl, simulator.url);
    await client.getServerInfo();
    assert.equal(simulator.log[0].path, '/info');
  });

  it('configure replaces the whole configuration object', () => {
    const first = new InferenceConfiguration({ apiKeyTransport: 'header', maxBatchSize: 4 });
    client.configure(first);
    assert.equal(client.inferenceConfiguration, first);
    client.configure(new InferenceConfiguration({ maxBatchSize: 2 }));
    assert.equal(client.inferenceConfiguration.apiKeyTransport, undefined);
    assert.equal(client.inferenceConfiguration.maxBatchSize, 2);
  });

  it('selectX changes state for good; useX scopes restore it, also after a throw', async () => {
    client.selectModel('shapes/1');
    assert.equal(client.selectedModel, 'shapes/1');
    const scoped = new InferenceConfiguration({ maxBatchSize: 8 });
    const original = client.inferenceConfiguration;

    await client.useModel('coco/3', async () => {
      assert.equal(client.selectedModel, 'coco/3');
      await client.useApiV0(async () => {
        assert.equal(client.clientMode, 'v0');
        assert.equal(client.selectedModel, 'coco/3');
      });
      assert.equal(client.clientMode, 'v1');
    });
    assert.equal(client.selectedModel, 'shapes/1');

    await assert.rejects(
      client.useConfiguration(scoped, async () => {
        assert.equal(client.inferenceConfiguration, scoped);
        throw new Error('inside');
      }),
      /inside/,
    );
    assert.equal(client.inferenceConfiguration, original);

    client.selectApiV0();
    assert.equal(client.clientMode, 'v0');
    await client.useApiV1(() => assert.equal(client.clientMode, 'v1'));
    assert.equal(client.clientMode, 'v0');
    client.selectApiV1();
    assert.equal(client.clientMode, 'v1');
  });

  it('keeps two concurrent useModel scopes apart', async () => {
    simulator.setLatency(30);
    try {
      const image = await standardImage();
      const seen: Record<string, string[]> = { a: [], b: [] };
      const run = (name: 'a' | 'b', model: string) =>
        client.useModel(model, async () => {
          for (let round = 0; round < 3; round += 1) {
            await client.infer(image);
            seen[name].push(client.selectedModel ?? 'none');
            await delay(5);
          }
        });
      await Promise.all([run('a', 'shapes/1'), run('b', 'coco/3')]);
      assert.deepEqual(seen.a, ['shapes/1', 'shapes/1', 'shapes/1']);
      assert.deepEqual(seen.b, ['coco/3', 'coco/3', 'coco/3']);
      const models = simulator.requests('/infer/').map((entry) => (entry.body as { model_id: string }).model_id);
      assert.equal(models.filter((id) => id === 'shapes/1').length, 3);
      assert.equal(models.filter((id) => id === 'coco/3').length, 3);
      assert.equal(client.selectedModel, undefined);
    } finally {
      simulator.setLatency(0);
    }
  });

  it('a selectModel inside a scope stays inside it', async () => {
    await client.useModel('shapes/1', () => {
      client.selectModel('coco/3');
      assert.equal(client.selectedModel, 'coco/3');
    });
    assert.equal(client.selectedModel, undefined);
  });

  it('warns once per process about an unset key transport, never for an explicit one or without a key', async () => {
    const counts = await Promise.all([
      guidanceWarnings([undefined, undefined, 'header', undefined]),
      guidanceWarnings(['legacy', 'both', 'header']),
      guidanceWarnings([undefined], { INFERENCE_WARNINGS_DISABLED: 'true' }),
      guidanceWarnings([undefined, undefined], {}, null),
    ]);
    assert.deepEqual(counts, [1, 0, 0, 0]);
  });

  it('is unusable after close', async () => {
    await client.close();
    await assert.rejects(client.getServerInfo(), { name: 'HTTPClientError', message: /closed/ });
    assert.equal(simulator.log.length, 0);
  });
});

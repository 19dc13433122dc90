// The setup the family tests share: one simulator per describe block, a fresh client per test.
import assert from 'node:assert/strict';
import { InferenceConfiguration, InferenceHTTPClient, type InferenceConfigurationOptions } from '../../src/core';
import { startSimulator, type LoggedRequest, type Simulator, type SimulatorOptions } from '../simulator';

export interface SimulatorSuite {
  readonly simulator: Simulator;
  readonly client: InferenceHTTPClient;
  /** Replaces the client's configuration. */
  configure(options: InferenceConfigurationOptions): void;
  /** The one request logged under `pathPrefix`; fails unless there is exactly one. */
  only(pathPrefix: string): LoggedRequest;
}

/**
 * Registers hooks in the calling describe block: the simulator starts before its tests and stops
 * after them; each test gets a clean log, no faults and a new client (keyed `apiKey`), closed after it.
 */
export function useSimulatorClient(apiKey: string, options?: SimulatorOptions): SimulatorSuite {
  let simulator: Simulator | undefined;
  let client: InferenceHTTPClient | undefined;
  before(async () => {
    simulator = await startSimulator(options);
  });
  beforeEach(() => {
    const running = started();
    running.clearLog();
    running.clearFaults();
    client = new InferenceHTTPClient(running.url, apiKey);
  });
  afterEach(() => client?.close());
  after(() => simulator?.stop());

  function started(): Simulator {
    assert.ok(simulator, 'the simulator is only there inside the suite');
    return simulator;
  }

  function current(): InferenceHTTPClient {
    assert.ok(client, 'the client is only there inside a test');
    return client;
  }

  // No `this` in the methods: tests destructure them.
  return {
    get simulator() {
      return started();
    },
    get client() {
      return current();
    },
    configure(configuration) {
      current().configure(new InferenceConfiguration(configuration));
    },
    only(pathPrefix) {
      const requests = started().requests(pathPrefix);
      assert.equal(requests.length, 1, `expected exactly one request to ${pathPrefix}`);
      return requests[0];
    },
  };
}

/** An image as the server receives it. */
export function wire(image: Buffer): { type: 'base64'; value: string } {
  return { type: 'base64', value: image.toString('base64') };
}

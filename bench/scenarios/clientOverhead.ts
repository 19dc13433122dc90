// Scenario 2: what one `infer` call costs on top of the cheapest possible request carrying the
// same bytes: a raw undici POST of a pre-built body to a server that answers at once.
import { Pool } from 'undici';
import { InferenceHTTPClient } from '../../src/core';
import { BENCH_API_KEY, DETECTION_MODEL, benchImage } from '../fixtures';
import { RemoteSimulator } from '../remoteSimulator';
import type { Row } from '../report';
import { sized, type BenchOptions, type Scenario } from '../scenario';
import { measure, sequentially } from '../stats';

const WARM_UP_CALLS = 50;

/** The floor: body built once, one keep-alive connection, response parsed as JSON, nothing else. */
async function rawPosts(url: string, body: string, count: number): Promise<{ wallMs: number; cpuMs: number }> {
  const pool = new Pool(url, { connections: 1 });
  const post = async () => {
    const response = await pool.request({
      method: 'POST',
      path: '/infer/object_detection',
      headers: { 'content-type': 'application/json' },
      body,
    });
    if (response.statusCode !== 200) throw new Error(`raw POST answered ${response.statusCode}`);
    await response.body.json();
  };
  try {
    await sequentially(WARM_UP_CALLS, post);
    return await measure(() => sequentially(count, post));
  } finally {
    await pool.close();
  }
}

async function clientCalls(url: string, image: Buffer, count: number): Promise<{ wallMs: number; cpuMs: number }> {
  const client = new InferenceHTTPClient(url, BENCH_API_KEY);
  const call = async () => {
    await client.infer(image, DETECTION_MODEL);
  };
  try {
    await sequentially(WARM_UP_CALLS, call);
    return await measure(() => sequentially(count, call));
  } finally {
    await client.close();
  }
}

async function run(options: BenchOptions): Promise<Row[]> {
  const count = sized(options, { quick: 300, default: 2000, long: 2000 });
  const image = await benchImage(640, 480);
  const body = JSON.stringify({
    api_key: BENCH_API_KEY,
    model_id: DETECTION_MODEL,
    image: { type: 'base64', value: image.toString('base64') },
  });
  const simulator = await RemoteSimulator.start({ latencyMs: 0, preloaded: [DETECTION_MODEL] });
  try {
    const raw = await rawPosts(simulator.url, body, count);
    const client = await clientCalls(simulator.url, image, count);
    const perRequest = (ms: number) => (ms * 1000) / count;
    const scenario = '2 client overhead';
    return [
      { scenario, figure: `requests/s, ${count} sequential infer (640x480 JPEG)`, value: (count * 1000) / client.wallMs, unit: 'req/s', ideal: (count * 1000) / raw.wallMs },
      { scenario, figure: 'wall time per request (floor: raw undici POST)', value: perRequest(client.wallMs), unit: 'µs', ideal: perRequest(raw.wallMs), target: 'ratio <= 1.3' },
      { scenario, figure: 'client CPU per request (floor: raw POST CPU)', value: perRequest(client.cpuMs), unit: 'µs', ideal: perRequest(raw.cpuMs) },
      { scenario, figure: 'added per request over the raw POST', value: perRequest(client.wallMs - raw.wallMs), unit: 'µs' },
    ];
  } finally {
    await simulator.stop();
  }
}

export const clientOverheadScenario: Scenario = { name: 'client-overhead', run };

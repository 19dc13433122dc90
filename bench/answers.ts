// Real simulator answers, recorded once per scenario and then replayed by the simulator as a
// fixed answer (RemoteSimulator.answerAlways), so the server's own time is exactly its latency.
import { request } from 'undici';
import { BENCH_API_KEY, DETECTION_MODEL } from './fixtures';
import type { RemoteSimulator } from './remoteSimulator';

export const DETECTION_ROUTE = '/infer/object_detection';

async function postJson(url: string, body: unknown): Promise<unknown> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.body.json();
  if (response.statusCode !== 200) throw new Error(`recording ${url} failed with ${response.statusCode}: ${JSON.stringify(answer).slice(0, 200)}`);
  return answer;
}

export function detectionPayload(image: Buffer): Record<string, unknown> {
  return { api_key: BENCH_API_KEY, model_id: DETECTION_MODEL, image: { type: 'base64', value: image.toString('base64') } };
}

/** The simulator's real detection answer for `image`. */
export function recordDetection(simulator: RemoteSimulator, image: Buffer): Promise<unknown> {
  return postJson(`${simulator.url}${DETECTION_ROUTE}`, detectionPayload(image));
}

/**
 * Makes the simulator answer every detection request with its real answer for `image`; a batch
 * of `batchSize` images gets that many copies, as the server would send.
 */
export async function replayDetection(simulator: RemoteSimulator, image: Buffer, batchSize = 1): Promise<unknown> {
  const answer = await recordDetection(simulator, image);
  await simulator.answerAlways(DETECTION_ROUTE, batchSize === 1 ? answer : Array.from({ length: batchSize }, () => answer));
  return answer;
}

export function clipComparePayload(image: Buffer, prompts: string[]): Record<string, unknown> {
  return {
    api_key: BENCH_API_KEY,
    subject_type: 'image',
    prompt_type: 'text',
    subject: { type: 'base64', value: image.toString('base64') },
    prompt: prompts,
  };
}

export function recordClipCompare(simulator: RemoteSimulator, image: Buffer, prompts: string[]): Promise<unknown> {
  return postJson(`${simulator.url}/clip/compare`, clipComparePayload(image, prompts));
}

/** What `runWorkflow({ specification, images: { image } })` sends. */
export function workflowPayload(image: Buffer, specification: Record<string, unknown>): Record<string, unknown> {
  return {
    api_key: BENCH_API_KEY,
    use_cache: true,
    enable_profiling: false,
    inputs: { image: { type: 'base64', value: image.toString('base64') } },
    specification,
  };
}

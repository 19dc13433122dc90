// The baseline beside client figures: the same requests as raw undici POSTs of a pre-built body.
// A shortfall both share comes from the machine and the simulator, not from the client.
import { Pool } from 'undici';
import { measure } from './stats';

/** Wall time of `requests` POSTs of `body` to `path`, `concurrency` at a time (a sliding window). */
export async function rawPostWindow(url: string, path: string, body: string, requests: number, concurrency: number): Promise<number> {
  const pool = new Pool(url);
  let started = 0;
  const post = async () => {
    const response = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body });
    if (response.statusCode !== 200) throw new Error(`raw POST to ${path} answered ${response.statusCode}`);
    await response.body.json();
  };
  const worker = async () => {
    while (started < requests) {
      started += 1;
      await post();
    }
  };
  try {
    // Warm-up: the connections the window will use.
    await Promise.all(Array.from({ length: concurrency }, post));
    const { wallMs } = await measure(() => Promise.all(Array.from({ length: concurrency }, worker)));
    return wallMs;
  } finally {
    await pool.close();
  }
}

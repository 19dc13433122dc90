// Scenario 2: what one `infer` call costs on top of the cheapest possible request carrying the
// same bytes: a raw undici POST of a pre-built body to a server that answers at once (with its
// recorded answer, so its own image analysis does not drown the difference). The two run in
// alternating blocks so that load from elsewhere on the machine hits both alike.
import { Agent, Pool } from 'undici';
import { imagesBody } from '../../src/core/execution';
import { loadImages } from '../../src/core/images';
import { PERMISSIVE_URL_POLICY } from '../../src/core/urlPolicy';
import { DETECTION_ROUTE, detectionPayload, replayDetection } from '../answers';
import { BENCH_API_KEY, DETECTION_MODEL, benchClient, benchImage } from '../fixtures';
import { RemoteSimulator } from '../remoteSimulator';
import type { Row } from '../report';
import { sized, type BenchOptions, type Scenario } from '../scenario';
import { now, percentile, sequentially } from '../stats';

const WARM_UP_CALLS = 50;
const BLOCK = 100;

class Sample {
  readonly times: number[] = [];
  cpuMs = 0;
  wallMs = 0;

  async block(call: () => Promise<unknown>, count: number): Promise<void> {
    const cpuBefore = process.cpuUsage();
    const blockStart = now();
    for (let index = 0; index < count; index += 1) {
      const start = now();
      await call();
      this.times.push(now() - start);
    }
    this.wallMs += now() - blockStart;
    const cpu = process.cpuUsage(cpuBefore);
    this.cpuMs += (cpu.user + cpu.system) / 1000;
  }

  /** Microseconds per request. */
  median(): number {
    return (percentile(this.times, 0.5) ?? NaN) * 1000;
  }

  cpuPerRequest(): number {
    return (this.cpuMs * 1000) / this.times.length;
  }

  perSecond(): number {
    return (this.times.length * 1000) / this.wallMs;
  }
}

async function run(options: BenchOptions): Promise<Row[]> {
  const count = sized(options, { quick: 300, default: 2000, long: 2000 });
  const image = await benchImage(640, 480);
  const body = JSON.stringify(detectionPayload(image));
  const simulator = await RemoteSimulator.start({ latencyMs: 0, preloaded: [DETECTION_MODEL] });
  // The floor: body built once, one keep-alive connection, answer parsed as JSON, nothing else.
  const pool = new Pool(simulator.url, { connections: 1 });
  const client = benchClient(simulator.url);
  const rawPost = async () => {
    const response = await pool.request({ method: 'POST', path: DETECTION_ROUTE, headers: { 'content-type': 'application/json' }, body });
    if (response.statusCode !== 200) throw new Error(`raw POST answered ${response.statusCode}`);
    await response.body.json();
  };
  const clientCall = () => client.infer(image, DETECTION_MODEL);
  // Work the client must do per request that the floor did once, up front: base64 the image and
  // build the body bytes, with the client's own functions (its downsizing check left out).
  const sources = { urlPolicy: { ...PERMISSIVE_URL_POLICY }, downloadAgent: new Agent() };
  const bodyFields = { api_key: BENCH_API_KEY, model_id: DETECTION_MODEL };
  const encodeBody = async () => imagesBody(bodyFields, await loadImages(image, {}, sources));
  try {
    await replayDetection(simulator, image);
    await sequentially(WARM_UP_CALLS, rawPost);
    await sequentially(WARM_UP_CALLS, clientCall);
    const raw = new Sample();
    const direct = new Sample();
    const encoding = new Sample();
    for (let done = 0; done < count; done += BLOCK) {
      const size = Math.min(BLOCK, count - done);
      await raw.block(rawPost, size);
      await direct.block(clientCall, size);
      await encoding.block(encodeBody, size);
    }
    const scenario = '2 client overhead';
    return [
      { scenario, figure: `${count} sequential infer, 640x480 JPEG (${Math.round(image.length / 1024)} KB), 0 ms server`, value: direct.perSecond(), unit: 'req/s', ideal: raw.perSecond() },
      { scenario, figure: 'median time per request (floor: raw undici POST)', value: direct.median(), unit: 'µs', ideal: raw.median(), target: 'ratio <= 1.3' },
      { scenario, figure: 'client CPU per request (floor: raw POST CPU)', value: direct.cpuPerRequest(), unit: 'µs', ideal: raw.cpuPerRequest() },
      { scenario, figure: 'added per request over the raw POST (medians)', value: direct.median() - raw.median(), unit: 'µs' },
      { scenario, figure: "of which base64 + body bytes, the client's own functions (median)", value: encoding.median(), unit: 'µs' },
    ];
  } finally {
    await client.close();
    await sources.downloadAgent.close();
    await pool.close();
    await simulator.stop();
  }
}

export const clientOverheadScenario: Scenario = { name: 'client-overhead', run };

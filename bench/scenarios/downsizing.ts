// Scenario 3: the client-side cost of downsizing a large frame for a small model, and of mapping
// the predictions back to the caller's pixels.
import sharp from 'sharp';
import { Agent } from 'undici';
import { loadImages, rescalePrediction, scalingAspectRatio } from '../../src/core/images';
import { PERMISSIVE_URL_POLICY } from '../../src/core/urlPolicy';
import { DETECTION_MODEL, benchClient, benchConfiguration, benchImage } from '../fixtures';
import { RemoteSimulator } from '../remoteSimulator';
import type { Row } from '../report';
import { sized, type BenchOptions, type Scenario } from '../scenario';
import { measure, sequentially } from '../stats';

const MODEL_SIZE = 640;
const SOURCE_WIDTH = 1920;
const SOURCE_HEIGHT = 1080;
const PREDICTIONS = 100;
const RESCALE_REPETITIONS = 20_000;

type Prediction = { x: number; y: number; width: number; height: number; confidence: number; class: string; class_id: number; detection_id: string };

/** The floor: one sharp pipeline that resizes and re-encodes, then base64 (what the wire needs anyway). */
async function bareSharpResize(image: Buffer): Promise<void> {
  const ratio = scalingAspectRatio(SOURCE_WIDTH, SOURCE_HEIGHT, MODEL_SIZE, MODEL_SIZE) ?? 1;
  const resized = await sharp(image)
    .resize(Math.round(SOURCE_WIDTH * ratio), Math.round(SOURCE_HEIGHT * ratio), { fit: 'fill' })
    .jpeg({ quality: 95 })
    .toBuffer();
  resized.toString('base64');
}

function syntheticResult(): { image: { width: number; height: number }; predictions: Prediction[] } {
  const predictions = Array.from({ length: PREDICTIONS }, (_, index) => ({
    x: 10 + index,
    y: 20 + index,
    width: 30,
    height: 40,
    confidence: 0.9,
    class: 'red',
    class_id: 0,
    detection_id: `detection-${index}`,
  }));
  return { image: { width: MODEL_SIZE, height: 360 }, predictions };
}

/** The floor for rescaling: a plain loop that divides the four box numbers in place. */
function bareRescale(result: { predictions: Prediction[] }, factor: number): void {
  for (const prediction of result.predictions) {
    prediction.x /= factor;
    prediction.y /= factor;
    prediction.width /= factor;
    prediction.height /= factor;
  }
}

async function measureResize(image: Buffer, count: number): Promise<{ client: number; floor: number }> {
  const sources = { urlPolicy: { ...PERMISSIVE_URL_POLICY }, downloadAgent: new Agent() };
  const bounds = { maxWidth: MODEL_SIZE, maxHeight: MODEL_SIZE };
  try {
    await sequentially(10, () => loadImages(image, bounds, sources));
    await sequentially(10, () => bareSharpResize(image));
    const client = await measure(() => sequentially(count, () => loadImages(image, bounds, sources)));
    const floor = await measure(() => sequentially(count, () => bareSharpResize(image)));
    return { client: client.wallMs / count, floor: floor.wallMs / count };
  } finally {
    await sources.downloadAgent.close();
  }
}

async function measureRescale(): Promise<{ client: number; floor: number }> {
  const factor = 1 / 3;
  const result = syntheticResult();
  const client = await measure(async () => {
    for (let index = 0; index < RESCALE_REPETITIONS; index += 1) rescalePrediction(result, factor);
  });
  // The in-place floor alternates the factor so the numbers stay in range over the repetitions.
  const floor = await measure(async () => {
    for (let index = 0; index < RESCALE_REPETITIONS; index += 1) bareRescale(result, index % 2 === 0 ? factor : 1 / factor);
  });
  return { client: (client.wallMs * 1000) / RESCALE_REPETITIONS, floor: (floor.wallMs * 1000) / RESCALE_REPETITIONS };
}

/** End to end on a zero-latency server: downsizing on versus sending the full frame. */
async function measureInfer(image: Buffer, count: number): Promise<{ downsized: number; fullSize: number }> {
  const simulator = await RemoteSimulator.start({ latencyMs: 0, preloaded: [DETECTION_MODEL] });
  const client = benchClient(simulator.url);
  try {
    const perImage = async (clientDownsizingDisabled: boolean) => {
      client.configure(benchConfiguration({ clientDownsizingDisabled }));
      await sequentially(5, () => client.infer(image, DETECTION_MODEL));
      const { wallMs } = await measure(() => sequentially(count, () => client.infer(image, DETECTION_MODEL)));
      return wallMs / count;
    };
    return { downsized: await perImage(false), fullSize: await perImage(true) };
  } finally {
    await client.close();
    await simulator.stop();
  }
}

async function run(options: BenchOptions): Promise<Row[]> {
  const count = sized(options, { quick: 10, default: 100, long: 100 });
  // The full-frame run makes the simulator analyse 2 megapixels per call: keep it short.
  const inferCount = sized(options, { quick: 4, default: 30, long: 30 });
  const image = await benchImage(SOURCE_WIDTH, SOURCE_HEIGHT);
  const resize = await measureResize(image, count);
  const rescale = await measureRescale();
  const infer = await measureInfer(image, inferCount);
  const scenario = '3 downsizing';
  return [
    { scenario, figure: '1920x1080 JPEG -> 640x360 JPEG + base64 (floor: one sharp pipeline)', value: resize.client, unit: 'ms/img', ideal: resize.floor },
    { scenario, figure: `rescale ${PREDICTIONS} predictions (floor: in-place loop)`, value: rescale.client, unit: 'µs', ideal: rescale.floor },
    { scenario, figure: 'infer 1920x1080, downsizing on (vs. full frame sent), 0 ms server', value: infer.downsized, unit: 'ms/img', ideal: infer.fullSize },
  ];
}

export const downsizingScenario: Scenario = { name: 'downsizing', run };

// Scenario 6: sequential workflow runs (one image input) and CLIP comparisons (10 text prompts)
// against a 20 ms server; one call in flight, so the ideal is 1 / latency.
import { InferenceHTTPClient } from '../../src/core';
import { recordClipCompare, recordDetection } from '../answers';
import { BENCH_API_KEY, DETECTION_MODEL, benchImage } from '../fixtures';
import { RemoteSimulator } from '../remoteSimulator';
import type { Row } from '../report';
import { sized, type BenchOptions, type Scenario } from '../scenario';
import { measure, sequentially } from '../stats';

const LATENCY_MS = 20;
const PROMPTS = ['red', 'green', 'blue', 'yellow', 'a cat', 'a dog', 'a car', 'a tree', 'a house', 'a person'].map(
  (thing) => `a photo of ${thing}`,
);

/** The smallest useful workflow: detect objects in the one image input. */
const DETECTION_WORKFLOW = {
  version: '1.0',
  inputs: [{ type: 'WorkflowImage', name: 'image' }],
  steps: [
    {
      type: 'roboflow_core/roboflow_object_detection_model@v2',
      name: 'detection',
      images: '$inputs.image',
      model_id: DETECTION_MODEL,
    },
  ],
  outputs: [{ type: 'JsonField', name: 'predictions', selector: '$steps.detection.predictions' }],
};

async function run(options: BenchOptions): Promise<Row[]> {
  const count = sized(options, { quick: 25, default: 150, long: 150 });
  const image = await benchImage(640, 480);
  const simulator = await RemoteSimulator.start({ latencyMs: LATENCY_MS, preloaded: [DETECTION_MODEL] });
  const client = new InferenceHTTPClient(simulator.url, BENCH_API_KEY);
  const ideal = 1000 / LATENCY_MS;
  try {
    // The simulator answers both routes with fixed answers; the workflow's is built from a
    // recorded detection because a workflow run is a detection wrapped in `outputs`.
    const detection = await recordDetection(simulator, image);
    const clipAnswer = await recordClipCompare(simulator, image, PROMPTS);
    await simulator.answerAlways('/workflows/run', { outputs: [{ predictions: detection }] });
    await simulator.answerAlways('/clip/compare', clipAnswer);
    const workflow = () => client.runWorkflow({ specification: DETECTION_WORKFLOW, images: { image } });
    const clip = () => client.clipCompare({ subject: image, prompt: PROMPTS });
    await sequentially(5, workflow);
    await sequentially(5, clip);
    const workflowRun = await measure(() => sequentially(count, workflow));
    const clipRun = await measure(() => sequentially(count, clip));
    const scenario = '6 workflow & CLIP';
    return [
      { scenario, figure: `runWorkflow, 1 image input, ${LATENCY_MS} ms server`, value: (count * 1000) / workflowRun.wallMs, unit: 'img/s', ideal },
      { scenario, figure: `clipCompare, ${PROMPTS.length} text prompts, ${LATENCY_MS} ms server`, value: (count * 1000) / clipRun.wallMs, unit: 'img/s', ideal },
    ];
  } finally {
    await client.close();
    await simulator.stop();
  }
}

export const workflowClipScenario: Scenario = { name: 'workflow-clip', run };

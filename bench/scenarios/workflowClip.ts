// Scenario 6: sequential workflow runs (one image input) and CLIP comparisons (10 text prompts)
// against a 20 ms server; one call in flight, so the ideal is 1 / latency.
import { clipComparePayload, recordClipCompare, recordDetection, workflowPayload } from '../answers';
import { DETECTION_MODEL, benchClient, benchImage } from '../fixtures';
import { rawPostWindow } from '../rawPosts';
import { RemoteSimulator } from '../remoteSimulator';
import type { Row } from '../report';
import { sized, type BenchOptions, type Scenario } from '../scenario';
import { measure, sequentially } from '../stats';

const LATENCY_MS = 20;
const WORKFLOW_ROUTE = '/workflows/run';
const CLIP_ROUTE = '/clip/compare';
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
  const client = benchClient(simulator.url);
  const ideal = 1000 / LATENCY_MS;
  try {
    // The simulator answers both routes with fixed answers; the workflow's is built from a
    // recorded detection because a workflow run is a detection wrapped in `outputs`.
    const detection = await recordDetection(simulator, image);
    const clipAnswer = await recordClipCompare(simulator, image, PROMPTS);
    await simulator.answerAlways(WORKFLOW_ROUTE, { outputs: [{ predictions: detection }] });
    await simulator.answerAlways(CLIP_ROUTE, clipAnswer);
    const workflow = () => client.runWorkflow({ specification: DETECTION_WORKFLOW, images: { image } });
    const clip = () => client.clipCompare({ subject: image, prompt: PROMPTS });
    await sequentially(5, workflow);
    await sequentially(5, clip);
    const rawPerSecond = async (path: string, payload: Record<string, unknown>) =>
      (count * 1000) / (await rawPostWindow(simulator.url, path, JSON.stringify(payload), count, 1));
    // Each client run right beside its raw baseline, so both see the same machine load.
    const workflowRun = await measure(() => sequentially(count, workflow));
    const rawWorkflow = await rawPerSecond(WORKFLOW_ROUTE, workflowPayload(image, DETECTION_WORKFLOW));
    const clipRun = await measure(() => sequentially(count, clip));
    const rawClip = await rawPerSecond(CLIP_ROUTE, clipComparePayload(image, PROMPTS));
    const rawNote = (raw: number) => `raw POSTs reach ${(raw / ideal).toFixed(2)} of ideal`;
    const workflowValue = (count * 1000) / workflowRun.wallMs;
    const clipValue = (count * 1000) / clipRun.wallMs;
    const scenario = '6 workflow & CLIP';
    return [
      { scenario, figure: `runWorkflow, 1 image input, ${LATENCY_MS} ms server`, value: workflowValue, unit: 'img/s', ideal, note: rawNote(rawWorkflow) },
      { scenario, figure: `clipCompare, ${PROMPTS.length} text prompts, ${LATENCY_MS} ms server`, value: clipValue, unit: 'img/s', ideal, note: rawNote(rawClip) },
    ];
  } finally {
    await client.close();
    await simulator.stop();
  }
}

export const workflowClipScenario: Scenario = { name: 'workflow-clip', run };

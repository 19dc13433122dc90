// Workflow routes (§2.8) and a small interpreter for workflow specifications: WorkflowImage and
// WorkflowParameter inputs, model steps that run the simulated models, a bounding-box
// visualisation, a SequenceLength property step, and JsonField outputs chosen by selectors.
import { randomUUID } from 'node:crypto';
import { makeImage } from '../fixtures/images';
import { HttpError, MESSAGES, type Reply, type SimRequest, excludeNone, isRecord, messageError, ok, resolveApiKey } from './http';
import type { SimulatedModel, TaskType } from './models';
import type { FrameProcessor } from './pipelines';
import { DEFAULT_PARAMETERS, type TaskParameters, taskPrediction } from './predictions';
import { type Route, type ServerState, route } from './state';
import { laxNumber, validateBody } from './validation';
import { type DecodedImage, decodeImageBytes, decodeImageObject, encodeJpeg, visualise } from './vision';

type Specification = Record<string, unknown>;
type Step = Record<string, unknown> & { type: string; name: string };

/** An image flowing between steps; it serialises to base64 JPEG like the real server's images. */
class WorkflowImage {
  private constructor(
    readonly image: DecodedImage,
    readonly inputName: string,
    private readonly jpeg: Buffer,
  ) {}

  static async of(image: DecodedImage, inputName: string): Promise<WorkflowImage> {
    return new WorkflowImage(image, inputName, await encodeJpeg(image));
  }

  serialise(): Record<string, unknown> {
    return {
      type: 'base64',
      value: this.jpeg.toString('base64'),
      video_metadata: {
        video_identifier: this.inputName,
        frame_number: 0,
        frame_timestamp: new Date().toISOString(),
        fps: 30,
        measured_fps: null,
        comes_from_video_file: null,
      },
    };
  }
}

/** Model predictions, told apart from plain JSON so property steps can count them. */
class ModelPredictions {
  constructor(readonly body: Record<string, unknown>) {}
}

type StepOutputs = Record<string, unknown>;

const MODEL_STEP_TASKS: [RegExp, TaskType][] = [
  [/object_detection_model|^ObjectDetectionModel$/, 'object-detection'],
  [/instance_segmentation_model|^InstanceSegmentationModel$/, 'instance-segmentation'],
  [/keypoint_detection_model|^KeypointsDetectionModel$/, 'keypoint-detection'],
  [/classification_model|^ClassificationModel$/, 'classification'],
];
const VISUALISATION_STEP = /bounding_box_visualization/;
const PROPERTY_STEP = /property_definition|^PropertyDefinition$/;

const PREDICTION_KINDS: Record<TaskType, string> = {
  'object-detection': 'object_detection_prediction',
  'instance-segmentation': 'instance_segmentation_prediction',
  'keypoint-detection': 'keypoint_detection_prediction',
  classification: 'classification_prediction',
  'semantic-segmentation': 'semantic_segmentation_prediction',
};

function workflowError(status: number, errorType: string, context: string, message: string, inner?: [string, string]): HttpError {
  return new HttpError(status, {
    message,
    error_type: errorType,
    context,
    inner_error_type: inner?.[0] ?? null,
    inner_error_message: inner?.[1] ?? null,
  });
}

function syntaxError(detail: string): HttpError {
  return workflowError(
    400,
    'WorkflowSyntaxError',
    'workflow_compilation | workflow_definition_parsing',
    'Could not parse workflow definition. Details provided in inner error.',
    ['ValidationError', detail],
  );
}

interface ParsedWorkflow {
  inputs: { type: string; name: string; defaultValue?: unknown; kind?: unknown }[];
  steps: Step[];
  outputs: { name: string; selector: string }[];
}

function parseSpecification(specification: unknown): ParsedWorkflow {
  if (!isRecord(specification)) throw syntaxError('Workflow specification must be an object.');
  const { inputs, steps, outputs } = specification;
  if (!Array.isArray(inputs) || !Array.isArray(steps) || !Array.isArray(outputs)) {
    throw syntaxError('Workflow specification requires `inputs`, `steps` and `outputs` lists.');
  }
  const parsed: ParsedWorkflow = {
    inputs: inputs.map((input, index) => {
      if (!isRecord(input) || typeof input.name !== 'string' || typeof input.type !== 'string') {
        throw syntaxError(`Input ${index} needs a string \`type\` and \`name\`.`);
      }
      if (!/^(WorkflowImage|InferenceImage|WorkflowParameter|InferenceParameter|WorkflowVideoMetadata)$/.test(input.type)) {
        throw syntaxError(`Unknown input type: ${input.type}.`);
      }
      return { type: input.type, name: input.name, defaultValue: input.default_value, kind: input.kind };
    }),
    steps: steps.map((step, index) => {
      if (!isRecord(step) || typeof step.name !== 'string' || typeof step.type !== 'string') {
        throw syntaxError(`Step ${index} needs a string \`type\` and \`name\`.`);
      }
      if (!stepTask(step.type) && !VISUALISATION_STEP.test(step.type) && !PROPERTY_STEP.test(step.type)) {
        throw syntaxError(`Unknown block type: ${step.type}.`);
      }
      return step as Step;
    }),
    outputs: outputs.map((output, index) => {
      if (!isRecord(output) || typeof output.name !== 'string' || typeof output.selector !== 'string') {
        throw syntaxError(`Output ${index} needs a string \`name\` and \`selector\`.`);
      }
      return { name: output.name, selector: output.selector };
    }),
  };
  checkReferences(parsed);
  return parsed;
}

function stepTask(type: string): TaskType | undefined {
  return MODEL_STEP_TASKS.find(([pattern]) => pattern.test(type))?.[1];
}

function checkReferences(workflow: ParsedWorkflow): void {
  const inputNames = new Set(workflow.inputs.map((input) => input.name));
  const stepNames = new Set(workflow.steps.map((step) => step.name));
  const selectors = [
    ...workflow.outputs.map((output) => output.selector),
    ...workflow.steps.flatMap((step) => Object.values(step).filter((value): value is string => typeof value === 'string')),
  ];
  for (const selector of selectors) {
    const match = /^\$(inputs|steps)\.([^.]+)/.exec(selector);
    if (!match) continue;
    const known = match[1] === 'inputs' ? inputNames.has(match[2]) : stepNames.has(match[2]);
    if (!known) {
      throw workflowError(
        400,
        'InvalidReferenceTargetError',
        'workflow_compilation | graph_construction',
        `Selector ${selector} refers to a ${match[1] === 'inputs' ? 'workflow input' : 'step'} that does not exist.`,
      );
    }
  }
}

interface RunOptions {
  excludedFields: string[];
  profiling: boolean;
}

interface RunResult {
  outputs: Record<string, unknown>[];
  profilerTrace?: Record<string, unknown>[];
}

async function runWorkflow(
  state: ServerState,
  workflow: ParsedWorkflow,
  inputs: Record<string, unknown>,
  options: RunOptions,
): Promise<RunResult> {
  const batches = await resolveInputs(workflow, inputs);
  const trace: Record<string, unknown>[] = [];
  const outputs: Record<string, unknown>[] = [];
  for (const element of batches) {
    const stepOutputs = new Map<string, StepOutputs>();
    for (const step of workflow.steps) {
      const started = performance.now();
      stepOutputs.set(step.name, await runStep(state, step, (selector) => select(selector, element, stepOutputs)));
      const duration = performance.now() - started;
      trace.push({ name: step.name, cat: 'step_execution', ph: 'X', ts: started * 1000, dur: duration * 1000, pid: process.pid, tid: 0 });
    }
    const result: Record<string, unknown> = {};
    for (const output of workflow.outputs) {
      if (!options.excludedFields.includes(output.name)) result[output.name] = serialise(select(output.selector, element, stepOutputs));
    }
    outputs.push(result);
  }
  return { outputs, ...(options.profiling ? { profilerTrace: trace } : {}) };
}

/** One record of input values per batch element; parameters are shared by all elements. */
async function resolveInputs(workflow: ParsedWorkflow, inputs: Record<string, unknown>): Promise<Record<string, unknown>[]> {
  const parameters: Record<string, unknown> = {};
  const images: Record<string, WorkflowImage[]> = {};
  for (const input of workflow.inputs) {
    const provided = inputs[input.name];
    const isImage = input.type === 'WorkflowImage' || input.type === 'InferenceImage';
    if (provided === undefined) {
      if (isImage || input.defaultValue === undefined) {
        throw workflowError(
          400,
          'RuntimeInputError',
          'workflow_execution | runtime_input_validation',
          `Detected runtime parameter \`${input.name}\` declared as an input of workflow, but not provided in request.`,
        );
      }
      parameters[input.name] = input.defaultValue;
    } else if (isImage) {
      const list = Array.isArray(provided) ? provided.flat(Infinity) : [provided];
      images[input.name] = await Promise.all(list.map(async (image) => WorkflowImage.of(await decodeImageObject(image), input.name)));
    } else {
      parameters[input.name] = provided;
    }
  }
  const batchSize = Math.max(1, ...Object.values(images).map((list) => list.length));
  return Array.from({ length: batchSize }, (_, index) => {
    const element: Record<string, unknown> = { ...parameters };
    for (const [name, list] of Object.entries(images)) element[name] = list[Math.min(index, list.length - 1)];
    return element;
  });
}

function select(selector: unknown, inputs: Record<string, unknown>, steps: Map<string, StepOutputs>): unknown {
  if (typeof selector !== 'string' || !selector.startsWith('$')) return selector;
  const [root, name, field] = selector.slice(1).split('.');
  if (root === 'inputs') return inputs[name];
  const outputs = steps.get(name) ?? {};
  return field === '*' || field === undefined ? outputs : outputs[field];
}

async function runStep(state: ServerState, step: Step, resolve: (value: unknown) => unknown): Promise<StepOutputs> {
  const task = stepTask(step.type);
  if (task) return runModelStep(state, step, task, resolve);
  if (VISUALISATION_STEP.test(step.type)) {
    const image = resolve(step.image);
    const predictions = resolve(step.predictions);
    if (!(image instanceof WorkflowImage) || !(predictions instanceof ModelPredictions)) {
      throw stepError(step, 'needs an image and detections');
    }
    const boxes = (predictions.body.predictions as { x: number; y: number; width: number; height: number }[]) ?? [];
    const drawn = await visualise(image.image, boxes);
    return { image: await WorkflowImage.of(await decodeImageBytes(drawn), image.inputName) };
  }
  const data = resolve(step.data);
  const operations = Array.isArray(step.operations) ? step.operations : [];
  const countsSequence = operations.some((operation) => isRecord(operation) && operation.type === 'SequenceLength');
  const items = data instanceof ModelPredictions ? (data.body.predictions as unknown[]) : data;
  return { output: countsSequence && Array.isArray(items) ? items.length : serialise(data) };
}

function stepError(step: Step, problem: string): HttpError {
  return workflowError(500, 'StepExecutionError', 'workflow_execution | step_output_registration', `Step ${step.name} ${problem}.`);
}

async function runModelStep(state: ServerState, step: Step, task: TaskType, resolve: (value: unknown) => unknown): Promise<StepOutputs> {
  const image = resolve(step.images ?? step.image);
  if (!(image instanceof WorkflowImage)) throw stepError(step, 'needs an image');
  const model: SimulatedModel = state.registry.load(resolve(step.model_id), '/workflows');
  if (model.taskType !== task) throw stepError(step, `cannot run ${model.modelId}, a ${model.taskType} model`);
  const classFilter = resolve(step.class_filter);
  const parameters: TaskParameters = {
    ...DEFAULT_PARAMETERS,
    confidence: laxNumber(resolve(step.confidence), DEFAULT_PARAMETERS.confidence),
    classFilter: Array.isArray(classFilter) ? (classFilter as string[]) : null,
    maxDetections: laxNumber(resolve(step.max_detections), DEFAULT_PARAMETERS.maxDetections),
  };
  const inferenceId = randomUUID();
  const prediction = await taskPrediction(model, image.image, parameters);
  const predictions = Array.isArray(prediction.predictions)
    ? prediction.predictions.map((item: Record<string, unknown>) => ({ ...item, parent_id: image.inputName }))
    : prediction.predictions;
  const body =
    task === 'classification'
      ? { ...prediction, predictions, inference_id: inferenceId, parent_id: image.inputName, prediction_type: 'classification' }
      : { image: prediction.image, predictions };
  return { predictions: new ModelPredictions(body), inference_id: inferenceId, model_id: model.modelId };
}

function serialise(value: unknown): unknown {
  if (value instanceof WorkflowImage) return value.serialise();
  if (value instanceof ModelPredictions) return value.body;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(serialise);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, serialise(item)]));
  return value;
}

const DETECT_SHAPES: Specification = {
  version: '1.0',
  inputs: [
    { type: 'WorkflowImage', name: 'image' },
    { type: 'WorkflowParameter', name: 'model_id', default_value: 'shapes/1', kind: ['roboflow_model_id'] },
    { type: 'WorkflowParameter', name: 'confidence', default_value: 0.4, kind: ['float_zero_to_one'] },
  ],
  steps: [
    {
      type: 'roboflow_core/roboflow_object_detection_model@v2',
      name: 'model',
      images: '$inputs.image',
      model_id: '$inputs.model_id',
      confidence: '$inputs.confidence',
    },
    {
      type: 'roboflow_core/property_definition@v1',
      name: 'count',
      data: '$steps.model.predictions',
      operations: [{ type: 'SequenceLength' }],
    },
  ],
  outputs: [
    { type: 'JsonField', name: 'predictions', selector: '$steps.model.predictions' },
    { type: 'JsonField', name: 'count', selector: '$steps.count.output' },
  ],
};

/** Named workflows "stored on the platform", by `<workspace>/<workflow id>`. */
export const SEEDED_WORKFLOWS: Record<string, Specification> = {
  'demo/detect-shapes': DETECT_SHAPES,
  'demo/visualise-shapes': {
    version: '1.0',
    inputs: [{ type: 'WorkflowImage', name: 'image' }],
    steps: [
      { type: 'roboflow_core/roboflow_object_detection_model@v2', name: 'model', images: '$inputs.image', model_id: 'shapes/1' },
      {
        type: 'roboflow_core/bounding_box_visualization@v1',
        name: 'visualisation',
        image: '$inputs.image',
        predictions: '$steps.model.predictions',
      },
    ],
    outputs: [
      { type: 'JsonField', name: 'predictions', selector: '$steps.model.predictions' },
      { type: 'JsonField', name: 'visualisation', selector: '$steps.visualisation.image' },
    ],
  },
  'demo/classify-shapes': {
    version: '1.0',
    inputs: [{ type: 'WorkflowImage', name: 'image' }],
    steps: [{ type: 'roboflow_core/roboflow_classification_model@v2', name: 'model', images: '$inputs.image', model_id: 'shapes-cls/1' }],
    outputs: [{ type: 'JsonField', name: 'predictions', selector: '$steps.model.predictions' }],
  },
  'demo/echo': {
    version: '1.0',
    inputs: [
      { type: 'WorkflowImage', name: 'image' },
      { type: 'WorkflowParameter', name: 'message', default_value: 'hello' },
    ],
    steps: [],
    outputs: [
      { type: 'JsonField', name: 'image', selector: '$inputs.image' },
      { type: 'JsonField', name: 'message', selector: '$inputs.message' },
    ],
  },
};

function namedSpecification(workspace: string, workflowId: string): Specification {
  const specification = SEEDED_WORKFLOWS[`${workspace}/${workflowId}`];
  if (!specification) throw messageError(404, MESSAGES.notFound);
  return specification;
}

const RUN_SCHEMA = {
  api_key: { kind: 'string', nullable: true },
  inputs: { kind: 'object', required: true },
  excluded_fields: { kind: 'stringList', nullable: true },
  enable_profiling: { kind: 'boolean' },
  debug: { kind: 'boolean' },
  disable_sinks: { kind: 'boolean' },
  use_cache: { kind: 'boolean' },
  workflow_id: { kind: 'string', nullable: true },
  workflow_version_id: { kind: 'string', nullable: true },
} as const;

async function runReply(
  state: ServerState,
  body: Record<string, unknown>,
  specification: unknown,
): Promise<Reply> {
  const result = await runWorkflow(state, parseSpecification(specification), body.inputs as Record<string, unknown>, {
    excludedFields: Array.isArray(body.excluded_fields) ? (body.excluded_fields as string[]) : [],
    profiling: body.enable_profiling === true,
  });
  return ok(excludeNone({ outputs: result.outputs, profiler_trace: result.profilerTrace }));
}

function requireApiKey(request: SimRequest): void {
  if (!resolveApiKey(request)) throw messageError(400, MESSAGES.missingApiKey);
}

function describeInterface(workflow: ParsedWorkflow): Record<string, unknown> {
  const inputs: Record<string, string[]> = {};
  for (const input of workflow.inputs) {
    const isImage = input.type === 'WorkflowImage' || input.type === 'InferenceImage';
    inputs[input.name] = isImage ? ['image'] : Array.isArray(input.kind) ? (input.kind as string[]) : ['*'];
  }
  const outputs: Record<string, string[] | Record<string, string[]>> = {};
  for (const output of workflow.outputs) outputs[output.name] = selectorKinds(workflow, output.selector);
  const kinds = new Set<string>([
    ...Object.values(inputs).flat(),
    ...Object.values(outputs).flatMap((kind) => (Array.isArray(kind) ? kind : Object.values(kind).flat())),
  ]);
  const typingHints: Record<string, string> = {};
  const kindsSchemas: Record<string, unknown> = {};
  for (const kind of kinds) {
    typingHints[kind] = typingHint(kind);
    if (kind.endsWith('_prediction')) {
      kindsSchemas[kind] = { type: 'object', properties: { image: { type: 'object' }, predictions: { type: 'array' } } };
    }
  }
  return { inputs, outputs, typing_hints: typingHints, kinds_schemas: kindsSchemas };
}

function typingHint(kind: string): string {
  if (kind === 'image' || kind.endsWith('_prediction')) return 'dict';
  if (kind.startsWith('float')) return 'float';
  return kind === 'integer' ? 'int' : 'str';
}

function selectorKinds(workflow: ParsedWorkflow, selector: string): string[] | Record<string, string[]> {
  const [root, name, field] = selector.slice(1).split('.');
  if (root === 'inputs') {
    const input = workflow.inputs.find((candidate) => candidate.name === name);
    return input?.type.includes('Image') ? ['image'] : ['*'];
  }
  const step = workflow.steps.find((candidate) => candidate.name === name);
  if (!step) return ['*'];
  const task = stepTask(step.type);
  const stepKinds: Record<string, string[]> = task
    ? { predictions: [PREDICTION_KINDS[task]], inference_id: ['inference_id'], model_id: ['roboflow_model_id'] }
    : VISUALISATION_STEP.test(step.type)
      ? { image: ['image'] }
      : { output: ['*'] };
  return field === '*' ? stepKinds : (stepKinds[field] ?? ['*']);
}

const BLOCKS = [
  ...MODEL_STEP_TASKS.map(([, task]) => ({
    identifier: `roboflow_core/roboflow_${task.replace(/-/g, '_')}_model@v2`,
    name: `${task} model`,
    outputs: [
      { name: 'predictions', kind: [PREDICTION_KINDS[task]] },
      { name: 'inference_id', kind: ['inference_id'] },
      { name: 'model_id', kind: ['roboflow_model_id'] },
    ],
  })),
  {
    identifier: 'roboflow_core/bounding_box_visualization@v1',
    name: 'Bounding Box Visualization',
    outputs: [{ name: 'image', kind: ['image'] }],
  },
  { identifier: 'roboflow_core/property_definition@v1', name: 'Property Definition', outputs: [{ name: 'output', kind: ['*'] }] },
];

function blocksDescription(): Record<string, unknown> {
  const kinds = [...new Set(BLOCKS.flatMap((block) => block.outputs.flatMap((output) => output.kind)))];
  return {
    blocks: BLOCKS.map((block) => ({
      manifest_type_identifier: block.identifier,
      manifest_type_identifier_aliases: [],
      human_friendly_block_name: block.name,
      block_source: 'workflows_core',
      fully_qualified_block_class_name: `simulator.${block.identifier}`,
      block_schema: { type: 'object', properties: { type: { const: block.identifier }, name: { type: 'string' } } },
      outputs_manifest: block.outputs,
      execution_engine_compatibility: '>=1.0.0,<2.0.0',
      input_dimensionality_offsets: {},
      dimensionality_reference_property: null,
      output_dimensionality_offset: 0,
    })),
    declared_kinds: kinds.map((name) => ({ name, description: null, docs: null, serialised_data_type: null })),
    kinds_connections: {},
    primitives_connections: [],
    universal_query_language_description: { operations_description: [], operators_descriptions: [] },
    dynamic_block_definition_schema: {},
  };
}

export const workflowRoutes: Route[] = [
  route('POST', /^\/(?:workflows\/run|infer\/workflows)$/, async (request, state) => {
    const body = validateBody(request, {
      ...RUN_SCHEMA,
      specification: { kind: 'object', required: true },
      is_preview: { kind: 'boolean' },
    });
    return runReply(state, body, body.specification);
  }),
  route('POST', /^\/infer\/workflows\/([^/]+)\/([^/]+)$/, async (request, state, [workspace, workflowId]) => {
    const body = validateBody(request, RUN_SCHEMA);
    return runReply(state, body, namedSpecification(workspace, workflowId));
  }),
  route('POST', /^\/workflows\/describe_interface$/, async (request) => {
    const body = validateBody(request, { api_key: { kind: 'string', nullable: true }, specification: { kind: 'object', required: true } });
    requireApiKey(request);
    return ok(describeInterface(parseSpecification(body.specification)));
  }),
  route(['GET', 'POST'], /^\/workflows\/blocks\/describe$/, async () => ok(blocksDescription())),
  route('POST', /^\/workflows\/validate$/, async (request) => {
    parseSpecification(request.json);
    return ok({ status: 'ok' });
  }),
  route('GET', /^\/workflows\/execution_engine\/versions$/, async () =>
    ok({ versions: ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0'] }),
  ),
  route('POST', /^\/([^/]+)\/workflows\/([^/]+)\/describe_interface$/, async (request, _state, [workspace, workflowId]) => {
    requireApiKey(request);
    return ok(describeInterface(parseSpecification(namedSpecification(workspace, workflowId))));
  }),
  route('POST', /^\/([^/]+)\/workflows\/([^/]+)$/, async (request, state, [workspace, workflowId]) => {
    const body = validateBody(request, RUN_SCHEMA);
    return runReply(state, body, namedSpecification(workspace, workflowId));
  }),
];

/**
 * A pipeline's frame n is a 640x480 image with a red box moving right 10 px per frame, run
 * through the pipeline's workflow.
 */
export const processPipelineFrame: FrameProcessor = async (state, pipeline, frameId) => {
  const configuration = pipeline.processingConfiguration;
  const specification =
    configuration.workflow_specification ??
    namedSpecification(String(configuration.workspace_name), String(configuration.workflow_id));
  const frame = await makeImage({ boxes: [{ colour: 'red', left: (frameId * 10) % 440, top: 100, width: 200, height: 150 }] });
  const imageInputName = typeof configuration.image_input_name === 'string' ? configuration.image_input_name : 'image';
  const parameters = isRecord(configuration.workflows_parameters) ? configuration.workflows_parameters : {};
  const inputs = { ...parameters, [imageInputName]: { type: 'base64', value: frame.toString('base64') } };
  const result = await runWorkflow(state, parseSpecification(specification), inputs, { excludedFields: [], profiling: false });
  return result.outputs[0] ?? {};
};

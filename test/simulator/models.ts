// The simulated model catalogue and the server's model registry (`/model/*`): which models exist,
// which are loaded, and the ModelsDescriptions body the real server returns (nulls included).
import { MESSAGES, messageError } from './http';

export type TaskType =
  | 'object-detection'
  | 'instance-segmentation'
  | 'keypoint-detection'
  | 'classification'
  | 'semantic-segmentation';

export interface SimulatedModel {
  modelId: string;
  taskType: TaskType;
  inputWidth: number;
  inputHeight: number;
  classes: string[];
  multiLabel?: boolean;
  batchSize?: number | null;
}

const SHAPE_CLASSES = ['red', 'green', 'blue', 'yellow'];

/** Detected colour k (red, green, blue, yellow) is reported as `classes[k]` of the model. */
export const DEFAULT_MODELS: SimulatedModel[] = [
  { modelId: 'shapes/1', taskType: 'object-detection', inputWidth: 640, inputHeight: 640, classes: SHAPE_CLASSES },
  { modelId: 'shapes-seg/1', taskType: 'instance-segmentation', inputWidth: 640, inputHeight: 640, classes: SHAPE_CLASSES },
  { modelId: 'shapes-pose/1', taskType: 'keypoint-detection', inputWidth: 640, inputHeight: 640, classes: SHAPE_CLASSES },
  { modelId: 'shapes-cls/1', taskType: 'classification', inputWidth: 224, inputHeight: 224, classes: SHAPE_CLASSES },
  {
    modelId: 'shapes-multi/1',
    taskType: 'classification',
    inputWidth: 224,
    inputHeight: 224,
    classes: SHAPE_CLASSES,
    multiLabel: true,
  },
  {
    modelId: 'coco/3',
    taskType: 'object-detection',
    inputWidth: 640,
    inputHeight: 640,
    classes: ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck'],
  },
  { modelId: 'shapes-sem/1', taskType: 'semantic-segmentation', inputWidth: 512, inputHeight: 512, classes: SHAPE_CLASSES },
];

/** The server de-aliases like the SDK does; only aliases of simulated models are listed. */
export const MODEL_ALIASES: Record<string, string> = { 'yolov8n-640': 'coco/3' };

const STUB_MODELS = new WeakSet<SimulatedModel>();

export function isStubModel(model: SimulatedModel): boolean {
  return STUB_MODELS.has(model);
}

interface LoadedModel {
  model: SimulatedModel;
  aliases: Set<string>;
  paths: Set<string>;
}

export interface ModelDescription {
  model_id: string;
  task_type: TaskType;
  batch_size: number | null;
  input_height: number | null;
  input_width: number | null;
  vram_bytes: number | null;
  request_aliases: string[];
  request_paths: string[];
}

export interface ModelsDescriptions {
  models: ModelDescription[];
  total_vram_bytes: number | null;
  gpu_memory_used: number | null;
  gpu_memory_total: number | null;
  torch_cuda_allocated: number | null;
  torch_cuda_reserved: number | null;
  torch_cuda_allocator_cache: number | null;
  non_torch_gpu_memory: number | null;
}

export class ModelRegistry {
  private readonly catalogue = new Map<string, SimulatedModel>();
  private readonly loaded = new Map<string, LoadedModel>();

  constructor(models: SimulatedModel[], preloaded: string[]) {
    for (const model of models) this.catalogue.set(model.modelId, model);
    for (const modelId of preloaded) this.load(modelId);
  }

  /** De-aliases, checks the id's shape, and loads the model (auto-load on first use). */
  load(requestedId: unknown, requestPath?: string): SimulatedModel {
    const modelId = canonicalModelId(requestedId);
    const model = this.catalogue.get(modelId) ?? this.stubOf(modelId);
    if (!model) throw messageError(404, MESSAGES.notFound);
    let entry = this.loaded.get(modelId);
    if (!entry) {
      entry = { model, aliases: new Set(), paths: new Set() };
      this.loaded.set(modelId, entry);
    }
    if (requestedId !== modelId) entry.aliases.add(requestedId as string);
    if (requestPath) entry.paths.add(requestPath);
    return model;
  }

  /** Version 0 of a known project is its stub model, which answers without predicting. */
  private stubOf(modelId: string): SimulatedModel | undefined {
    const [project, version] = modelId.split('/');
    if (version !== '0') return undefined;
    const sibling = [...this.catalogue.values()].find((model) => model.modelId.split('/')[0] === project);
    if (!sibling) return undefined;
    const stub = { ...sibling, modelId };
    STUB_MODELS.add(stub);
    return stub;
  }

  remove(requestedId: unknown): void {
    this.loaded.delete(canonicalModelId(requestedId));
  }

  clear(): void {
    this.loaded.clear();
  }

  describe(): ModelsDescriptions {
    return {
      models: [...this.loaded.values()].map(describeModel),
      total_vram_bytes: null,
      gpu_memory_used: null,
      gpu_memory_total: null,
      torch_cuda_allocated: null,
      torch_cuda_reserved: null,
      torch_cuda_allocator_cache: null,
      non_torch_gpu_memory: null,
    };
  }
}

function describeModel({ model, aliases, paths }: LoadedModel): ModelDescription {
  return {
    model_id: model.modelId,
    task_type: model.taskType,
    batch_size: model.batchSize ?? null,
    input_height: model.inputHeight,
    input_width: model.inputWidth,
    vram_bytes: null,
    request_aliases: [...aliases],
    request_paths: [...paths],
  };
}

/** `get_model_id_chunks` on the server: more than one `/` is a 400. */
export function canonicalModelId(requestedId: unknown): string {
  if (typeof requestedId !== 'string' || requestedId.length === 0) throw messageError(400, MESSAGES.invalidModelId);
  const modelId = MODEL_ALIASES[requestedId] ?? requestedId;
  if (modelId.split('/').length > 2) throw messageError(400, MESSAGES.invalidModelId);
  return modelId;
}

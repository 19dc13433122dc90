// Model aliases: upstream's table (inference_sdk/http/utils/aliases.py, kept identical on the
// server) as data. Only model-taking operations (infer, model management) de-alias.

const YOLOV8: Record<string, string> = {
  'yolov8n-640': 'coco/3',
  'yolov8n-1280': 'coco/9',
  'yolov8s-640': 'coco/6',
  'yolov8s-1280': 'coco/10',
  'yolov8m-640': 'coco/8',
  'yolov8m-1280': 'coco/11',
  'yolov8l-640': 'coco/7',
  'yolov8l-1280': 'coco/12',
  'yolov8x-640': 'coco/5',
  'yolov8x-1280': 'coco/13',
  'yolov8n-seg-640': 'coco-dataset-vdnr1/2',
  'yolov8n-seg-1280': 'coco-dataset-vdnr1/7',
  'yolov8s-seg-640': 'coco-dataset-vdnr1/4',
  'yolov8s-seg-1280': 'coco-dataset-vdnr1/8',
  'yolov8m-seg-640': 'coco-dataset-vdnr1/5',
  'yolov8m-seg-1280': 'coco-dataset-vdnr1/9',
  'yolov8l-seg-640': 'coco-dataset-vdnr1/6',
  'yolov8l-seg-1280': 'coco-dataset-vdnr1/10',
  'yolov8x-seg-640': 'coco-dataset-vdnr1/3',
  'yolov8x-seg-1280': 'coco-dataset-vdnr1/11',
  'yolov8n-pose-640': 'coco-pose-detection/1',
  'yolov8s-pose-640': 'coco-pose-detection/2',
  'yolov8m-pose-640': 'coco-pose-detection/3',
  'yolov8l-pose-640': 'coco-pose-detection/4',
  'yolov8x-pose-640': 'coco-pose-detection/5',
  'yolov8x-pose-1280': 'coco-pose-detection/6',
};

const YOLO_NAS: Record<string, string> = {
  'yolo-nas-s-640': 'coco/14',
  'yolo-nas-m-640': 'coco/15',
  'yolo-nas-l-640': 'coco/16',
};

const YOLOV10: Record<string, string> = {
  'yolov10n-640': 'coco/19',
  'yolov10s-640': 'coco/20',
  'yolov10m-640': 'coco/21',
  'yolov10b-640': 'coco/22',
  'yolov10l-640': 'coco/23',
  'yolov10x-640': 'coco/24',
};

const YOLOV11_CANONICAL: Record<string, string> = {
  'yolov11n-seg-640': 'coco-dataset-vdnr1/19',
  'yolov11s-seg-640': 'coco-dataset-vdnr1/20',
  'yolov11m-seg-640': 'coco-dataset-vdnr1/21',
  'yolov11l-seg-640': 'coco-dataset-vdnr1/22',
  'yolov11x-seg-640': 'coco-dataset-vdnr1/23',
  'yolov11n-640': 'coco/25',
  'yolov11s-640': 'coco/26',
  'yolov11m-640': 'coco/27',
  'yolov11l-640': 'coco/28',
  'yolov11x-640': 'coco/29',
  'yolov11n-1280': 'coco/30',
  'yolov11s-1280': 'coco/31',
  'yolov11m-1280': 'coco/32',
  'yolov11l-1280': 'coco/33',
  'yolov11x-1280': 'coco/34',
};

/** Upstream accepts every YOLOv11 alias also spelled `yolo11...`. */
const YOLOV11: Record<string, string> = {
  ...YOLOV11_CANONICAL,
  ...Object.fromEntries(Object.entries(YOLOV11_CANONICAL).map(([alias, id]) => [alias.replace('yolov11', 'yolo11'), id])),
};

const YOLO26_SIZES = ['n', 's', 'm', 'l', 'x'] as const;

/** Semantic segmentation (1024) and depth (768) checkpoints, under both `yolo26` and `yolov26` spellings for depth. */
const YOLO26: Record<string, string> = Object.fromEntries(
  YOLO26_SIZES.flatMap((size) => [
    [`yolo26${size}-sem-1024`, `yolo26-pretrains/yolo26${size}-sem`],
    [`yolo26${size}-depth-768`, `yolo26-pretrains/yolo26${size}-depth`],
    [`yolov26${size}-depth-768`, `yolo26-pretrains/yolo26${size}-depth`],
  ]),
);

const RF_DETR: Record<string, string> = {
  'rfdetr-base': 'coco/36',
  'rfdetr-nano': 'coco/38',
  'rfdetr-small': 'coco/39',
  'rfdetr-medium': 'coco/40',
  'rfdetr-large': 'coco/50',
  'rfdetr-xlarge': 'coco/47',
  'rfdetr-2xlarge': 'coco/48',
  'rfdetr-seg-preview': 'coco-dataset-vdnr1/26',
  'rfdetr-seg-nano': 'coco-dataset-vdnr1/41',
  'rfdetr-seg-small': 'coco-dataset-vdnr1/36',
  'rfdetr-seg-medium': 'coco-dataset-vdnr1/37',
  'rfdetr-seg-large': 'coco-dataset-vdnr1/38',
  'rfdetr-seg-xlarge': 'coco-dataset-vdnr1/39',
  'rfdetr-seg-2xlarge': 'coco-dataset-vdnr1/40',
};

/** ImageNet classifiers; upstream long shipped them misspelled `resent*`, so both spellings resolve. */
const CLASSIFIERS: Record<string, string> = {
  resnet18: 'classifiers/1',
  resnet34: 'classifiers/2',
  resnet50: 'classifiers/3',
  resnet101: 'classifiers/4',
  resent18: 'classifiers/1',
  resent34: 'classifiers/2',
  resent50: 'classifiers/3',
  resent101: 'classifiers/4',
};

const PALIGEMMA: Record<string, string> = {
  'paligemma-3b-mix-224': 'paligemma-pretrains/1',
  'paligemma-3b-mix-448': 'paligemma-pretrains/20',
  'paligemma-3b-ft-cococap-224': 'paligemma-pretrains/8',
  'paligemma-3b-ft-screen2words-224': 'paligemma-pretrains/9',
  'paligemma-3b-ft-vqav2-224': 'paligemma-pretrains/10',
  'paligemma-3b-ft-tallyqa-224': 'paligemma-pretrains/11',
  'paligemma-3b-ft-docvqa-224': 'paligemma-pretrains/12',
  'paligemma-3b-ft-ocrvqa-224': 'paligemma-pretrains/13',
  'paligemma-3b-ft-cococap-448': 'paligemma-pretrains/14',
  'paligemma-3b-ft-screen2words-448': 'paligemma-pretrains/15',
  'paligemma-3b-ft-vqav2-448': 'paligemma-pretrains/16',
  'paligemma-3b-ft-tallyqa-448': 'paligemma-pretrains/17',
  'paligemma-3b-ft-docvqa-448': 'paligemma-pretrains/18',
  'paligemma-3b-ft-ocrvqa-448': 'paligemma-pretrains/19',
};

const VISION_LANGUAGE: Record<string, string> = {
  // Newer transformers need the re-exported Florence-2 weights (versions 3 and 4, not 1 and 2).
  'florence-2-base': 'florence-pretrains/3',
  'florence-2-large': 'florence-pretrains/4',
  'qwen25-vl-7b': 'qwen-pretrains/1',
};

export const MODEL_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  ...YOLOV8,
  ...YOLO_NAS,
  ...YOLOV10,
  ...YOLOV11,
  ...YOLO26,
  ...RF_DETR,
  ...CLASSIFIERS,
  ...PALIGEMMA,
  ...VISION_LANGUAGE,
});

/** Upstream's `resolve_roboflow_model_alias`: an exact lookup; unknown ids pass through unchanged. */
export function resolveModelAlias(modelId: string): string {
  return Object.hasOwn(MODEL_ALIASES, modelId) ? MODEL_ALIASES[modelId] : modelId;
}

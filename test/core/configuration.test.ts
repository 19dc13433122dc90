import assert from 'node:assert/strict';
import {
  InferenceConfiguration,
  toApiV1QueryParameters,
  toClassificationParameters,
  toInstanceSegmentationParameters,
  toKeypointsDetectionParameters,
  toLegacyCallParameters,
  toObjectDetectionParameters,
} from '../../src/core/configuration';
import { InvalidParameterError } from '../../src/core/errors';

/** Every field that any mapping reads, set to a recognisable value. */
function referenceConfiguration(): InferenceConfiguration {
  return new InferenceConfiguration({
    confidenceThreshold: 0.5,
    keypointConfidenceThreshold: 0.3,
    format: 'json',
    maskDecodeMode: 'fast',
    tradeoffFactor: 0.2,
    maxCandidates: 100,
    maxDetections: 10,
    iouThreshold: 0.4,
    strokeWidth: 3,
    countInference: false,
    serviceSecret: 'secret',
    disablePreprocAutoOrientation: true,
    disablePreprocContrast: false,
    disablePreprocGrayscale: true,
    disablePreprocStaticCrop: false,
    classAgnosticNms: true,
    classFilter: ['red'],
    fixBatchSize: true,
    visualizePredictions: true,
    visualizeLabels: true,
    disableActiveLearning: true,
    activeLearningTargetDataset: 'dataset',
    source: 'node-red',
    sourceInfo: 'flow 1',
    responseMaskFormat: 'rle',
  });
}

const PREPROCESSING = [
  'disable_preproc_auto_orient',
  'disable_preproc_contrast',
  'disable_preproc_grayscale',
  'disable_preproc_static_crop',
];

const OBJECT_DETECTION_KEYS = [
  ...PREPROCESSING,
  'class_agnostic_nms',
  'class_filter',
  'confidence',
  'fix_batch_size',
  'iou_threshold',
  'max_detections',
  'max_candidates',
  'visualization_labels',
  'visualization_stroke_width',
  'visualize_predictions',
  'disable_active_learning',
  'active_learning_target_dataset',
  'source',
  'source_info',
];

describe('InferenceConfiguration', () => {
  it('has upstream defaults plus a request timeout', () => {
    const configuration = new InferenceConfiguration();
    assert.equal(configuration.visualizePredictions, false);
    assert.equal(configuration.clientDownsizingDisabled, true);
    assert.equal(configuration.defaultMaxInputSize, 1024);
    assert.equal(configuration.disableActiveLearning, false);
    assert.equal(configuration.maxConcurrentRequests, 1);
    assert.equal(configuration.maxBatchSize, 1);
    assert.equal(configuration.outputVisualisationFormat, 'base64');
    assert.deepEqual(configuration.imageExtensionsForDirectoryScan, ['jpg', 'jpeg', 'JPG', 'JPEG', 'png', 'PNG']);
    assert.equal(configuration.profilingDirectory, './inference_profiling');
    assert.equal(configuration.requestTimeoutMs, 120_000);
    assert.equal(configuration.confidenceThreshold, undefined);
    assert.equal(configuration.apiKeyTransport, undefined);
    assert.ok(Object.isFrozen(configuration));
  });

  it('rejects an unknown apiKeyTransport', () => {
    assert.throws(
      () => new InferenceConfiguration({ apiKeyTransport: 'cookie' as never }),
      InvalidParameterError,
    );
  });

  it('rejects an output visualisation format it cannot produce (upstream: NotImplementedError) instead of sending base64', () => {
    assert.throws(() => new InferenceConfiguration({ outputVisualisationFormat: 'numpy' as never }), {
      name: 'InvalidParameterError',
      message: "Invalid outputVisualisationFormat 'numpy': expected one of base64, buffer.",
    });
  });

  it('maps to v0 query parameters in upstream order, leaving out v1-only fields', () => {
    const parameters = toLegacyCallParameters(referenceConfiguration());
    assert.deepEqual(Object.keys(parameters), [
      'confidence',
      'keypoint_confidence',
      'format',
      'labels',
      'mask_decode_mode',
      'tradeoff_factor',
      'max_detections',
      'overlap',
      'stroke',
      'countinference',
      'service_secret',
      ...PREPROCESSING,
      'disable_active_learning',
      'active_learning_target_dataset',
      'source',
      'source_info',
      'response_mask_format',
    ]);
    assert.equal(parameters.overlap, 0.4);
    assert.equal(parameters.stroke, 3);
    assert.equal(parameters.labels, true);
    assert.equal(parameters.countinference, false);
  });

  it('maps to v1 object detection, keypoints and instance segmentation bodies', () => {
    const configuration = referenceConfiguration();
    assert.deepEqual(Object.keys(toObjectDetectionParameters(configuration)), OBJECT_DETECTION_KEYS);
    assert.deepEqual(Object.keys(toKeypointsDetectionParameters(configuration)), [...OBJECT_DETECTION_KEYS, 'keypoint_confidence']);
    assert.deepEqual(Object.keys(toInstanceSegmentationParameters(configuration)), [
      ...OBJECT_DETECTION_KEYS,
      'mask_decode_mode',
      'tradeoff_factor',
      'response_mask_format',
    ]);
    const body = toObjectDetectionParameters(configuration);
    assert.equal(body.iou_threshold, 0.4);
    assert.equal(body.visualization_stroke_width, 3);
    assert.equal(body.visualization_labels, true);
    assert.deepEqual(body.class_filter, ['red']);
    for (const mapping of [toObjectDetectionParameters, toClassificationParameters, toInstanceSegmentationParameters]) {
      const keys = Object.keys(mapping(configuration));
      assert.ok(!keys.includes('service_secret') && !keys.includes('countinference'));
    }
  });

  it('maps to v1 classification without labels, NMS or detection limits', () => {
    assert.deepEqual(Object.keys(toClassificationParameters(referenceConfiguration())), [
      ...PREPROCESSING,
      'confidence',
      'visualize_predictions',
      'visualization_stroke_width',
      'disable_active_learning',
      'source',
      'source_info',
      'active_learning_target_dataset',
    ]);
  });

  it('drops unset fields but keeps false, 0 and empty lists', () => {
    const configuration = new InferenceConfiguration({ confidenceThreshold: 0, classFilter: [], fixBatchSize: false });
    assert.deepEqual(toObjectDetectionParameters(configuration), {
      class_filter: [],
      confidence: 0,
      fix_batch_size: false,
      visualize_predictions: false,
      disable_active_learning: false,
    });
    assert.deepEqual(toLegacyCallParameters(new InferenceConfiguration()), { disable_active_learning: false });
  });

  it('builds the v1 query from service secret and count inference only', () => {
    assert.deepEqual(toApiV1QueryParameters(new InferenceConfiguration({ serviceSecret: 'xxx', countInference: true })), {
      service_secret: 'xxx',
      countinference: true,
    });
    assert.equal(toApiV1QueryParameters(new InferenceConfiguration()), undefined);
    assert.deepEqual(toApiV1QueryParameters(new InferenceConfiguration({ countInference: false })), { countinference: false });
    assert.deepEqual(toApiV1QueryParameters(new InferenceConfiguration({ serviceSecret: 's' })), { service_secret: 's' });
  });
});

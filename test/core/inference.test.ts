import assert from 'node:assert/strict';
import sharp from 'sharp';
import { InferenceHTTPClient } from '../../src/core/client';
import { InferenceConfiguration, type InferenceConfigurationOptions } from '../../src/core/configuration';
import {
  APIKeyNotProvided,
  InvalidInputFormatError,
  InvalidModelIdentifier,
  ModelNotSelectedError,
  ModelTaskTypeNotSupportedError,
  WrongClientModeError,
} from '../../src/core/errors';
import { makeImage, standardImage } from '../fixtures/images';
import { type LoggedRequest, type Simulator, startSimulator } from '../simulator';

const API_KEY = 'inference-test-key-42';

type Prediction = Record<string, unknown> & { x: number; y: number; width: number; height: number; class: string };
type Result = { image: { width: number; height: number }; predictions: Prediction[]; visualization?: unknown };

function wireImage(entry: LoggedRequest): Buffer {
  const image = (entry.body as { image: { value: string } }).image;
  return Buffer.from(image.value, 'base64');
}

function assertNear(actual: number, expected: number, label: string): void {
  assert.ok(Math.abs(actual - expected) <= 2, `${label}: ${actual} is not within 2 of ${expected}`);
}

describe('infer', () => {
  let simulator: Simulator;
  let client: InferenceHTTPClient;
  let image: Buffer;

  const configure = (options: InferenceConfigurationOptions = {}) =>
    client.configure(new InferenceConfiguration({ apiKeyTransport: 'legacy', ...options }));

  before(async () => {
    simulator = await startSimulator();
    image = await standardImage();
  });
  after(() => simulator.stop());
  beforeEach(() => {
    simulator.clearLog();
    simulator.clearFaults();
    client = new InferenceHTTPClient(simulator.url, API_KEY);
    configure();
  });
  afterEach(() => client.close());

  describe('v1', () => {
    it('describes the model, loads it when absent, then posts the exact body', async () => {
      configure({ confidenceThreshold: 0.5, disableActiveLearning: true });
      const result = (await client.infer(image, 'yolov8n-640')) as Result;
      const [registry, add, inferRequest] = simulator.log;
      assert.deepEqual([registry.method, registry.path, registry.rawQuery], ['GET', '/model/registry', `api_key=${API_KEY}`]);
      assert.deepEqual([add.method, add.path, add.body], ['POST', '/model/add', { model_id: 'coco/3', api_key: API_KEY }]);
      assert.deepEqual([inferRequest.method, inferRequest.path, inferRequest.rawQuery], ['POST', '/infer/object_detection', '']);
      assert.deepEqual(inferRequest.body, {
        api_key: API_KEY,
        model_id: 'coco/3',
        confidence: 0.5,
        visualize_predictions: false,
        disable_active_learning: true,
        image: { type: 'base64', value: image.toString('base64') },
      });
      assert.equal(inferRequest.headers['content-type'], 'application/json');
      assert.equal(simulator.log.length, 3);
      assert.deepEqual(result.image, { width: 640, height: 480 });
      assert.deepEqual(
        result.predictions.map((prediction) => [prediction.class, prediction.x, prediction.y, prediction.width, prediction.height]),
        [
          ['person', 200, 155, 200, 150],
          ['car', 460, 350, 120, 100],
        ],
      );
    });

    it('routes each task type to its endpoint with its parameter set', async () => {
      configure({ confidenceThreshold: 0.3, iouThreshold: 0.5, keypointConfidenceThreshold: 0.1, maskDecodeMode: 'fast', strokeWidth: 2 });
      const expectations: Array<[string, string, string[]]> = [
        ['shapes/1', '/infer/object_detection', ['confidence', 'iou_threshold', 'visualization_stroke_width']],
        ['shapes-seg/1', '/infer/instance_segmentation', ['confidence', 'iou_threshold', 'visualization_stroke_width', 'mask_decode_mode']],
        ['shapes-pose/1', '/infer/keypoints_detection', ['confidence', 'iou_threshold', 'visualization_stroke_width', 'keypoint_confidence']],
        ['shapes-cls/1', '/infer/classification', ['confidence', 'visualization_stroke_width']],
      ];
      for (const [model, path, parameters] of expectations) {
        simulator.clearLog();
        await client.infer(image, model);
        const [request] = simulator.requests('/infer/');
        assert.equal(request.path, path, model);
        assert.deepEqual(
          Object.keys(request.body as object).sort(),
          ['api_key', 'model_id', 'image', 'visualize_predictions', 'disable_active_learning', ...parameters].sort(),
          model,
        );
      }
    });

    it('sends service secret and count inference in the query only', async () => {
      configure({ serviceSecret: 'internal-secret', countInference: false });
      await client.infer(image, 'shapes/1');
      const [request] = simulator.requests('/infer/');
      assert.equal(request.rawQuery, 'service_secret=internal-secret&countinference=false');
      const keys = Object.keys(request.body as object);
      for (const key of ['service_secret', 'countinference', 'count_inference']) assert.ok(!keys.includes(key));
    });

    it('places the key per transport: legacy body+query, both body+header, header only', async () => {
      for (const apiKeyTransport of ['legacy', 'both', 'header'] as const) {
        const fresh = new InferenceHTTPClient(simulator.url, API_KEY);
        try {
          fresh.configure(new InferenceConfiguration({ apiKeyTransport }));
          simulator.clearLog();
          await fresh.infer(image, 'shapes/1');
          const registry = simulator.requests('/model/registry')[0];
          const inferRequest = simulator.requests('/infer/')[0];
          const bodyKey = (inferRequest.body as { api_key?: string }).api_key;
          const header = apiKeyTransport === 'legacy' ? undefined : `Bearer ${API_KEY}`;
          assert.equal(registry.rawQuery, apiKeyTransport === 'header' ? '' : `api_key=${API_KEY}`, apiKeyTransport);
          assert.equal(registry.headers.authorization, header, apiKeyTransport);
          assert.equal(bodyKey, apiKeyTransport === 'header' ? undefined : API_KEY, apiKeyTransport);
          assert.equal(inferRequest.headers.authorization, header, apiKeyTransport);
        } finally {
          await fresh.close();
        }
      }
    });

    it('works without an API key, leaving the field out', async () => {
      const keyless = new InferenceHTTPClient(simulator.url);
      try {
        await keyless.infer(image, 'shapes/1');
        assert.equal(simulator.requests('/model/registry')[0].rawQuery, '');
        for (const request of [...simulator.requests('/model/add'), ...simulator.requests('/infer/')]) {
          assert.ok(!('api_key' in (request.body as object)), request.path);
        }
      } finally {
        await keyless.close();
      }
    });

    it('asks the registry once for many infers, again after an unload', async () => {
      for (let frame = 0; frame < 5; frame += 1) await client.infer(image, 'shapes/1');
      await Promise.all([client.infer(image, 'shapes-cls/1'), client.infer(image, 'shapes-cls/1'), client.infer(image, 'shapes-cls/1')]);
      assert.equal(simulator.requests('/model/registry').length, 2);
      assert.equal(simulator.requests('/infer/').length, 8);
      await client.unloadModel('shapes/1');
      simulator.clearLog();
      await client.infer(image, 'shapes/1');
      assert.deepEqual(
        simulator.log.map((entry) => entry.path),
        ['/model/registry', '/model/add', '/infer/object_detection'],
      );
    });

    it('forgets a cached description when the server says the model is not found', async () => {
      await client.infer(image, 'shapes/1');
      simulator.inject({ route: '/infer/object_detection', status: 404 });
      await assert.rejects(client.infer(image, 'shapes/1'), { name: 'HTTPCallErrorError', statusCode: 404 });
      simulator.clearLog();
      await client.infer(image, 'shapes/1');
      assert.deepEqual(
        simulator.log.map((entry) => entry.path),
        ['/model/registry', '/infer/object_detection'],
      );
    });

    it('refuses a semantic segmentation model and the v0 mode', async () => {
      await assert.rejects(client.infer(image, 'shapes-sem/1'), ModelTaskTypeNotSupportedError);
      assert.equal(simulator.requests('/infer/').length, 0);
      await client.useApiV0(() => assert.rejects(client.inferFromApiV1(image, 'shapes/1'), WrongClientModeError));
    });

    it('needs a model', async () => {
      await assert.rejects(client.infer(image), { name: 'ModelNotSelectedError', message: 'No model was selected to be used.' });
      client.selectModel('shapes/1');
      assert.ok(!Array.isArray(await client.infer(image)));
    });

    it('rejects a bad input before any inference request', async () => {
      await assert.rejects(client.infer([image, 42 as never], 'shapes/1'), InvalidInputFormatError);
      await assert.rejects(client.infer(Buffer.alloc(0), 'shapes/1'), InvalidInputFormatError);
      await assert.rejects(client.infer('/no/such/image.jpg', 'shapes/1'), InvalidInputFormatError);
      assert.equal(simulator.log.length, 0);
    });

    it('returns an object for one image (also in a list) and an array for several', async () => {
      assert.ok(!Array.isArray(await client.infer(image, 'shapes/1')));
      assert.ok(!Array.isArray(await client.infer([image], 'shapes/1')));
      const several = await client.infer([image, image], 'shapes/1');
      assert.ok(Array.isArray(several) && several.length === 2);
      assert.deepEqual(await client.infer([], 'shapes/1'), []);
    });

    it('aborts an infer in flight through its signal', async () => {
      await client.infer(image, 'shapes/1');
      simulator.clearLog();
      simulator.setLatency(10_000);
      try {
        const controller = new AbortController();
        const outcome = assert.rejects(client.infer([image, image], 'shapes/1', { signal: controller.signal }), { name: 'AbortError' });
        while (simulator.log.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
        controller.abort();
        await outcome;
      } finally {
        simulator.setLatency(0);
      }
    });

    it('transcodes visualisations to buffers when asked', async () => {
      configure({ visualizePredictions: true, outputVisualisationFormat: 'buffer' });
      const result = (await client.infer(image, 'shapes/1')) as Result;
      assert.ok(Buffer.isBuffer(result.visualization));
      assert.equal((await sharp(result.visualization as Buffer).metadata()).format, 'jpeg');
    });
  });

  describe('client-side downsizing', () => {
    const big = () =>
      makeImage({
        width: 1280,
        height: 960,
        boxes: [
          { colour: 'red', left: 200, top: 100, width: 400, height: 300 },
          { colour: 'blue', left: 800, top: 600, width: 240, height: 200 },
        ],
      });

    it('sends a 1280x960 image to a 640x640 model at 640x480 and maps boxes back', async () => {
      configure({ clientDownsizingDisabled: false });
      const original = await big();
      const result = (await client.infer([original, image], 'shapes/1')) as Result[];
      const [sentBig, sentSmall] = simulator.requests('/infer/').map(wireImage);
      const sentBigSize = await sharp(sentBig).metadata();
      assert.deepEqual([sentBigSize.width, sentBigSize.height], [640, 480]);
      assert.deepEqual(sentSmall, image, 'an image inside the bounds is sent as it is');

      assert.deepEqual(result[0].image, { width: 1280, height: 960 });
      const [red, blue] = result[0].predictions;
      for (const [prediction, expected] of [
        [red, { x: 400, y: 250, width: 400, height: 300 }],
        [blue, { x: 920, y: 700, width: 240, height: 200 }],
      ] as const) {
        for (const key of ['x', 'y', 'width', 'height'] as const) assertNear(prediction[key], expected[key], `${prediction.class}.${key}`);
      }
      assert.deepEqual(result[1].image, { width: 640, height: 480 });
      assert.equal(result[1].predictions[0].x, 200);
    });

    it('rescales polygon points and keypoints, leaves classification alone', async () => {
      configure({ clientDownsizingDisabled: false });
      const original = await big();
      const segmentation = (await client.infer(original, 'shapes-seg/1')) as Result;
      const points = segmentation.predictions[0].points as Array<{ x: number; y: number }>;
      assert.ok(points.length > 0);
      for (const point of points) {
        assert.ok(point.x >= 196 && point.x <= 604 && point.y >= 96 && point.y <= 404, JSON.stringify(point));
      }
      const pose = (await client.infer(original, 'shapes-pose/1')) as Result;
      const keypoints = pose.predictions[0].keypoints as Array<{ x: number; y: number; class: string; confidence: number }>;
      const bottomRight = keypoints.find((point) => point.class === 'bottom_right');
      assert.ok(bottomRight);
      assertNear(bottomRight.x, 600, 'bottom_right.x');
      assertNear(bottomRight.y, 400, 'bottom_right.y');
      assert.equal(bottomRight.confidence, 0.7);

      const classification = (await client.infer(original, 'shapes-cls/1')) as Result & { top: string };
      const sent = await sharp(wireImage(simulator.requests('/infer/classification')[0])).metadata();
      assert.deepEqual([sent.width, sent.height], [224, 168]);
      assert.deepEqual(classification.image, { width: 1280, height: 960 });
      assert.equal(classification.top, 'red');
      assert.ok(!('x' in classification.predictions[0]));
    });

    it('v0 downsizes to defaultMaxInputSize', async () => {
      configure({ clientDownsizingDisabled: false, defaultMaxInputSize: 320 });
      const result = (await client.useApiV0(() => client.infer(image, 'shapes/1'))) as Result;
      const sent = await sharp(Buffer.from(simulator.log[0].body as string, 'base64')).metadata();
      assert.deepEqual([sent.width, sent.height], [320, 240]);
      assert.deepEqual(result.image, { width: 640, height: 480 });
      assertNear(result.predictions[0].x, 200, 'x');
    });
  });

  describe('v0', () => {
    it('posts the bare base64 body with legacy parameters in the query', async () => {
      configure({ confidenceThreshold: 0.5, iouThreshold: 0.4, visualizeLabels: true });
      const result = (await client.useApiV0(() => client.infer([image, image], 'shapes/1'))) as Result[];
      assert.equal(result.length, 2);
      assert.equal(simulator.log.length, 2);
      for (const request of simulator.log) {
        assert.equal(request.method, 'POST');
        assert.equal(request.path, '/shapes/1');
        assert.equal(request.rawQuery, `api_key=${API_KEY}&confidence=0.5&labels=true&overlap=0.4&disable_active_learning=false`);
        assert.equal(request.headers['content-type'], 'application/json');
        assert.equal(request.body, image.toString('base64'));
      }
    });

    it('de-aliases into the project/version path and checks its shape', async () => {
      await client.useApiV0(() => client.infer(image, 'yolov8n-640'));
      assert.equal(simulator.log[0].path, '/coco/3');
      await client.useApiV0(async () => {
        await assert.rejects(client.infer(image, 'invalid'), {
          name: 'InvalidModelIdentifier',
          message: 'Invalid model id: invalid. Expected format: project_id/model_version_id.',
        });
        await assert.rejects(client.infer(image, 'a/b/c'), InvalidModelIdentifier);
        await assert.rejects(client.infer(image), ModelNotSelectedError);
      });
    });

    it('needs an API key', async () => {
      const keyless = new InferenceHTTPClient(simulator.url);
      try {
        await assert.rejects(
          keyless.inferFromApiV0(image, 'shapes/1'),
          (error: unknown) => error instanceof APIKeyNotProvided && error.message === 'API key must be provided in this case',
        );
        assert.equal(simulator.log.length, 0);
      } finally {
        await keyless.close();
      }
    });

    it('places the key per transport: query (legacy), query and header (both), header only', async () => {
      const expectations = [
        ['legacy', `api_key=${API_KEY}&disable_active_learning=false`, undefined],
        ['both', `api_key=${API_KEY}&disable_active_learning=false`, `Bearer ${API_KEY}`],
        ['header', 'disable_active_learning=false', `Bearer ${API_KEY}`],
      ] as const;
      for (const [apiKeyTransport, query, authorization] of expectations) {
        configure({ apiKeyTransport });
        simulator.clearLog();
        await client.useApiV0(() => client.infer(image, 'shapes/1'));
        assert.equal(simulator.log[0].rawQuery, query, apiKeyTransport);
        assert.equal(simulator.log[0].headers.authorization, authorization, apiKeyTransport);
      }
    });

    it('returns the JPEG itself for format=image', async () => {
      configure({ format: 'image' });
      const result = (await client.useApiV0(() => client.infer(image, 'shapes/1'))) as { visualization: string };
      assert.deepEqual(Object.keys(result), ['visualization']);
      assert.equal((await sharp(Buffer.from(result.visualization, 'base64')).metadata()).format, 'jpeg');
    });
  });

  it('getServerInfo sends GET /info without key or Authorization', async () => {
    configure({ apiKeyTransport: 'both' });
    const info = await client.getServerInfo();
    assert.equal(info.name, 'Roboflow Inference Server');
    assert.equal(info.version, '1.5.0');
    assert.equal(typeof info.uuid, 'string');
    const [request] = simulator.log;
    assert.deepEqual([request.method, request.path, request.rawQuery, request.headers.authorization], ['GET', '/info', '', undefined]);
  });
});

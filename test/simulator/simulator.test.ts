import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import sharp from 'sharp';
import { Agent, FormData, request } from 'undici';
import { makeImage, standardImage } from '../fixtures/images';
import { type Simulator, startSimulator } from './index';

type Json = Record<string, any>;

interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  raw: Buffer;
}

async function call(
  simulator: Simulator,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<CallResult> {
  const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const response = await request(`${simulator.url}${route}`, {
    method,
    headers: payload === undefined || typeof body === 'string' || Buffer.isBuffer(body) ? headers : { 'content-type': 'application/json', ...headers },
    body: payload,
  });
  const raw = Buffer.from(await response.body.arrayBuffer());
  const contentType = String(response.headers['content-type'] ?? '');
  return {
    status: response.statusCode,
    headers: response.headers,
    raw,
    body: contentType.includes('json') ? JSON.parse(raw.toString('utf8')) : raw.toString('utf8'),
  };
}

const post = (simulator: Simulator, route: string, body?: unknown, headers?: Record<string, string>) =>
  call(simulator, 'POST', route, body, headers);

let standardBase64: string;
const image = () => ({ type: 'base64', value: standardBase64 });
/** The boxes of standardImage(): red 100,80 200x150 and blue 400,300 120x100, centre-based. */
const RED_BOX = { x: 200, y: 155, width: 200, height: 150 };
const BLUE_BOX = { x: 460, y: 350, width: 120, height: 100 };

function boxOf(prediction: Json) {
  return { x: prediction.x, y: prediction.y, width: prediction.width, height: prediction.height };
}

before(async () => {
  standardBase64 = (await standardImage()).toString('base64');
});

describe('simulator: server info and model registry', () => {
  let simulator: Simulator;
  before(async () => {
    simulator = await startSimulator();
  });
  after(() => simulator.stop());
  beforeEach(() => post(simulator, '/model/clear'));

  it('answers /info like inference 1.5', async () => {
    const { status, body } = await call(simulator, 'GET', '/info');
    assert.equal(status, 200);
    assert.equal(body.name, 'Roboflow Inference Server');
    assert.equal(body.version, '1.5.0');
    assert.match(body.uuid, /^[0-9a-f-]{36}$/);
  });

  it('starts with an empty registry whose body carries every field, nulls included', async () => {
    const { body } = await call(simulator, 'GET', '/model/registry?api_key=KEY');
    assert.deepEqual(body, {
      models: [],
      total_vram_bytes: null,
      gpu_memory_used: null,
      gpu_memory_total: null,
      torch_cuda_allocated: null,
      torch_cuda_reserved: null,
      torch_cuda_allocator_cache: null,
      non_torch_gpu_memory: null,
    });
  });

  it('loads, de-aliases, removes and clears models', async () => {
    const added = await post(simulator, '/model/add', { model_id: 'yolov8n-640', api_key: null });
    assert.equal(added.status, 200);
    assert.deepEqual(added.body.models, [
      {
        model_id: 'coco/3',
        task_type: 'object-detection',
        batch_size: null,
        input_height: 640,
        input_width: 640,
        vram_bytes: null,
        request_aliases: ['yolov8n-640'],
        request_paths: [],
      },
    ]);
    await post(simulator, '/model/add', { model_id: 'shapes-cls/1' });
    const removed = await post(simulator, '/model/remove', { model_id: 'yolov8n-640' });
    assert.deepEqual(
      removed.body.models.map((model: Json) => [model.model_id, model.input_width]),
      [['shapes-cls/1', 224]],
    );
    const cleared = await post(simulator, '/model/clear');
    assert.deepEqual(cleared.body.models, []);
  });

  it('rejects unknown and malformed model ids like the real server', async () => {
    const unknown = await post(simulator, '/model/add', { model_id: 'nope/1' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.message, /^Requested Roboflow resource not found\./);
    const malformed = await post(simulator, '/model/add', { model_id: 'a/b/c' });
    assert.deepEqual([malformed.status, malformed.body], [400, { message: 'Invalid Model ID sent in request.' }]);
    const missing = await post(simulator, '/model/add', {});
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.body.detail[0].loc, ['body', 'model_id']);
  });

  it('auto-loads a model on first inference', async () => {
    await post(simulator, '/infer/object_detection', { model_id: 'shapes/1', image: image() });
    const { body } = await call(simulator, 'GET', '/model/registry');
    assert.deepEqual(body.models[0].request_paths, ['/infer/object_detection']);
  });

  it('answers unknown paths with FastAPI 404 and wrong methods with 405', async () => {
    assert.deepEqual((await call(simulator, 'GET', '/no/such/route')).body, { detail: 'Not Found' });
    // Two-segment paths fall through to the legacy model route, as on the real server.
    assert.equal((await call(simulator, 'GET', '/model/clear')).status, 404);
    const wrongMethod = await call(simulator, 'GET', '/inference_pipelines/some-id/pause');
    assert.deepEqual([wrongMethod.status, wrongMethod.body], [405, { detail: 'Method Not Allowed' }]);
  });

  it('honours models, preloaded and serverVersion options', async () => {
    const custom = await startSimulator({
      models: [{ modelId: 'tiny/2', taskType: 'object-detection', inputWidth: 320, inputHeight: 320, classes: ['thing'], batchSize: 8 }],
      preloaded: ['tiny/2'],
      serverVersion: '1.2.0',
    });
    try {
      assert.equal((await call(custom, 'GET', '/info')).body.version, '1.2.0');
      const { body } = await call(custom, 'GET', '/model/registry');
      assert.deepEqual(
        body.models.map((model: Json) => [model.model_id, model.batch_size, model.input_width]),
        [['tiny/2', 8, 320]],
      );
      const inferred = await post(custom, '/infer/object_detection', { model_id: 'tiny/2', image: image() });
      assert.deepEqual(
        inferred.body.predictions.map((prediction: Json) => prediction.class),
        ['thing'],
      );
    } finally {
      await custom.stop();
    }
  });
});

describe('simulator: v1 inference routes', () => {
  let simulator: Simulator;
  before(async () => {
    simulator = await startSimulator();
  });
  after(() => simulator.stop());

  it('detects each coloured box with its own pixel coordinates, omitting nulls', async () => {
    const { status, body } = await post(simulator, '/infer/object_detection', { model_id: 'shapes/1', image: image() });
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body).sort(), ['image', 'inference_id', 'predictions', 'time']);
    assert.deepEqual(body.image, { width: 640, height: 480 });
    assert.deepEqual(
      body.predictions.map((prediction: Json) => [prediction.class, prediction.class_id, boxOf(prediction)]),
      [
        ['red', 0, RED_BOX],
        ['blue', 2, BLUE_BOX],
      ],
    );
    const [red] = body.predictions;
    assert.match(red.detection_id, /^[0-9a-f-]{36}$/);
    assert.equal(red.class_name, undefined);
    assert.ok(red.confidence > 0.9 && red.confidence <= 1);
  });

  it('applies confidence, class_filter and max_detections', async () => {
    const infer = async (extra: Json) =>
      (await post(simulator, '/infer/object_detection', { model_id: 'shapes/1', image: image(), ...extra })).body.predictions.map(
        (prediction: Json) => prediction.class,
      );
    assert.deepEqual(await infer({ confidence: 0.8 }), ['red']);
    assert.deepEqual(await infer({ class_filter: ['blue'] }), ['blue']);
    assert.deepEqual(await infer({ max_detections: 1 }), ['red']);
    assert.deepEqual(await infer({ confidence: 'best' }), ['red', 'blue']);
  });

  it('answers an image list with one response per image sharing one inference_id', async () => {
    const other = (await makeImage({ width: 320, height: 240, boxes: [{ colour: 'green', left: 10, top: 20, width: 30, height: 40 }] })).toString(
      'base64',
    );
    const { body } = await post(simulator, '/infer/object_detection', {
      model_id: 'shapes/1',
      image: [image(), { type: 'base64', value: `data:image/jpeg;base64,${other}` }],
    });
    assert.ok(Array.isArray(body));
    assert.equal(body.length, 2);
    assert.equal(body[0].inference_id, body[1].inference_id);
    assert.deepEqual(body[1].image, { width: 320, height: 240 });
    assert.deepEqual(boxOf(body[1].predictions[0]), { x: 25, y: 40, width: 30, height: 40 });
  });

  it('uses the request id as inference_id and resolves aliases', async () => {
    const { body, headers } = await post(simulator, '/infer/object_detection', { id: 'my-id', model_id: 'yolov8n-640', image: image() });
    assert.equal(body.inference_id, 'my-id');
    assert.equal(headers['x-model-id'], 'coco/3');
    assert.deepEqual(
      body.predictions.map((prediction: Json) => prediction.class),
      ['person', 'car'],
    );
  });

  it('returns a real JPEG visualisation when asked', async () => {
    const { body } = await post(simulator, '/infer/object_detection', { model_id: 'shapes/1', image: image(), visualize_predictions: true });
    const metadata = await sharp(Buffer.from(body.visualization, 'base64')).metadata();
    assert.deepEqual([metadata.format, metadata.width, metadata.height], ['jpeg', 640, 480]);
  });

  it('returns polygons or COCO RLE for instance segmentation', async () => {
    const polygon = await post(simulator, '/infer/instance_segmentation', { model_id: 'shapes-seg/1', image: image() });
    const red = polygon.body.predictions[0];
    assert.equal(red.mask_format, 'polygon');
    assert.deepEqual(red.points, [
      { x: 100, y: 80 },
      { x: 300, y: 80 },
      { x: 300, y: 230 },
      { x: 100, y: 230 },
    ]);
    const rle = await post(simulator, '/infer/instance_segmentation', {
      model_id: 'shapes-seg/1',
      image: image(),
      response_mask_format: 'rle',
    });
    assert.equal(rle.body.predictions[0].mask_format, 'rle');
    assert.deepEqual(rle.body.predictions[0].rle.size, [480, 640]);
    assert.equal(typeof rle.body.predictions[0].rle.counts, 'string');
    assert.equal(rle.body.predictions[0].points, undefined);
  });

  it('returns corner and centre keypoints, filtered by keypoint_confidence', async () => {
    const all = await post(simulator, '/infer/keypoints_detection', { model_id: 'shapes-pose/1', image: image() });
    assert.deepEqual(
      all.body.predictions[0].keypoints.map((point: Json) => [point.class, point.x, point.y]),
      [
        ['top_left', 100, 80],
        ['top_right', 300, 80],
        ['bottom_right', 300, 230],
        ['bottom_left', 100, 230],
        ['centre', 200, 155],
      ],
    );
    const confident = await post(simulator, '/infer/keypoints_detection', {
      model_id: 'shapes-pose/1',
      image: image(),
      keypoint_confidence: 0.85,
    });
    assert.deepEqual(
      confident.body.predictions[0].keypoints.map((point: Json) => point.class),
      ['top_left', 'centre'],
    );
    const best = await post(simulator, '/infer/keypoints_detection', { model_id: 'shapes-pose/1', image: image(), confidence: 'best' });
    assert.equal(best.status, 422);
  });

  it('classifies by dominant colour, single- and multi-label', async () => {
    const single = await post(simulator, '/infer/classification', { model_id: 'shapes-cls/1', image: image() });
    assert.equal(single.body.top, 'red');
    assert.equal(single.body.predictions[0].class, 'red');
    assert.equal(single.body.confidence, single.body.predictions[0].confidence);
    const multi = await post(simulator, '/infer/classification', { model_id: 'shapes-multi/1', image: image() });
    assert.deepEqual(multi.body.predicted_classes, ['red', 'blue']);
    assert.deepEqual(Object.keys(multi.body.predictions), ['red', 'green', 'blue', 'yellow']);
    assert.equal(multi.body.predictions.blue.class_id, 2);
  });

  it('serves semantic segmentation masks as PNGs', async () => {
    const { body } = await post(simulator, '/infer/semantic_segmentation', { model_id: 'shapes-sem/1', image: image() });
    assert.deepEqual(body.predictions.present_class_ids, [1, 3]);
    assert.equal(body.predictions.class_map['1'], 'red');
    const { data, info } = await sharp(Buffer.from(body.predictions.segmentation_mask, 'base64'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.equal(data[(155 * info.width + 200) * info.channels], 1);
    assert.equal(data[0], 0);
  });

  it('answers for a stub model (version 0) without predictions', async () => {
    const { body } = await post(simulator, '/infer/object_detection', { model_id: 'shapes/0', image: image() });
    assert.deepEqual(
      { ...body, time: 0, inference_id: '' },
      { time: 0, is_stub: true, model_id: 'shapes/0', task_type: 'object-detection', inference_id: '' },
    );
  });

  it('refuses a model whose task does not match the route', async () => {
    const { status, body } = await post(simulator, '/infer/classification', { model_id: 'shapes/1', image: image() });
    assert.equal(status, 400);
    assert.match(body.message, /object-detection/);
  });

  it('validates bodies with FastAPI 422 details', async () => {
    const missing = await post(simulator, '/infer/object_detection', { model_id: 'shapes/1' });
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.body.detail, [
      { type: 'missing', loc: ['body', 'image'], msg: 'Field required', input: { model_id: 'shapes/1' } },
    ]);
    const noModel = await post(simulator, '/infer/object_detection', { image: image() });
    assert.deepEqual(noModel.body.detail[0].loc, ['body', 'model_id']);
    const wrongType = await post(simulator, '/infer/object_detection', { model_id: 'shapes/1', image: image(), visualize_predictions: 'maybe' });
    assert.equal(wrongType.status, 422);
    assert.deepEqual(wrongType.body.detail[0].loc, ['body', 'visualize_predictions']);
    const notJson = await post(simulator, '/infer/object_detection', '{"model_id":', { 'content-type': 'application/json' });
    assert.equal(notJson.status, 422);
    assert.equal(notJson.body.detail[0].type, 'json_invalid');
  });

  it('answers unusable images with 400 messages', async () => {
    const garbage = await post(simulator, '/infer/object_detection', { model_id: 'shapes/1', image: { type: 'base64', value: 'aGVsbG8=' } });
    assert.equal(garbage.status, 400);
    assert.match(garbage.body.message, /^Could not load input image\. Cause: /);
    const badType = await post(simulator, '/infer/object_detection', { model_id: 'shapes/1', image: { type: 'bmp', value: 'x' } });
    assert.deepEqual(badType.body, { message: 'Image declaration contains not recognised image type.' });
    const httpUrl = await post(simulator, '/infer/object_detection', { model_id: 'shapes/1', image: { type: 'url', value: 'http://x/a.jpg' } });
    assert.equal(httpUrl.status, 400);
    assert.match(httpUrl.body.message, /non https/);
  });
});

describe('simulator: legacy v0 route', () => {
  let simulator: Simulator;
  before(async () => {
    simulator = await startSimulator();
  });
  after(() => simulator.stop());

  const v0 = (query: string, body: string | Buffer = standardBase64, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    post(simulator, `/shapes/1?api_key=KEY${query}`, body, headers);

  it('infers from a bare base64 body, reading confidence >= 1 as a percentage', async () => {
    const { status, body } = await v0('&confidence=80');
    assert.equal(status, 200);
    assert.deepEqual(
      body.predictions.map((prediction: Json) => [prediction.class, boxOf(prediction)]),
      [['red', RED_BOX]],
    );
  });

  it('returns raw JPEG for format=image and JSON with visualization for image_and_json', async () => {
    const jpeg = await v0('&format=image');
    assert.equal(jpeg.headers['content-type'], 'image/jpeg');
    assert.equal((await sharp(jpeg.raw).metadata()).format, 'jpeg');
    const both = await v0('&format=image_and_json');
    assert.equal(typeof both.body.visualization, 'string');
    assert.equal(both.body.predictions.length, 2);
  });

  it('accepts multipart uploads in the `file` field', async () => {
    const form = new FormData();
    form.append('file', new Blob([await standardImage()]), 'image.jpg');
    const response = await request(`${simulator.url}/shapes/1`, { method: 'POST', body: form });
    const body = (await response.body.json()) as Json;
    assert.equal(response.statusCode, 200);
    assert.equal(body.predictions.length, 2);
  });

  it('rejects a missing Content-Type, raw binary and empty bodies with 400', async () => {
    const noType = await v0('', standardBase64, {});
    assert.deepEqual([noType.status, noType.body], [400, { message: 'Content-Type header not provided with request.' }]);
    assert.equal((await v0('', await standardImage())).status, 400);
    assert.equal((await v0('', '')).status, 400);
  });

  it('needs a service secret to skip inference counting', async () => {
    const refused = await v0('&countinference=false');
    assert.deepEqual([refused.status, refused.body], [500, { message: 'Service misconfiguration.' }]);
    assert.equal((await v0('&countinference=false&service_secret=s')).status, 200);
  });

  it('answers unknown models with 404', async () => {
    assert.equal((await post(simulator, '/nope/1', standardBase64, { 'content-type': 'application/json' })).status, 404);
  });
});

describe('simulator: core models', () => {
  let simulator: Simulator;
  before(async () => {
    simulator = await startSimulator();
  });
  after(() => simulator.stop());

  it('embeds images and texts as 512-float CLIP vectors, nulls included', async () => {
    const images = await post(simulator, '/clip/embed_image', { image: [image(), image()] });
    assert.equal(images.body.frame_id, null);
    assert.equal(images.body.embeddings.length, 2);
    assert.equal(images.body.embeddings[0].length, 512);
    assert.deepEqual(images.body.embeddings[0], images.body.embeddings[1]);
    const texts = await post(simulator, '/clip/embed_text', { text: ['red', 'blue', 'dog'] });
    assert.equal(texts.body.embeddings.length, 3);
    const pe = await post(simulator, '/perception_encoder/embed_text', { text: 'red' });
    assert.equal(pe.body.embeddings[0].length, 1024);
  });

  it('ranks the prompt naming the dominant colour highest, for every subject/prompt combination', async () => {
    const imageText = await post(simulator, '/clip/compare', { subject: image(), prompt: ['a blue box', 'a red box', 'a dog'] });
    const [blue, red, dog] = imageText.body.similarity;
    assert.ok(red > blue && blue > dog, JSON.stringify(imageText.body.similarity));
    assert.equal(imageText.body.parent_id, null);
    const textText = await post(simulator, '/clip/compare', {
      subject: 'red',
      subject_type: 'text',
      prompt: { same: 'a red thing', other: 'green' },
    });
    assert.ok(textText.body.similarity.same > textText.body.similarity.other);
    const imageImage = await post(simulator, '/clip/compare', { subject: image(), prompt: [image()], prompt_type: 'image' });
    assert.ok(Math.abs(imageImage.body.similarity[0] - 1) < 1e-3);
    const textImage = await post(simulator, '/clip/compare', { subject: 'red', subject_type: 'text', prompt: image(), prompt_type: 'image' });
    assert.equal(textImage.body.similarity.length, 1);
    const unknownType = await post(simulator, '/clip/compare', { subject: 'red', subject_type: 'audio', prompt: 'x' });
    assert.equal(unknownType.status, 422);
    assert.equal(unknownType.body.detail[0].type, 'literal_error');
  });

  it('reads colours as OCR text, with boxes when asked', async () => {
    const plain = await post(simulator, '/doctr/ocr', { image: image() });
    assert.deepEqual(Object.keys(plain.body).sort(), ['parent_id', 'result', 'time']);
    assert.equal(plain.body.result, 'RED BLUE');
    assert.equal(plain.body.parent_id, null);
    const boxed = await post(simulator, '/doctr/ocr', { image: [image()], generate_bounding_boxes: true });
    assert.deepEqual(
      boxed.body[0].predictions.map((prediction: Json) => [prediction.class, boxOf(prediction)]),
      [
        ['RED', RED_BOX],
        ['BLUE', BLUE_BOX],
      ],
    );
    for (const route of ['/easy_ocr/ocr', '/ocr/trocr', '/ocr/pp-ocr']) {
      assert.equal((await post(simulator, route, { image: image() })).body.result, 'RED BLUE', route);
    }
    assert.equal((await post(simulator, '/ocr/pp-ocr', { image: image(), pp_ocr_version_id: 'none-none' })).status, 400);
  });

  it('answers gaze with 410 FeatureDeprecatedError, or the old shape on a legacy server', async () => {
    const gone = await post(simulator, '/gaze/gaze_detection', { image: image() });
    assert.equal(gone.status, 410);
    assert.equal(gone.body.error_type, 'FeatureDeprecatedError');
    assert.equal(gone.body.feature, '/gaze/gaze_detection');
    assert.equal(gone.body.replacement, null);
    const legacy = await startSimulator({ legacyGaze: true });
    try {
      const { body } = await post(legacy, '/gaze/gaze_detection', { image: image() });
      assert.ok(Array.isArray(body));
      assert.equal(body[0].predictions[0].face.class, 'face');
      assert.equal(typeof body[0].predictions[0].yaw, 'number');
      assert.equal(typeof body[0].time_gaze_det, 'number');
    } finally {
      await legacy.stop();
    }
  });

  it('finds YOLO-World classes that name a colour', async () => {
    const { body } = await post(simulator, '/yolo_world/infer', { image: image(), text: ['dog', 'blue thing'] });
    assert.deepEqual(
      body.predictions.map((prediction: Json) => [prediction.class, prediction.class_id, boxOf(prediction)]),
      [['blue thing', 1, BLUE_BOX]],
    );
    assert.equal((await post(simulator, '/yolo_world/infer', { image: image() })).status, 422);
  });

  it('describes the image for LMM prompts, with the model id in body or path', async () => {
    const inPath = await post(simulator, '/infer/lmm/moondream2/moondream2_2b_jul24', { image: image(), prompt: 'What?' });
    assert.equal(inPath.body.response, 'The image shows a red box and a blue box.');
    assert.deepEqual(inPath.body.image, { width: 640, height: 480 });
    const batch = await post(simulator, '/infer/lmm', { model_id: 'florence-2-base', image: [image(), image()] });
    assert.equal(batch.body.length, 2);
    assert.equal((await post(simulator, '/infer/lmm', { image: image() })).status, 422);
  });

  it('serves the same depth map as JSON, PNG8 and PNG16', async () => {
    const depth = (format: string) =>
      post(simulator, '/infer/depth-estimation/depth-anything-v3/small', {
        model_id: 'depth-anything-v3/small',
        image: image(),
        depth_map_format: format,
      });
    const json = (await depth('json')).body;
    assert.equal(json.depth_map_format, 'json');
    assert.equal(json.normalized_depth.length, 480);
    assert.equal(json.normalized_depth[155][200], 1);
    const decode = async (format: string, depthName: 'uchar' | 'ushort') => {
      const png = Buffer.from((await depth(format)).body.normalized_depth, 'base64');
      const { data, info } = await sharp(png)
        .toColourspace(depthName === 'ushort' ? 'grey16' : 'b-w')
        .raw({ depth: depthName })
        .toBuffer({ resolveWithObject: true });
      assert.equal(info.channels, 1);
      return depthName === 'ushort' ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2) : data;
    };
    const png16 = await decode('png16', 'ushort');
    const png8 = await decode('png8', 'uchar');
    for (const [x, y] of [
      [0, 0],
      [200, 155],
      [639, 479],
    ]) {
      assert.ok(Math.abs(png16[y * 640 + x] / 65535 - json.normalized_depth[y][x]) <= 1e-4);
      assert.ok(Math.abs(png8[y * 640 + x] / 255 - json.normalized_depth[y][x]) <= 1 / 255);
    }
    const mismatch = await post(simulator, '/infer/depth-estimation/a', { model_id: 'b', image: image() });
    assert.equal(mismatch.status, 400);
  });

  it('segments the region a SAM prompt touches', async () => {
    const sam2 = await post(simulator, '/sam2/segment_image', {
      image: image(),
      prompts: { prompts: [{ points: [{ x: 450, y: 340, positive: true }] }] },
    });
    assert.deepEqual(sam2.body.predictions[0].masks, [
      [
        [400, 300],
        [520, 300],
        [520, 400],
        [400, 400],
      ],
    ]);
    const concept = await post(simulator, '/sam3/concept_segment', { image: image(), prompts: [{ type: 'text', text: 'red' }] });
    assert.equal(concept.body.prompt_results[0].predictions.length, 1);
    assert.equal((await post(simulator, '/sam3/concept_segment', { image: image() })).status, 422);
    const embedded = await post(simulator, '/sam3/embed_image', { image: image(), image_id: 'abc' });
    assert.equal(embedded.body.image_id, 'abc');
    const mesh = await post(simulator, '/sam3_3d/infer', { image: image(), mask_input: [] });
    assert.equal(Buffer.from(mesh.body.mesh_glb, 'base64').subarray(0, 4).toString(), 'glTF');
    assert.equal(mesh.body.objects.length, 2);
  });
});

describe('simulator: workflows', () => {
  let simulator: Simulator;
  before(async () => {
    simulator = await startSimulator();
  });
  after(() => simulator.stop());

  const SPECIFICATION = {
    version: '1.0',
    inputs: [
      { type: 'WorkflowImage', name: 'image' },
      { type: 'WorkflowParameter', name: 'threshold', default_value: 0.4 },
    ],
    steps: [
      {
        type: 'roboflow_core/roboflow_object_detection_model@v2',
        name: 'model',
        images: '$inputs.image',
        model_id: 'shapes/1',
        confidence: '$inputs.threshold',
      },
    ],
    outputs: [
      { type: 'JsonField', name: 'predictions', selector: '$steps.model.predictions' },
      { type: 'JsonField', name: 'picture', selector: '$inputs.image' },
    ],
  };

  it('runs a seeded named workflow on both routes', async () => {
    for (const route of ['/demo/workflows/detect-shapes', '/infer/workflows/demo/detect-shapes']) {
      const { status, body } = await post(simulator, route, { api_key: 'KEY', inputs: { image: image() }, use_cache: true, enable_profiling: false });
      assert.equal(status, 200, route);
      assert.equal(body.outputs.length, 1);
      assert.equal(body.outputs[0].count, 2);
      assert.deepEqual(body.outputs[0].predictions.image, { width: 640, height: 480 });
      assert.deepEqual(boxOf(body.outputs[0].predictions.predictions[0]), RED_BOX);
      assert.equal(body.profiler_trace, undefined);
    }
    assert.equal((await post(simulator, '/demo/workflows/unknown', { inputs: {} })).status, 404);
  });

  it('runs an inline specification per batch element, with parameters, exclusions and profiling', async () => {
    for (const route of ['/workflows/run', '/infer/workflows']) {
      const { body } = await post(simulator, route, {
        specification: SPECIFICATION,
        inputs: { image: [image(), image()], threshold: 0.8 },
        excluded_fields: ['picture'],
        enable_profiling: true,
      });
      assert.equal(body.outputs.length, 2, route);
      assert.deepEqual(Object.keys(body.outputs[1]), ['predictions']);
      assert.deepEqual(
        body.outputs[1].predictions.predictions.map((prediction: Json) => prediction.class),
        ['red'],
      );
      assert.ok(Array.isArray(body.profiler_trace) && body.profiler_trace.length > 0);
    }
  });

  it('serialises image outputs as base64 workflow images', async () => {
    const { body } = await post(simulator, '/workflows/run', { specification: SPECIFICATION, inputs: { image: image() } });
    const picture = body.outputs[0].picture;
    assert.equal(picture.type, 'base64');
    assert.equal(picture.video_metadata.video_identifier, 'image');
    assert.equal((await sharp(Buffer.from(picture.value, 'base64')).metadata()).width, 640);
  });

  it('reports workflow errors with the workflow error body', async () => {
    const malformed = await post(simulator, '/workflows/run', { specification: { steps: 'nope' }, inputs: {} });
    assert.equal(malformed.status, 400);
    assert.deepEqual(Object.keys(malformed.body).sort(), ['context', 'error_type', 'inner_error_message', 'inner_error_type', 'message']);
    const missingInput = await post(simulator, '/workflows/run', { specification: SPECIFICATION, inputs: {} });
    assert.equal(missingInput.status, 400);
    assert.equal(missingInput.body.error_type, 'RuntimeInputError');
    const noInputs = await post(simulator, '/workflows/run', { specification: SPECIFICATION });
    assert.equal(noInputs.status, 422);
    assert.deepEqual(noInputs.body.detail[0].loc, ['body', 'inputs']);
  });

  it('describes interfaces (key required) and blocks', async () => {
    assert.equal((await post(simulator, '/workflows/describe_interface', { specification: SPECIFICATION })).status, 400);
    const inline = await post(simulator, '/workflows/describe_interface', { api_key: 'KEY', specification: SPECIFICATION });
    assert.deepEqual(inline.body.inputs.image, ['image']);
    assert.deepEqual(inline.body.outputs.predictions, ['object_detection_prediction']);
    assert.equal(typeof inline.body.typing_hints, 'object');
    assert.equal(typeof inline.body.kinds_schemas, 'object');
    const named = await post(simulator, '/demo/workflows/detect-shapes/describe_interface', {}, { authorization: 'Bearer KEY' });
    assert.deepEqual(Object.keys(named.body.inputs), ['image', 'model_id', 'confidence']);
    for (const method of ['GET', 'POST'] as const) {
      const blocks = await call(simulator, method, '/workflows/blocks/describe', method === 'POST' ? {} : undefined);
      assert.ok(blocks.body.blocks.length > 0, method);
    }
  });
});

describe('simulator: inference pipelines', () => {
  let simulator: Simulator;
  before(async () => {
    simulator = await startSimulator();
  });
  after(() => simulator.stop());

  it('initialises, runs, pauses, resumes and terminates a pipeline', async () => {
    const started = await post(simulator, '/inference_pipelines/initialise', {
      api_key: 'KEY',
      video_configuration: { type: 'VideoConfiguration', video_reference: 'rtsp://camera/1' },
      processing_configuration: { type: 'WorkflowConfiguration', workspace_name: 'demo', workflow_id: 'detect-shapes', image_input_name: 'image' },
      sink_configuration: { type: 'MemorySinkConfiguration', results_buffer_size: 64 },
    });
    assert.equal(started.body.status, 'success');
    const id = started.body.context.pipeline_id;
    assert.deepEqual((await call(simulator, 'GET', '/inference_pipelines/list', { api_key: 'KEY' })).body.pipelines, [id]);
    const consumed = await call(simulator, 'GET', `/inference_pipelines/${id}/consume`, { api_key: 'KEY', excluded_fields: ['count'] });
    assert.equal(consumed.body.outputs.length, 1);
    assert.deepEqual(Object.keys(consumed.body.outputs[0]), ['predictions']);
    assert.equal(consumed.body.frames_metadata[0].frame_id, 1);
    await post(simulator, `/inference_pipelines/${id}/pause`, { api_key: 'KEY' });
    assert.equal((await call(simulator, 'GET', `/inference_pipelines/${id}/status`, {})).body.report.state, 'PAUSED');
    assert.deepEqual((await call(simulator, 'GET', `/inference_pipelines/${id}/consume`, {})).body.outputs, []);
    await post(simulator, `/inference_pipelines/${id}/resume`, {});
    assert.equal((await call(simulator, 'GET', `/inference_pipelines/${id}/consume`, {})).body.frames_metadata[0].frame_id, 2);
    await post(simulator, `/inference_pipelines/${id}/terminate`, {});
    assert.equal((await call(simulator, 'GET', `/inference_pipelines/${id}/status`, {})).status, 404);
    assert.equal((await post(simulator, '/inference_pipelines/unknown/pause', {})).status, 404);
  });
});

describe('simulator: request log', () => {
  let simulator: Simulator;
  before(async () => {
    simulator = await startSimulator();
  });
  after(() => simulator.stop());
  beforeEach(() => simulator.clearLog());

  it('records method, path, query, lower-case headers, parsed body, times and status', async () => {
    await post(simulator, '/model/add?countinference=False&a=1&a=2', { model_id: 'shapes/1' }, { 'X-Custom': 'Yes' });
    const [entry] = simulator.log;
    assert.equal(entry.method, 'POST');
    assert.equal(entry.path, '/model/add');
    assert.equal(entry.rawQuery, 'countinference=False&a=1&a=2');
    assert.deepEqual(entry.query, { countinference: 'False', a: ['1', '2'] });
    assert.equal(entry.headers['x-custom'], 'Yes');
    assert.deepEqual(entry.body, { model_id: 'shapes/1' });
    assert.equal(entry.status, 200);
    assert.ok(entry.respondedAt !== undefined && entry.respondedAt >= entry.receivedAt);
  });

  it('keeps non-JSON bodies as text and empty bodies as undefined', async () => {
    await post(simulator, '/shapes/1', standardBase64, { 'content-type': 'application/json' });
    await post(simulator, '/model/clear');
    assert.equal(simulator.log[0].body, standardBase64);
    assert.equal(simulator.log[1].body, undefined);
    assert.deepEqual(
      simulator.requests('/model').map((entry) => entry.path),
      ['/model/clear'],
    );
  });
});

describe('simulator: faults', () => {
  let simulator: Simulator;
  before(async () => {
    simulator = await startSimulator();
  });
  after(() => simulator.stop());
  afterEach(() => simulator.clearFaults());

  const info = (options: { bodyTimeout?: number; headersTimeout?: number } = {}) =>
    request(`${simulator.url}/info`, { ...options, dispatcher: new Agent({ pipelining: 0 }) });

  it('returns a status with Retry-After for the next N requests only', async () => {
    simulator.inject({ route: '/info', status: 503, retryAfter: 2, count: 2 });
    for (let attempt = 0; attempt < 2; attempt++) {
      const { status, headers, body } = await call(simulator, 'GET', '/info');
      assert.equal(status, 503);
      assert.equal(headers['retry-after'], '2');
      assert.equal(typeof body.message, 'string');
    }
    assert.equal((await call(simulator, 'GET', '/info')).status, 200);
  });

  it('matches routes by exact path, prefix and RegExp, with custom bodies', async () => {
    simulator.inject({ route: '/model/*', status: 500, body: { detail: 'boom' }, count: Infinity });
    assert.deepEqual((await post(simulator, '/model/clear')).body, { detail: 'boom' });
    assert.equal((await post(simulator, '/model/clear')).status, 500);
    assert.equal((await call(simulator, 'GET', '/info')).status, 200);
    simulator.clearFaults();
    simulator.inject({ route: /^\/inf/, status: 429 });
    assert.equal((await call(simulator, 'GET', '/info')).status, 429);
  });

  it('resets the connection', async () => {
    simulator.inject({ kind: 'reset' });
    await assert.rejects(info(), (error: Error & { code?: string }) => error.code === 'UND_ERR_SOCKET');
  });

  it('sends malformed JSON, an HTML page with 200, and the wrong content type', async () => {
    simulator.inject({ kind: 'malformed-json' });
    const malformed = await info();
    assert.equal(malformed.headers['content-type'], 'application/json');
    await assert.rejects(malformed.body.json());
    simulator.inject({ kind: 'html-200' });
    const html = await call(simulator, 'GET', '/info');
    assert.equal(html.status, 200);
    assert.match(String(html.headers['content-type']), /text\/html/);
    simulator.inject({ kind: 'wrong-content-type' });
    const wrong = await call(simulator, 'GET', '/info');
    assert.match(String(wrong.headers['content-type']), /text\/plain/);
    assert.equal(JSON.parse(wrong.body).name, 'Roboflow Inference Server');
  });

  it('truncates the JSON body by dropping the connection', async () => {
    simulator.inject({ kind: 'truncated-json' });
    const response = await info();
    await assert.rejects(response.body.text());
  });

  it('stalls the body after the headers, and sends no response at all', async () => {
    simulator.inject({ kind: 'stall-body' });
    const stalled = await info({ bodyTimeout: 200 });
    assert.equal(stalled.statusCode, 200);
    await assert.rejects(stalled.body.text(), (error: Error & { code?: string }) => error.code === 'UND_ERR_BODY_TIMEOUT');
    simulator.inject({ kind: 'no-response' });
    await assert.rejects(info({ headersTimeout: 200 }), (error: Error & { code?: string }) => error.code === 'UND_ERR_HEADERS_TIMEOUT');
  });

  it('dribbles a slow body that still arrives whole', async () => {
    simulator.inject({ kind: 'slow-body' });
    const body = (await (await info()).body.json()) as Json;
    assert.equal(body.name, 'Roboflow Inference Server');
  });

  it('sends a 50 MB JSON body', async () => {
    simulator.inject({ kind: 'huge-body' });
    const response = await info();
    let bytes = 0;
    for await (const chunk of response.body) bytes += (chunk as Buffer).length;
    assert.ok(bytes >= 50 * 1024 * 1024);
  });

  it('adds per-fault and global latency before answering normally', async () => {
    simulator.inject({ route: '/info', latencyMs: 120 });
    simulator.clearLog();
    assert.equal((await call(simulator, 'GET', '/info')).status, 200);
    simulator.setLatency(80);
    await call(simulator, 'GET', '/info');
    simulator.setLatency(0);
    const [withFault, withGlobal] = simulator.log.map((entry) => (entry.respondedAt ?? 0) - entry.receivedAt);
    // Lower bounds only: the delay is a minimum the simulator guarantees, not a performance claim.
    assert.ok(withFault >= 115, String(withFault));
    assert.ok(withGlobal >= 75, String(withGlobal));
  });

  it('stops promptly even with a request left hanging', async () => {
    const hanging = await startSimulator();
    hanging.inject({ kind: 'no-response' });
    const pending = request(`${hanging.url}/info`).catch((error: Error) => error);
    while (hanging.log.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await hanging.stop();
    assert.ok((await pending) instanceof Error);
  });
});

describe('simulator: CLI', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('listens on the given port, logs one line per request without query strings, and stops on SIGTERM', async () => {
    const cli = path.join(__dirname, 'cli.ts');
    child = spawn(process.execPath, ['--require', 'tsx/cjs', cli, '--port', '0', '--latency', '1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    while (!/listening on (http:\/\/127\.0\.0\.1:\d+)/.test(output)) await once(child.stdout!, 'data');
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1];
    const response = await request(`${url}/model/registry?api_key=SECRET-KEY`);
    assert.equal(response.statusCode, 200);
    await response.body.dump();
    while (!output.includes('GET /model/registry 200')) await once(child.stdout!, 'data');
    assert.ok(!output.includes('SECRET-KEY'));
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });
});

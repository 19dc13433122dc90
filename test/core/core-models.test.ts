import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  FeatureDeprecatedError,
  HTTPCallErrorError,
  HTTPClientError,
  InferenceHTTPClient,
  InvalidParameterError,
  WrongClientModeError,
} from '../../src/core';
import { decodeDepthMap } from '../../src/core/coreModels';
import type { DepthEstimationResult, DepthMap } from '../../src/core/coreModels';
import { makeImage, standardImage } from '../fixtures/images';
import { startSimulator } from '../simulator';
import { useSimulatorClient, wire } from './simulatorSuite';

const KEY = 'core-models-key-0123456789';

describe('core models', () => {
  const suite = useSimulatorClient(KEY);
  const { configure, only } = suite;
  let image: Buffer;
  let otherImage: Buffer;

  before(async () => {
    image = await standardImage();
    otherImage = await makeImage({ width: 320, height: 240, boxes: [{ colour: 'green', left: 10, top: 20, width: 50, height: 40 }] });
  });


  describe('OCR', () => {
    it('sends DocTR by default with the key in the body (v1) and returns the text', async () => {
      const result = await suite.client.ocrImage(image);
      const request = only('/doctr/ocr');
      assert.equal(request.method, 'POST');
      assert.equal(request.rawQuery, '');
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(request.headers.authorization, undefined);
      assert.deepEqual(request.body, { api_key: KEY, image: wire(image) });
      assert.ok(!Array.isArray(result));
      assert.equal(result.result, 'RED BLUE');
    });

    it('maps each model (case-insensitive) to its route and <model>_version_id', async () => {
      await suite.client.ocrImage(image, { model: 'TrOCR', version: 'trocr-small-printed' });
      await suite.client.ocrImage(image, { model: 'pp_ocr', version: 'small-none' });
      await suite.client.ocrImage(image, { model: 'easy_ocr', version: 'english_g2', quantize: true, languageCodes: ['en', 'de'] });
      await suite.client.ocrImage(image, { model: 'doctr', generateBoundingBoxes: true });
      assert.deepEqual(only('/ocr/trocr').body, { api_key: KEY, trocr_version_id: 'trocr-small-printed', image: wire(image) });
      assert.deepEqual(only('/ocr/pp-ocr').body, { api_key: KEY, pp_ocr_version_id: 'small-none', image: wire(image) });
      const easy = only('/easy_ocr/ocr').body as Record<string, unknown>;
      assert.deepEqual(Object.keys(easy), ['api_key', 'easy_ocr_version_id', 'quantize', 'language_codes', 'image']);
      assert.deepEqual(easy, {
        api_key: KEY,
        easy_ocr_version_id: 'english_g2',
        quantize: true,
        language_codes: ['en', 'de'],
        image: wire(image),
      });
      assert.deepEqual(only('/doctr/ocr').body, { api_key: KEY, generate_bounding_boxes: true, image: wire(image) });
    });

    it('refuses an unknown OCR model without sending anything', async () => {
      await assert.rejects(suite.client.ocrImage(image, { model: 'tesseract' }), (error: Error) => {
        assert.ok(error instanceof InvalidParameterError);
        assert.equal(error.message, 'OCR not supported: tesseract');
        return true;
      });
      assert.equal(suite.simulator.log.length, 0);
    });

    it('sends one image per request whatever maxBatchSize says, results in input order', async () => {
      configure({ maxBatchSize: 8, maxConcurrentRequests: 2 });
      const results = await suite.client.ocrImage([image, otherImage]);
      const requests = suite.simulator.requests('/doctr/ocr');
      assert.equal(requests.length, 2);
      const sentImages = requests.map((request) => (request.body as { image: unknown }).image);
      assert.deepEqual(new Set(sentImages.map((sent) => JSON.stringify(sent))), new Set([wire(image), wire(otherImage)].map((sent) => JSON.stringify(sent))));
      assert.ok(Array.isArray(results));
      assert.deepEqual(results.map((result) => result.result), ['RED BLUE', 'GREEN']);
    });

    it('puts the key in the URL in v0 mode and nowhere but the header in header transport', async () => {
      await suite.client.useApiV0(() => suite.client.ocrImage(image));
      const v0 = only('/doctr/ocr');
      assert.deepEqual(v0.query, { api_key: KEY });
      assert.deepEqual(v0.body, { image: wire(image) });
      assert.equal(v0.headers.authorization, undefined);

      suite.simulator.clearLog();
      configure({ apiKeyTransport: 'header' });
      await suite.client.useApiV0(() => suite.client.ocrImage(image));
      const header = only('/doctr/ocr');
      assert.equal(header.rawQuery, '');
      assert.deepEqual(header.body, { image: wire(image) });
      assert.equal(header.headers.authorization, `Bearer ${KEY}`);
    });

    it('sends the key in both body and header in both transport (v1)', async () => {
      configure({ apiKeyTransport: 'both' });
      await suite.client.ocrImage(image);
      const request = only('/doctr/ocr');
      assert.deepEqual(request.body, { api_key: KEY, image: wire(image) });
      assert.equal(request.headers.authorization, `Bearer ${KEY}`);
    });

    it('retries a 503 and wraps a 500 as HTTPCallErrorError', async () => {
      suite.simulator.inject({ route: '/doctr/ocr', status: 503, count: 1 });
      const result = await suite.client.ocrImage(image);
      assert.equal(suite.simulator.requests('/doctr/ocr').length, 2);
      assert.ok(!Array.isArray(result) && typeof result.result === 'string');

      suite.simulator.clearLog();
      suite.simulator.inject({ route: '/doctr/ocr', status: 500, body: { message: 'Internal error.' } });
      await assert.rejects(suite.client.ocrImage(image), (error: Error) => {
        assert.ok(error instanceof HTTPCallErrorError);
        assert.equal(error.statusCode, 500);
        assert.equal(error.apiMessage, 'Internal error.');
        return true;
      });
      assert.equal(suite.simulator.requests('/doctr/ocr').length, 1);
    });
  });

  it('stops a call whose signal is aborted, before anything is sent', async () => {
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    await assert.rejects(suite.client.ocrImage(image, {}, { signal: controller.signal }), /caller gave up/);
    await assert.rejects(suite.client.getClipTextEmbeddings('x', undefined, { signal: controller.signal }), /caller gave up/);
    assert.equal(suite.simulator.log.length, 0);
  });

  describe('CLIP', () => {
    it('embeds one image with the key in the body and returns the response whole', async () => {
      const result = await suite.client.getClipImageEmbeddings(image);
      assert.deepEqual(only('/clip/embed_image').body, { api_key: KEY, image: wire(image) });
      assert.ok(!Array.isArray(result));
      assert.equal(result.embeddings.length, 1);
      assert.ok(result.embeddings[0].length > 0);
    });

    it('puts the key in the URL in v0 mode and sends clip_version_id', async () => {
      await suite.client.useApiV0(() => suite.client.getClipImageEmbeddings(image, 'ViT-B-32'));
      const request = only('/clip/embed_image');
      assert.deepEqual(request.query, { api_key: KEY });
      assert.deepEqual(request.body, { clip_version_id: 'ViT-B-32', image: wire(image) });
    });

    it('batches by maxBatchSize and splits multi-vector responses into one entry per image', async () => {
      configure({ maxBatchSize: 2 });
      const third = await makeImage({ width: 100, height: 100 });
      const results = await suite.client.getClipImageEmbeddings([image, otherImage, third]);
      const bodies = suite.simulator.requests('/clip/embed_image').map((request) => (request.body as { image: unknown }).image);
      assert.deepEqual(bodies, [[wire(image), wire(otherImage)], wire(third)]);
      assert.ok(Array.isArray(results));
      assert.equal(results.length, 3);
      for (const entry of results) assert.equal(entry.embeddings.length, 1);
      // Split entries keep only frame_id, time and their own vector, as upstream's combine_clip_embeddings.
      assert.deepEqual(Object.keys(results[0]).sort(), ['embeddings', 'frame_id', 'time']);
      assert.notDeepEqual(results[0].embeddings[0], results[1].embeddings[0]);
    });

    it('embeds texts in a single request, never retried', async () => {
      const result = await suite.client.getClipTextEmbeddings('some', 'ViT-B-32');
      const request = only('/clip/embed_text');
      assert.deepEqual(Object.keys(request.body as object), ['api_key', 'text', 'clip_version_id']);
      assert.deepEqual(request.body, { api_key: KEY, text: 'some', clip_version_id: 'ViT-B-32' });
      assert.equal(result.embeddings.length, 1);

      suite.simulator.clearLog();
      const many = await suite.client.getClipTextEmbeddings(['a', 'b']);
      assert.deepEqual(only('/clip/embed_text').body, { api_key: KEY, text: ['a', 'b'] });
      assert.equal(many.embeddings.length, 2);

      suite.simulator.clearLog();
      suite.simulator.inject({ route: '/clip/embed_text', status: 503, count: 1 });
      await assert.rejects(suite.client.getClipTextEmbeddings('x'), (error: Error) => error instanceof HTTPCallErrorError && error.statusCode === 503);
      assert.equal(suite.simulator.requests('/clip/embed_text').length, 1);
    });

    it('rejects unknown subject or prompt types before sending', async () => {
      await assert.rejects(suite.client.clipCompare({ subject: 'a', prompt: 'b', subjectType: 'video' as 'image' }), InvalidParameterError);
      await assert.rejects(suite.client.clipCompare({ subject: 'a', prompt: 'b', promptType: 'audio' as 'text' }), InvalidParameterError);
      assert.equal(suite.simulator.log.length, 0);
    });

    it('compares text with text', async () => {
      const result = await suite.client.clipCompare({
        subject: 'some',
        prompt: ['dog', 'house'],
        subjectType: 'text',
        promptType: 'text',
        clipVersion: 'ViT-B-32',
      });
      const body = only('/clip/compare').body as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['api_key', 'subject_type', 'prompt_type', 'clip_version_id', 'subject', 'prompt']);
      assert.deepEqual(body, {
        api_key: KEY,
        subject_type: 'text',
        prompt_type: 'text',
        clip_version_id: 'ViT-B-32',
        subject: 'some',
        prompt: ['dog', 'house'],
      });
      assert.ok(Array.isArray(result.similarity));
      assert.equal(result.similarity.length, 2);
    });

    it('compares an image with texts by default', async () => {
      await suite.client.clipCompare({ subject: image, prompt: ['red', 'blue'] });
      assert.deepEqual(only('/clip/compare').body, {
        api_key: KEY,
        subject_type: 'image',
        prompt_type: 'text',
        subject: wire(image),
        prompt: ['red', 'blue'],
      });
    });

    it('compares an image with images, one or several', async () => {
      const several = await suite.client.clipCompare({ subject: image, prompt: [image, otherImage], promptType: 'image' });
      assert.deepEqual((only('/clip/compare').body as { prompt: unknown }).prompt, [wire(image), wire(otherImage)]);
      assert.ok(Array.isArray(several.similarity) && several.similarity.length === 2);

      suite.simulator.clearLog();
      await suite.client.clipCompare({ subject: image, prompt: otherImage, promptType: 'image' });
      assert.deepEqual((only('/clip/compare').body as { prompt: unknown }).prompt, wire(otherImage));
    });

    it('compares a text with an image', async () => {
      await suite.client.clipCompare({ subject: 'a red box', subjectType: 'text', prompt: image, promptType: 'image' });
      const body = only('/clip/compare').body as Record<string, unknown>;
      assert.equal(body.subject, 'a red box');
      assert.deepEqual(body.prompt, wire(image));
    });

    it('sends a named prompt and gets similarities by name, for texts and for images', async () => {
      const texts = await suite.client.clipCompare({ subject: image, prompt: { first: 'red', second: 'blue' } });
      assert.deepEqual((only('/clip/compare').body as { prompt: unknown }).prompt, { first: 'red', second: 'blue' });
      assert.deepEqual(Object.keys(texts.similarity).sort(), ['first', 'second']);

      suite.simulator.clearLog();
      const images = await suite.client.clipCompare({ subject: image, prompt: { same: image, other: otherImage }, promptType: 'image' });
      assert.deepEqual((only('/clip/compare').body as { prompt: unknown }).prompt, { same: wire(image), other: wire(otherImage) });
      assert.deepEqual(Object.keys(images.similarity).sort(), ['other', 'same']);
    });

    it('does not retry a compare and wraps errors', async () => {
      suite.simulator.inject({ route: '/clip/compare', status: 503, count: 1 });
      await assert.rejects(suite.client.clipCompare({ subject: image, prompt: 'x' }), HTTPCallErrorError);
      assert.equal(suite.simulator.requests('/clip/compare').length, 1);
    });
  });

  describe('Perception Encoder', () => {
    it('embeds images (retried) and texts (not retried) with perception_encoder_version_id', async () => {
      suite.simulator.inject({ route: '/perception_encoder/embed_image', status: 503, count: 1 });
      const embedded = await suite.client.getPerceptionEncoderImageEmbeddings(image, 'PE-Core-B16-224');
      const imageRequests = suite.simulator.requests('/perception_encoder/embed_image');
      assert.equal(imageRequests.length, 2);
      assert.deepEqual(imageRequests[1].body, { api_key: KEY, perception_encoder_version_id: 'PE-Core-B16-224', image: wire(image) });
      assert.ok(!Array.isArray(embedded) && embedded.embeddings.length === 1);

      await suite.client.getPerceptionEncoderTextEmbeddings(['a', 'b']);
      assert.deepEqual(only('/perception_encoder/embed_text').body, { api_key: KEY, text: ['a', 'b'] });

      suite.simulator.clearLog();
      suite.simulator.inject({ route: '/perception_encoder/embed_text', status: 503, count: 1 });
      await assert.rejects(suite.client.getPerceptionEncoderTextEmbeddings('a'), HTTPCallErrorError);
      assert.equal(suite.simulator.requests('/perception_encoder/embed_text').length, 1);
    });
  });

  describe('gaze and CogVLM', () => {
    it('explains that a current server removed gaze detection', async () => {
      await assert.rejects(suite.client.detectGazes(image), (error: Error) => {
        assert.ok(error instanceof FeatureDeprecatedError);
        assert.ok(error instanceof HTTPClientError);
        assert.match(error.message, /removed gaze detection/);
        assert.match(error.message, /older than 1\.2\.8/);
        return true;
      });
      assert.deepEqual(only('/gaze/gaze_detection').body, { api_key: KEY, image: wire(image) });
    });

    it('returns gaze predictions from a server older than 1.2.8, flattened to one entry per image', async () => {
      const legacy = await startSimulator({ legacyGaze: true });
      const legacyClient = new InferenceHTTPClient(legacy.url, KEY);
      try {
        const single = await legacyClient.detectGazes(image);
        assert.ok(Array.isArray(single));
        assert.equal(single.length, 1);
        assert.equal((single[0].predictions as unknown[]).length, 2);
        const several = await legacyClient.detectGazes([image, otherImage]);
        assert.deepEqual(several.map((result) => (result.predictions as unknown[]).length), [2, 1]);
        assert.deepEqual(legacy.requests('/gaze/gaze_detection')[0].body, { api_key: KEY, image: wire(image) });
      } finally {
        await legacyClient.close();
        await legacy.stop();
      }
    });

    it('refuses gaze detection in v0 mode without sending anything', async () => {
      await assert.rejects(suite.client.useApiV0(() => suite.client.detectGazes(image)), WrongClientModeError);
      assert.equal(suite.simulator.log.length, 0);
    });

    it('refuses CogVLM at once, pointing to inferLmm', async () => {
      await assert.rejects(suite.client.promptCogvlm(image, 'what is this?'), (error: Error) => {
        assert.ok(error instanceof FeatureDeprecatedError);
        assert.match(error.message, /CVE-2024-11393/);
        assert.match(error.message, /inferLmm/);
        return true;
      });
      assert.equal(suite.simulator.log.length, 0);
    });
  });

  describe('LMM', () => {
    it('sends the model id in the path and every option in the body', async () => {
      const result = await suite.client.inferLmm(image, 'glm-ocr', {
        prompt: 'Text Recognition:',
        modelIdInPath: true,
        maxNewTokens: 4096,
        enableThinking: true,
      });
      const request = only('/infer/lmm/glm-ocr');
      assert.deepEqual(Object.keys(request.body as object), ['api_key', 'model_id', 'prompt', 'max_new_tokens', 'enable_thinking', 'image']);
      assert.deepEqual(request.body, {
        api_key: KEY,
        model_id: 'glm-ocr',
        prompt: 'Text Recognition:',
        max_new_tokens: 4096,
        enable_thinking: true,
        image: wire(image),
      });
      assert.ok(!Array.isArray(result) && 'response' in result);
    });

    it('uses /infer/lmm by default and batches by maxBatchSize', async () => {
      configure({ maxBatchSize: 2 });
      const results = await suite.client.inferLmm([image, otherImage], 'moondream2/moondream2_2b_jul24');
      const request = only('/infer/lmm');
      assert.equal(request.path, '/infer/lmm');
      assert.deepEqual(request.body, { api_key: KEY, model_id: 'moondream2/moondream2_2b_jul24', image: [wire(image), wire(otherImage)] });
      assert.ok(Array.isArray(results) && results.length === 2);
    });
  });

  describe('depth', () => {
    it('sends json by default with a one-time deprecation warning (none for png16) and passes the json through', async () => {
      const warnings: Error[] = [];
      const listen = (warning: Error) => warnings.push(warning);
      process.on('warning', listen);
      try {
        await suite.client.depthEstimation(otherImage, { depthMapFormat: 'png16' });
        await new Promise((resolve) => setImmediate(resolve));
        assert.deepEqual(warnings.filter((warning) => /depthMapFormat/.test(warning.message)), []);
        suite.simulator.clearLog();
        const result = await suite.client.depthEstimation(image, { modelIdInPath: true });
        await suite.client.depthEstimation(image);
        await new Promise((resolve) => setImmediate(resolve));
        const request = only('/infer/depth-estimation/depth-anything-v3/small');
        assert.deepEqual(request.body, {
          api_key: KEY,
          model_id: 'depth-anything-v3/small',
          depth_map_format: 'json',
          image: wire(image),
        });
        assert.ok(!Array.isArray(result) && Array.isArray(result.normalized_depth));
        const depthWarnings = warnings.filter((warning) => /depthMapFormat 'json'/.test(warning.message));
        assert.equal(depthWarnings.length, 1);
        assert.equal(depthWarnings[0].name, 'DeprecationWarning');
      } finally {
        process.off('warning', listen);
      }
    });

    for (const [format, bits] of [['png16', 16], ['png8', 8]] as const) {
      it(`decodes ${format} depth maps to values in [0, 1] at the image's size`, async () => {
        const result = (await suite.client.depthEstimation(otherImage, { depthMapFormat: format })) as DepthEstimationResult;
        assert.equal((only('/infer/depth-estimation').body as { depth_map_format: string }).depth_map_format, format);
        const depth = result.normalized_depth as DepthMap;
        assert.ok(depth.data instanceof Float32Array, `${bits}-bit map decoded`);
        assert.equal(depth.data.length, depth.width * depth.height);
        assert.ok(depth.data.every((value) => value >= 0 && value <= 1));
      });
    }

    it('decodes 16-bit and 8-bit greyscale PNGs exactly', async () => {
      const samples16 = new Uint16Array([0, 1000, 65535, 30000, 12345, 500]);
      const png16 = await sharp(samples16, { raw: { width: 3, height: 2, channels: 1 } }).toColourspace('grey16').png().toBuffer();
      const decoded16 = await decodeDepthMap(png16.toString('base64'));
      assert.deepEqual([decoded16.width, decoded16.height], [3, 2]);
      samples16.forEach((sample, index) => assert.ok(Math.abs(decoded16.data[index] - sample / 65535) < 1 / 65535));

      const samples8 = Buffer.from([0, 10, 255, 128, 1, 2]);
      const png8 = await sharp(samples8, { raw: { width: 2, height: 3, channels: 1 } }).png().toBuffer();
      const decoded8 = await decodeDepthMap(png8.toString('base64'));
      assert.deepEqual([decoded8.width, decoded8.height], [2, 3]);
      samples8.forEach((sample, index) => assert.ok(Math.abs(decoded8.data[index] - sample / 255) < 1 / 255));
    });
  });

  describe('SAM', () => {
    it('SAM2: upstream defaults, prompts wrapped, one image per request', async () => {
      configure({ maxBatchSize: 4 });
      const prompts = [{ box: { x: 200, y: 155, width: 200, height: 150 } }, { points: [{ x: 460, y: 350, positive: true }] }];
      const results = await suite.client.sam2SegmentImage([image, otherImage], { prompts });
      const requests = suite.simulator.requests('/sam2/segment_image');
      assert.equal(requests.length, 2);
      assert.deepEqual(Object.keys(requests[0].body as object), ['api_key', 'sam2_version_id', 'multimask_output', 'format', 'prompts', 'image']);
      assert.deepEqual(requests[0].body, {
        api_key: KEY,
        sam2_version_id: 'hiera_tiny',
        multimask_output: true,
        format: 'json',
        prompts: { prompts },
        image: wire(image),
      });
      assert.ok(Array.isArray(results) && results.length === 2);
    });

    it('SAM3 concept segmentation: prompts list, thresholds, format', async () => {
      const prompts = [{ type: 'text', text: 'red box' }];
      await suite.client.sam3ConceptSegment(image, prompts, { nmsIouThreshold: 0.5 });
      assert.deepEqual(only('/sam3/concept_segment').body, {
        api_key: KEY,
        model_id: 'sam3/sam3_final',
        prompts,
        output_prob_thresh: 0.5,
        format: 'polygon',
        nms_iou_threshold: 0.5,
        image: wire(image),
      });
    });

    it('SAM3 visual segmentation and embedding', async () => {
      await suite.client.sam3VisualSegment(image, { multimaskOutput: false });
      assert.deepEqual(only('/sam3/visual_segment').body, { api_key: KEY, multimask_output: false, format: 'json', image: wire(image) });

      const embedded = await suite.client.sam3EmbedImage([image, otherImage], { imageId: 'cached-1' });
      assert.deepEqual(
        suite.simulator.requests('/sam3/embed_image').map((request) => request.body),
        [image, otherImage].map((sent) => ({ api_key: KEY, image_id: 'cached-1', image: wire(sent) })),
      );
      assert.ok(Array.isArray(embedded) && embedded.length === 2);
    });

    it('SAM3 3D: full payload, key in the URL in v0, the first response only', async () => {
      const result = await suite.client.useApiV0(() => suite.client.sam33dInfer(image, [10, 10, 50, 10, 50, 50]));
      const request = only('/sam3_3d/infer');
      assert.deepEqual(request.query, { api_key: KEY });
      assert.deepEqual(request.body, {
        model_id: 'sam3-3d-objects',
        mask_input: [10, 10, 50, 10, 50, 50],
        output_meshes: true,
        output_scene: true,
        with_mesh_postprocess: true,
        with_texture_baking: true,
        use_distillations: false,
        image: wire(image),
      });
      assert.ok(!Array.isArray(result) && typeof result === 'object');
    });
  });

  describe('YOLO-World', () => {
    it('returns a list even for one image and sends the class names as text', async () => {
      const results = await suite.client.inferFromYoloWorld(image, ['red', 'blue'], { modelVersion: 's', confidence: 0.2 });
      assert.deepEqual(only('/yolo_world/infer').body, {
        api_key: KEY,
        text: ['red', 'blue'],
        yolo_world_version_id: 's',
        confidence: 0.2,
        image: wire(image),
      });
      assert.ok(Array.isArray(results));
      assert.equal(results.length, 1);
      const classes = (results[0].predictions as { class: string }[]).map((prediction) => prediction.class);
      assert.deepEqual(classes.sort(), ['blue', 'red']);
    });

    it('sends one image per request and retries 429', async () => {
      configure({ maxBatchSize: 4 });
      suite.simulator.inject({ route: '/yolo_world/infer', status: 429, count: 1 });
      const results = await suite.client.inferFromYoloWorld([image, otherImage], ['green']);
      assert.equal(suite.simulator.requests('/yolo_world/infer').length, 3);
      assert.deepEqual(results.map((result) => (result.predictions as unknown[]).length), [0, 1]);
    });
  });
});

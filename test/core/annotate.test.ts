import assert from 'node:assert/strict';
import sharp from 'sharp';
import { annotateAndCount, colourForClass, countByClass, drawPredictions, escapeXml, toAnnotations } from '../../src/core/annotate';
import { makeImage, standardImage } from '../fixtures/images';

// The standard image's red box (100,80 200x150) and blue box (400,300 120x100), centre-based as the server sends them.
const RED = { x: 200, y: 155, width: 200, height: 150, confidence: 0.91, class: 'red', class_id: 0, detection_id: 'a' };
const BLUE = { x: 460, y: 350, width: 120, height: 100, confidence: 0.8, class: 'blue', class_id: 2, detection_id: 'b' };
const DETECTION_RESULT = { image: { width: 640, height: 480 }, predictions: [RED, BLUE] };

async function pixelAt(jpeg: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return [...data.subarray(offset, offset + 3)];
}

function distance(a: number[], b: number[]): number {
  return Math.max(...a.map((value, index) => Math.abs(value - b[index])));
}

describe('annotate: toAnnotations', () => {
  it('turns centre-based object detection boxes into top-left rects with labels', () => {
    const annotations = toAnnotations(DETECTION_RESULT);
    assert.deepEqual(annotations, [
      { type: 'rect', bbox: [100, 80, 200, 150], stroke: colourForClass('red'), label: 'red 0.91' },
      { type: 'rect', bbox: [400, 300, 120, 100], stroke: colourForClass('blue'), label: 'blue 0.80' },
    ]);
  });

  it('leaves out the confidence on request', () => {
    const [first] = toAnnotations(DETECTION_RESULT, { showConfidence: false });
    assert.equal(first.label, 'red');
  });

  it('adds a labelled polygon for an instance-segmentation mask', () => {
    const points = [{ x: 100, y: 80 }, { x: 300, y: 80 }, { x: 300, y: 230 }, { x: 100, y: 230 }];
    const annotations = toAnnotations({ image: { width: 640, height: 480 }, predictions: [{ ...RED, points }] });
    assert.deepEqual(annotations, [
      { type: 'polygon', points: [[100, 80], [300, 80], [300, 230], [100, 230]], stroke: colourForClass('red'), label: 'red 0.91' },
      { type: 'rect', bbox: [100, 80, 200, 150], stroke: colourForClass('red'), label: undefined },
    ]);
  });

  it('adds a circle per keypoint', () => {
    const keypoints = [
      { x: 110, y: 90, confidence: 0.9, class_id: 0, class: 'top' },
      { x: 290, y: 220, confidence: 0.8, class_id: 1, class: 'bottom' },
    ];
    const annotations = toAnnotations({ predictions: [{ ...RED, keypoints }] });
    assert.deepEqual(
      annotations.filter((annotation) => annotation.type === 'circle'),
      [
        { type: 'circle', x: 110, y: 90, r: 3, stroke: colourForClass('red') },
        { type: 'circle', x: 290, y: 220, r: 3, stroke: colourForClass('red') },
      ],
    );
    assert.equal(annotations.filter((annotation) => annotation.type === 'rect').length, 1);
  });

  it('labels the whole image for single-label classification', () => {
    const result = {
      image: { width: 224, height: 224 },
      predictions: [{ class: 'red', class_id: 0, confidence: 0.7 }, { class: 'blue', class_id: 2, confidence: 0.3 }],
      top: 'red',
      confidence: 0.7,
    };
    assert.deepEqual(toAnnotations(result), [{ type: 'rect', bbox: [0, 0, 224, 224], stroke: colourForClass('red'), label: 'red 0.70' }]);
  });

  it('labels the whole image with every predicted class for multi-label classification', () => {
    const result = {
      image: { width: 224, height: 224 },
      predictions: { red: { confidence: 0.9, class_id: 0 }, green: { confidence: 0.1, class_id: 1 }, blue: { confidence: 0.6, class_id: 2 } },
      predicted_classes: ['red', 'blue'],
    };
    const [annotation] = toAnnotations(result);
    assert.equal(annotation.label, 'red 0.90, blue 0.60');
  });

  it('takes no class names from a semantic-segmentation mask', () => {
    const result = {
      image: { width: 224, height: 224 },
      predictions: { segmentation_mask: 'iVBORw0KGgo=', class_map: { '0': 'background' }, confidence_mask: 'iVBORw0KGgo=' },
    };
    assert.deepEqual(toAnnotations(result), []);
    assert.deepEqual(countByClass(result), {});
  });

  it('draws OCR word boxes, or the recognised text when there are none', () => {
    const withBoxes = { result: 'HELLO', image: { width: 640, height: 480 }, predictions: [{ ...RED, class: 'HELLO' }] };
    assert.deepEqual(toAnnotations(withBoxes).map((annotation) => annotation.label), ['HELLO 0.91']);
    const textOnly = { result: 'HELLO', image: { width: 640, height: 480 }, time: 0.1, parent_id: null };
    assert.deepEqual(toAnnotations(textOnly), [{ type: 'rect', bbox: [0, 0, 640, 480], stroke: colourForClass('HELLO'), label: 'HELLO' }]);
  });

  it('shows gaze faces as boxes with their landmarks', () => {
    const face = { x: 200, y: 155, width: 200, height: 150, confidence: 0.95, class: 'face', class_id: 0, landmarks: [{ x: 150, y: 120 }, { x: 250, y: 120 }] };
    const annotations = toAnnotations([{ predictions: [{ face, yaw: 0.2, pitch: -0.1 }], time: 0.1 }]);
    assert.deepEqual(annotations.map((annotation) => annotation.type), ['rect', 'circle', 'circle']);
    assert.deepEqual(annotations[0].bbox, [100, 80, 200, 150]);
    assert.equal(annotations[0].label, 'face 0.95');
  });

  it('uses the first result of a batch and returns nothing for empty or odd input', () => {
    assert.equal(toAnnotations([DETECTION_RESULT, { predictions: [] }]).length, 2);
    assert.deepEqual(toAnnotations({ predictions: [] }), []);
    assert.deepEqual(toAnnotations([]), []);
    assert.deepEqual(toAnnotations(null), []);
    assert.deepEqual(toAnnotations('text'), []);
  });
});

describe('annotate: countByClass', () => {
  it('counts detections per class', () => {
    const result = { predictions: [RED, BLUE, { ...RED, x: 500 }] };
    assert.deepEqual(countByClass(result), { red: 2, blue: 1 });
  });

  it('totals a batch over all its images', () => {
    assert.deepEqual(countByClass([{ predictions: [RED] }, { predictions: [RED, BLUE] }]), { red: 2, blue: 1 });
  });

  it('counts the chosen classes of classifications once each, and no OCR text', () => {
    assert.deepEqual(countByClass({ predictions: [{ class: 'red', confidence: 0.7 }], top: 'red', confidence: 0.7 }), { red: 1 });
    assert.deepEqual(
      countByClass({ predictions: { red: { confidence: 0.9 }, blue: { confidence: 0.6 } }, predicted_classes: ['red', 'blue'] }),
      { red: 1, blue: 1 },
    );
    assert.deepEqual(countByClass({ result: 'HELLO', time: 0.1 }), {});
    assert.deepEqual(countByClass({ predictions: [] }), {});
  });
});

describe('annotate: annotateAndCount', () => {
  it('gives what toAnnotations of each result and countByClass of them all give', () => {
    const results: unknown[] = [
      DETECTION_RESULT,
      { image: { width: 224, height: 224 }, predictions: { red: { confidence: 0.9 }, blue: { confidence: 0.6 } }, predicted_classes: ['red', 'blue'] },
      { image: { width: 640, height: 480 }, result: 'HELLO', predictions: [] },
      { predictions: [{ ...RED, points: [{ x: 1, y: 2 }, { x: 3, y: 4 }, { x: 5, y: 1 }] }] },
      [DETECTION_RESULT],
      null,
    ];
    for (const showConfidence of [true, false]) {
      const { annotations, counts } = annotateAndCount(results, { showConfidence });
      assert.deepEqual(annotations, results.map((result) => toAnnotations(result, { showConfidence })));
      assert.deepEqual(counts, countByClass(results));
    }
    assert.deepEqual(annotateAndCount(results).counts, { red: 3, blue: 2 });
  });
});

describe('annotate: drawPredictions', () => {
  it('keeps the input size and draws on the box border only', async () => {
    const image = await standardImage();
    const drawn = await drawPredictions(image, DETECTION_RESULT, { showLabels: false });
    const metadata = await sharp(drawn).metadata();
    assert.equal(metadata.format, 'jpeg');
    assert.deepEqual([metadata.width, metadata.height], [640, 480]);
    // Left edge of the red box, midway down: the stroke is there, not red any more.
    assert.ok(distance(await pixelAt(drawn, 100, 155), await pixelAt(image, 100, 155)) > 40);
    // Centre of the box and the background far from any box are untouched.
    assert.ok(distance(await pixelAt(drawn, 200, 155), await pixelAt(image, 200, 155)) < 12);
    assert.ok(distance(await pixelAt(drawn, 600, 40), await pixelAt(image, 600, 40)) < 12);
  });

  it('draws a filled label background above the box', async () => {
    const image = await standardImage();
    const drawn = await drawPredictions(image, DETECTION_RESULT, { fontSize: 20 });
    // Just above the red box's top-left corner sits the label.
    assert.ok(distance(await pixelAt(drawn, 104, 70), await pixelAt(image, 104, 70)) > 40);
  });

  it('fills segmentation polygons and draws keypoints', async () => {
    const image = await makeImage({ width: 320, height: 240 });
    const points = [{ x: 40, y: 40 }, { x: 140, y: 40 }, { x: 140, y: 140 }, { x: 40, y: 140 }];
    const keypoints = [
      { x: 200, y: 60, confidence: 1, class_id: 0, class: 'a' },
      { x: 280, y: 60, confidence: 1, class_id: 1, class: 'b' },
    ];
    const result = {
      predictions: [
        { x: 90, y: 90, width: 100, height: 100, confidence: 0.9, class: 'red', points },
        { x: 240, y: 100, width: 100, height: 100, confidence: 0.9, class: 'person', keypoints },
      ],
    };
    const drawn = await drawPredictions(image, result, { showLabels: false, lineWidth: 3 });
    // Inside the polygon: tinted; on the line joining the two keypoints: stroked.
    assert.ok(distance(await pixelAt(drawn, 90, 90), await pixelAt(image, 90, 90)) > 20);
    assert.ok(distance(await pixelAt(drawn, 240, 60), await pixelAt(image, 240, 60)) > 40);
  });

  it('connects COCO keypoints along the skeleton, not in list order', async () => {
    const image = await makeImage({ width: 320, height: 240 });
    const keypoints = [
      { x: 50, y: 50, confidence: 1, class_id: 5, class: 'left_shoulder' },
      { x: 250, y: 200, confidence: 1, class_id: 10, class: 'right_wrist' },
      { x: 250, y: 50, confidence: 1, class_id: 6, class: 'right_shoulder' },
    ];
    const result = { predictions: [{ x: 150, y: 125, width: 280, height: 230, class: 'person', keypoints }] };
    const drawn = await drawPredictions(image, result, { showLabels: false, lineWidth: 3 });
    // Shoulder to shoulder is a skeleton edge; left shoulder to right wrist (list order) is not.
    assert.ok(distance(await pixelAt(drawn, 150, 50), await pixelAt(image, 150, 50)) > 40);
    assert.ok(distance(await pixelAt(drawn, 150, 125), await pixelAt(image, 150, 125)) < 12);
  });

  it('escapes label text so odd class names cannot break the overlay', async () => {
    assert.equal(escapeXml(`<a & "b" 'c'>`), '&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;');
    const image = await standardImage();
    const result = { predictions: [{ ...RED, class: '</text><script>&"' }] };
    const drawn = await drawPredictions(image, result);
    assert.deepEqual((await sharp(drawn).metadata()).width, 640);
  });

  it('does not throw on empty predictions and returns the image unchanged in size', async () => {
    const image = await standardImage();
    for (const result of [{ predictions: [] }, [], null, { result: '' }]) {
      const drawn = await drawPredictions(image, result);
      const metadata = await sharp(drawn).metadata();
      assert.deepEqual([metadata.width, metadata.height], [640, 480]);
    }
  });

  it('rotates an EXIF-oriented input as the server does, and draws in rotated coordinates', async () => {
    // Stored 480x640 with orientation 6 (rotate 90° clockwise to view) → shown 640x480.
    const stored = await sharp(await makeImage({ width: 480, height: 640 })).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const drawn = await drawPredictions(stored, DETECTION_RESULT, { showLabels: false });
    const metadata = await sharp(drawn).metadata();
    assert.deepEqual([metadata.width, metadata.height], [640, 480]);
    const reference = await sharp(stored).rotate().jpeg().toBuffer();
    assert.ok(distance(await pixelAt(drawn, 100, 155), await pixelAt(reference, 100, 155)) > 40);
  });

  it('keeps the stored orientation when the predictions were made without auto-orientation', async () => {
    const stored = await sharp(await makeImage({ width: 480, height: 640 })).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const result = { image: { width: 480, height: 640 }, predictions: [{ ...RED, x: 200, y: 300 }] };
    const drawn = await drawPredictions(stored, result, { showLabels: false, autoOrient: false });
    const metadata = await sharp(drawn).metadata();
    assert.deepEqual([metadata.width, metadata.height], [480, 640]);
    const reference = await sharp(stored, { autoOrient: false }).jpeg().toBuffer();
    // The box's left edge (x = 100) in stored coordinates.
    assert.ok(distance(await pixelAt(drawn, 100, 300), await pixelAt(reference, 100, 300)) > 40);
  });

  it('scales predictions made on a differently sized copy of the image', async () => {
    const image = await makeImage({ width: 320, height: 240 });
    const drawn = await drawPredictions(image, DETECTION_RESULT, { showLabels: false, lineWidth: 2 });
    // The red box's left edge at 640x480 (x=100) is x=50 at half size.
    assert.ok(distance(await pixelAt(drawn, 50, 77), await pixelAt(image, 50, 77)) > 40);
  });

  it('draws the first result of a batch and a caption for classification', async () => {
    const image = await standardImage();
    const drawn = await drawPredictions(image, [DETECTION_RESULT, { predictions: [] }], { showLabels: false });
    assert.ok(distance(await pixelAt(drawn, 100, 155), await pixelAt(image, 100, 155)) > 40);
    const classified = await drawPredictions(image, { predictions: [{ class: 'red', confidence: 0.7 }], top: 'red', confidence: 0.7 }, { fontSize: 20 });
    assert.ok(distance(await pixelAt(classified, 3, 3), await pixelAt(image, 3, 3)) > 40);
  });
});

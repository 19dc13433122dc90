// roboflow-ocr: text recognition with the server's OCR models (DocTR, TrOCR, EasyOCR, PP-OCR).
// msg.payload is the text, msg.ocr the full response, msg.annotations the word boxes when asked.
import type { OcrOptions, OcrResult } from '../core';
import { toAnnotations } from '../core/annotate';
import { readImages } from './shared/imageInput';
import { handleMessages, type WorkContext } from './shared/messages';
import { messageSettings, type MessageSettingsDef } from './shared/messageSettings';
import type { Node, NodeAPI, NodeMessage } from './shared/nodeRed';
import { setOptionalProperty } from './shared/properties';
import { findServer, type RoboflowServer } from './shared/server';
import { shorten, type StatusText } from './shared/status';

export const OCR_MODELS = ['doctr', 'trocr', 'easy_ocr', 'pp_ocr'] as const;

interface OcrDef extends MessageSettingsDef {
  server?: string;
  image?: string;
  imageType?: string;
  model?: string;
  version?: string;
  languages?: string;
  quantize?: '' | 'true' | 'false';
  boundingBoxes?: boolean;
  annotationsProperty?: string;
}

/**
 * The request options the dialog asks for; unset fields are left to the server's defaults. The
 * dialog hides the options other models lack, so their stale values are not sent either.
 */
export function ocrOptions(config: OcrDef): OcrOptions {
  const model = config.model || 'doctr';
  const isEasyOcr = model === 'easy_ocr';
  const languageCodes = (config.languages ?? '').split(',').map((code) => code.trim()).filter(Boolean);
  return {
    model,
    version: config.version?.trim() || undefined,
    quantize: isEasyOcr && config.quantize ? config.quantize === 'true' : undefined,
    generateBoundingBoxes: model === 'doctr' && config.boundingBoxes ? true : undefined,
    languageCodes: isEasyOcr && languageCodes.length > 0 ? languageCodes : undefined,
  };
}

export default function registerRoboflowOcr(RED: NodeAPI): void {
  function RoboflowOcrNode(this: Node, config: OcrDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const server = findServer(RED, config.server);
    const options = ocrOptions(config);

    async function recognise(msg: NodeMessage, context: WorkContext): Promise<StatusText> {
      if (!server) throw new Error(RED._('roboflow-ocr.errors.noServer'));
      const { client, configuration } = server as RoboflowServer;
      const image = await readImages(RED, node, msg, { property: config.image, type: config.imageType }, () => RED._('roboflow-ocr.errors.noImage'));
      const startedAt = performance.now();
      const result = await client.useConfiguration(configuration, () => client.ocrImage(image, options, { signal: context.signal }));
      const timeMs = Math.round(performance.now() - startedAt);

      const results: OcrResult[] = Array.isArray(result) ? result : [result];
      const texts = results.map((single) => single.result ?? '');
      msg.payload = Array.isArray(result) ? texts : texts[0];
      msg.ocr = result;
      if (options.generateBoundingBoxes) {
        const annotations = results.map((single) => toAnnotations(single, { showConfidence: false }));
        setOptionalProperty(RED, msg, config.annotationsProperty, Array.isArray(result) ? annotations : annotations[0]);
      }
      return () => RED._('roboflow-ocr.status.done', { text: shorten(texts.join(' ').trim() || '∅'), ms: timeMs });
    }

    handleMessages(node, messageSettings(RED, config), recognise);
  }

  RED.nodes.registerType('roboflow-ocr', RoboflowOcrNode as never);
}

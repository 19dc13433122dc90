// roboflow-clip-compare: CLIP similarity of a subject (image or text) to prompts (texts or images),
// shaped for flows that switch on the answer ("is this a cat?"), and CLIP image/text embeddings.
import type { ClipCompareResult, ClipEmbeddingResult, ClipInputType, ImageInput, NamedClipPrompts } from '../core';
import { readImages } from './shared/imageInput';
import { handleMessages, type WorkContext } from './shared/messages';
import { messageSettings, type MessageSettingsDef } from './shared/messageSettings';
import type { Node, NodeAPI, NodeMessage } from './shared/nodeRed';
import { evaluateProperty, reviveBuffers } from './shared/properties';
import { findServer, type RoboflowServer } from './shared/server';
import type { StatusText } from './shared/status';

export type ClipMode = 'compare' | 'imageEmbedding' | 'textEmbedding';
export const CLIP_VERSIONS = ['RN101', 'RN50', 'RN50x16', 'RN50x4', 'RN50x64', 'ViT-B-16', 'ViT-B-32', 'ViT-L-14-336px', 'ViT-L-14'];

interface ClipDef extends MessageSettingsDef {
  server?: string;
  mode?: ClipMode;
  subject?: string;
  subjectType?: string;
  subjectKind?: ClipInputType;
  prompts?: string;
  promptsType?: string;
  promptKind?: ClipInputType;
  clipVersion?: string;
}

export interface RankedPrompt {
  label: string;
  similarity: number;
  /** Position of the prompt as given. */
  index: number;
}

export interface ClipComparison {
  best: RankedPrompt | null;
  similarities: Record<string, number>;
  /** In prompt order. */
  scores: number[];
  /** Most similar first. */
  ranked: RankedPrompt[];
}

type Prompts = string[] | ImageInput[] | NamedClipPrompts;

function isImageObject(value: object): boolean {
  return Buffer.isBuffer(value) || (value as { type?: unknown }).type === 'base64' || ('data' in value && 'width' in value);
}

/**
 * Prompts as typed in the node (`cat, dog, person`), a JSON array, a `{ name: prompt }` object, or
 * a message value. A text given as one string is a comma-separated list; an image string is one image.
 */
export function normalisePrompts(value: unknown, kind: ClipInputType): Prompts {
  if (typeof value === 'string') {
    return kind === 'text' ? value.split(',').map((prompt) => prompt.trim()).filter(Boolean) : [value];
  }
  if (Array.isArray(value)) return value as Prompts;
  if (typeof value === 'object' && value !== null) return isImageObject(value) ? [value as ImageInput] : (value as NamedClipPrompts);
  return [];
}

function promptLabels(prompts: Prompts, kind: ClipInputType): string[] {
  if (!Array.isArray(prompts)) return Object.keys(prompts);
  return prompts.map((prompt, index) => (kind === 'text' ? String(prompt) : `image ${index + 1}`));
}

/** The server's similarities (a list in prompt order, or keyed by name) as labels, scores and a ranking. */
export function shapeComparison(result: ClipCompareResult, labels: string[]): ClipComparison {
  const { similarity } = result;
  const scores = Array.isArray(similarity) ? similarity : labels.map((label) => similarity[label]);
  const entries = labels.map((label, index): RankedPrompt => ({ label, similarity: scores[index], index }));
  const ranked = [...entries].sort((a, b) => b.similarity - a.similarity);
  return {
    best: ranked[0] ?? null,
    similarities: Object.fromEntries(entries.map((entry) => [entry.label, entry.similarity])),
    scores,
    ranked,
  };
}

export default function registerRoboflowClipCompare(RED: NodeAPI): void {
  function RoboflowClipCompareNode(this: Node, config: ClipDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const server = findServer(RED, config.server);
    const mode: ClipMode = config.mode ?? 'compare';
    const clipVersion = config.clipVersion || undefined;
    const subjectSource = { property: config.subject, type: config.subjectType };

    async function readText(msg: NodeMessage): Promise<string | string[]> {
      const text = await evaluateProperty(RED, node, config.subject || 'payload', config.subjectType || 'msg', msg);
      const isTexts = Array.isArray(text) && text.length > 0 && text.every((item) => typeof item === 'string');
      if ((typeof text !== 'string' || !text) && !isTexts) throw new Error(RED._('roboflow-clip-compare.errors.noText'));
      return text as string | string[];
    }

    async function compare(msg: NodeMessage, context: WorkContext, { client }: RoboflowServer): Promise<StatusText> {
      const subjectKind = config.subjectKind ?? 'image';
      const promptKind = config.promptKind ?? 'text';
      const subject =
        subjectKind === 'image'
          ? await readImages(RED, node, msg, subjectSource, () => RED._('roboflow-clip-compare.errors.noImage'))
          : await readText(msg);
      if (Array.isArray(subject)) throw new Error(RED._('roboflow-clip-compare.errors.oneSubject'));
      const rawPrompts = reviveBuffers(await evaluateProperty(RED, node, config.prompts ?? '', config.promptsType || 'str', msg));
      const prompts = normalisePrompts(rawPrompts, promptKind);
      const labels = promptLabels(prompts, promptKind);
      if (labels.length === 0) throw new Error(RED._('roboflow-clip-compare.errors.noPrompts'));

      const result = await client.clipCompare(
        { subject: subject as ImageInput, prompt: prompts, subjectType: subjectKind, promptType: promptKind, clipVersion },
        { signal: context.signal },
      );
      const comparison = shapeComparison(result, labels);
      msg.payload = comparison;
      msg.clip = result;
      const best = comparison.best;
      return best ? () => RED._('roboflow-clip-compare.status.best', { label: best.label, similarity: best.similarity.toFixed(2) }) : '';
    }

    async function embed(msg: NodeMessage, context: WorkContext, { client }: RoboflowServer): Promise<StatusText> {
      let vectors: number[][];
      let several: boolean;
      if (mode === 'imageEmbedding') {
        const images = await readImages(RED, node, msg, subjectSource, () => RED._('roboflow-clip-compare.errors.noImage'));
        const result = await client.getClipImageEmbeddings(images, clipVersion, { signal: context.signal });
        const results: ClipEmbeddingResult[] = Array.isArray(result) ? result : [result];
        vectors = results.flatMap((single) => single.embeddings);
        several = Array.isArray(images);
        msg.clip = result;
      } else {
        const text = await readText(msg);
        const result = await client.getClipTextEmbeddings(text, clipVersion, { signal: context.signal });
        vectors = result.embeddings;
        several = Array.isArray(text);
        msg.clip = result;
      }
      msg.payload = several ? vectors : vectors[0];
      return () => RED._('roboflow-clip-compare.status.embedded', { count: vectors.length, dimensions: vectors[0]?.length ?? 0 });
    }

    async function work(msg: NodeMessage, context: WorkContext): Promise<StatusText> {
      if (!server) throw new Error(RED._('roboflow-clip-compare.errors.noServer'));
      const { client, configuration } = server;
      return client.useConfiguration(configuration, () =>
        mode === 'compare' ? compare(msg, context, server) : embed(msg, context, server),
      );
    }

    handleMessages(node, messageSettings(RED, config), work);
  }

  RED.nodes.registerType('roboflow-clip-compare', RoboflowClipCompareNode as never);
}

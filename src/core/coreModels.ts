// Placeholder: being implemented (see docs/ARCHITECTURE.md).
import type { RequestContext } from './context';

export async function ocrImage(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('ocrImage is not implemented yet');
}

export async function getClipImageEmbeddings(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('getClipImageEmbeddings is not implemented yet');
}

export async function getClipTextEmbeddings(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('getClipTextEmbeddings is not implemented yet');
}

export async function clipCompare(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('clipCompare is not implemented yet');
}

export async function getPerceptionEncoderImageEmbeddings(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('getPerceptionEncoderImageEmbeddings is not implemented yet');
}

export async function getPerceptionEncoderTextEmbeddings(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('getPerceptionEncoderTextEmbeddings is not implemented yet');
}

export async function detectGazes(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('detectGazes is not implemented yet');
}

export async function promptCogvlm(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('promptCogvlm is not implemented yet');
}

export async function inferLmm(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('inferLmm is not implemented yet');
}

export async function depthEstimation(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('depthEstimation is not implemented yet');
}

export async function sam2SegmentImage(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('sam2SegmentImage is not implemented yet');
}

export async function sam3ConceptSegment(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('sam3ConceptSegment is not implemented yet');
}

export async function sam3VisualSegment(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('sam3VisualSegment is not implemented yet');
}

export async function sam3EmbedImage(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('sam3EmbedImage is not implemented yet');
}

export async function sam33dInfer(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('sam33dInfer is not implemented yet');
}

export async function inferFromYoloWorld(_context: RequestContext, ..._args: unknown[]): Promise<unknown> {
  throw new Error('inferFromYoloWorld is not implemented yet');
}


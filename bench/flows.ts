// Flow nodes as the editor would save them: the editor's defaults, so the benchmark measures
// what a user who drops the node in and picks a model gets.
import { DETECTION_MODEL } from './fixtures';
import type { FlowNode } from './nodeRed';

export const SERVER_ID = 'bench-server';

export function serverNode(url: string, settings: Record<string, string> = {}): FlowNode {
  return { id: SERVER_ID, type: 'roboflow-server', url, apiMode: 'auto', apiKeyTransport: 'legacy', urlPolicy: 'permissive', ...settings };
}

export function inferNode(id: string, settings: Record<string, unknown>): FlowNode {
  return {
    id,
    type: 'roboflow-infer',
    server: SERVER_ID,
    model: DETECTION_MODEL,
    modelType: 'str',
    image: 'payload',
    imageType: 'msg',
    annotationsProperty: 'annotations',
    countsProperty: 'counts',
    annotatedImageProperty: '',
    originalImageProperty: '',
    showConfidence: true,
    maxInFlight: 1,
    overflow: 'queue',
    queueSize: 100,
    errorOutput: false,
    ...settings,
  };
}

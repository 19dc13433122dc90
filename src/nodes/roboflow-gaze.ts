// roboflow-gaze: where each face looks (yaw and pitch), with its box and landmarks.
// Inference servers from 1.2.8 on removed the endpoint; the first 410 is remembered so a camera
// flow does not send a doomed request per frame. A redeploy creates a new node, which asks again.
import { FeatureDeprecatedError, type ImagesInput } from '../core';
import { toAnnotations } from '../core/annotate';
import { readImages } from './shared/imageInput';
import { handleMessages, type WorkContext } from './shared/messages';
import { messageSettings, type MessageSettingsDef } from './shared/messageSettings';
import type { Node, NodeAPI, NodeMessage } from './shared/nodeRed';
import { setOptionalProperty } from './shared/properties';
import { findServer, type RoboflowServer } from './shared/server';
import type { StatusText } from './shared/status';

interface GazeDef extends MessageSettingsDef {
  server?: string;
  image?: string;
  imageType?: string;
  annotationsProperty?: string;
}

export default function registerRoboflowGaze(RED: NodeAPI): void {
  function RoboflowGazeNode(this: Node, config: GazeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const server = findServer(RED, config.server);
    let removedByServer: FeatureDeprecatedError | undefined;

    async function detect(msg: NodeMessage, context: WorkContext): Promise<StatusText> {
      if (removedByServer) throw removedByServer;
      if (!server) throw new Error(RED._('roboflow-gaze.errors.noServer'));
      const image = await readImages(RED, node, msg, { property: config.image, type: config.imageType }, () => RED._('roboflow-gaze.errors.noImage'));
      const responses = await callServer(server, image, context.signal);

      const perImage = responses.map((response) => (Array.isArray(response.predictions) ? response.predictions : []));
      const single = !Array.isArray(image);
      msg.payload = single ? perImage[0] ?? [] : perImage;
      msg.gaze = single ? responses[0] : responses;
      const annotations = responses.map((response) => toAnnotations(response));
      setOptionalProperty(RED, msg, config.annotationsProperty, single ? annotations[0] ?? [] : annotations);
      const faces = perImage.reduce((sum, predictions) => sum + predictions.length, 0);
      return () => RED._('roboflow-gaze.status.done', { count: faces });
    }

    async function callServer(server: RoboflowServer, image: ImagesInput, signal: AbortSignal) {
      const { client, configuration } = server;
      try {
        return await client.useConfiguration(configuration, () => client.detectGazes(image, { signal }));
      } catch (error) {
        if (error instanceof FeatureDeprecatedError) removedByServer = error;
        throw error;
      }
    }

    const settings = messageSettings(RED, config);
    const failure = (error: Error) => (error === removedByServer ? RED._('roboflow-gaze.status.removed') : undefined);
    handleMessages(node, { ...settings, text: { ...settings.text, failure } }, detect);
  }

  RED.nodes.registerType('roboflow-gaze', RoboflowGazeNode as never);
}

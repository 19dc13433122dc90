// roboflow-model-manager: server info and the model registry (list, describe, load, unload,
// unload all). Registry actions are v1 only; against a hosted (v0) server the client raises
// WrongClientModeError, which reaches Catch nodes like every other failure.
import { handleMessages, type WorkContext } from './shared/messages';
import { messageSettings } from './shared/messageSettings';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './shared/nodeRed';
import { findServer } from './shared/server';
import type { StatusText } from './shared/status';

export const MODEL_MANAGER_ACTIONS = ['info', 'list', 'describe', 'load', 'unload', 'unloadAll'] as const;
export type ModelManagerAction = (typeof MODEL_MANAGER_ACTIONS)[number];

const ACTIONS_NEEDING_MODEL: readonly ModelManagerAction[] = ['describe', 'load', 'unload'];

interface ModelManagerDef extends NodeDef {
  server?: string;
  action?: ModelManagerAction;
  modelId?: string;
  setAsDefault?: boolean;
}

function isAction(value: unknown): value is ModelManagerAction {
  return MODEL_MANAGER_ACTIONS.includes(value as ModelManagerAction);
}

export default function registerRoboflowModelManager(RED: NodeAPI): void {
  function RoboflowModelManagerNode(this: Node, config: ModelManagerDef) {
    RED.nodes.createNode(this, config);
    const server = findServer(RED, config.server);

    async function manage(msg: NodeMessage, { signal }: WorkContext): Promise<StatusText> {
      if (!server) throw new Error(RED._('roboflow-model-manager.errors.noServer'));
      const action = msg.action ?? config.action ?? 'info';
      if (!isAction(action)) {
        throw new Error(RED._('roboflow-model-manager.errors.unknownAction', { action: String(action), actions: MODEL_MANAGER_ACTIONS.join(', ') }));
      }
      const requestedModel = msg.modelId ?? config.modelId;
      const modelId = typeof requestedModel === 'string' ? requestedModel.trim() : '';
      if (ACTIONS_NEEDING_MODEL.includes(action) && !modelId) throw new Error(RED._('roboflow-model-manager.errors.noModel', { action }));

      const { client } = server;
      const options = { signal };
      const results: Record<ModelManagerAction, () => Promise<unknown>> = {
        info: () => client.getServerInfo(options),
        list: () => client.listLoadedModels(options),
        describe: () => client.getModelDescription(modelId, true, options),
        load: () => client.loadModel(modelId, config.setAsDefault === true, options),
        unload: () => client.unloadModel(modelId, options),
        unloadAll: () => client.unloadAllModels(options),
      };
      msg.payload = await results[action]();
      return () => RED._(`roboflow-model-manager.status.${action}`, { modelId });
    }

    // One message at a time, in order: registry changes must not overtake each other.
    handleMessages(this, messageSettings(RED, config), manage);
  }

  RED.nodes.registerType('roboflow-model-manager', RoboflowModelManagerNode as never);
}

// roboflow-workflow: runs a Roboflow workflow, inline (a specification) or named (workspace +
// workflow id), with image inputs taken from message properties and output images as JPEG Buffers.
// The editor lists the workflow's inputs and outputs through an admin endpoint using the deployed server.
import { redactSecret, type ImagesInput, type JsonObject, type RunWorkflowOptions, type WorkflowOutputs } from '../core';
import { layerConfiguration } from './shared/configuration';
import { handleMessages, type WorkContext } from './shared/messages';
import { messageSettings, type MessageSettingsDef } from './shared/messageSettings';
import type { AdminRequest, AdminResponse, Node, NodeAPI, NodeMessage } from './shared/nodeRed';
import { evaluateProperty, reviveBuffers } from './shared/properties';
import { findServer, resolveSecret } from './shared/server';
import type { StatusText } from './shared/status';

interface WorkflowDef extends MessageSettingsDef {
  server?: string;
  source?: 'specification' | 'named';
  specification?: string;
  specificationType?: string;
  workspace?: string;
  workflowId?: string;
  workflowVersion?: string;
  useCache?: boolean;
  enableProfiling?: boolean;
  excludedFields?: string;
  imageInputs?: string;
  parameters?: string;
  parametersType?: string;
  imageFormat?: 'buffer' | 'base64';
}

export interface ImageInputMapping {
  /** The workflow's input name. */
  input: string;
  /** The message property holding the image(s). */
  property: string;
}

/** `image=payload, left=frames.left` (one per line or comma-separated; `msg.` optional). */
export function parseImageInputs(text: string): ImageInputMapping[] {
  return text
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [input, property = ''] = entry.split('=').map((part) => part.trim());
      if (!input || !property) throw new Error(`Image input "${entry}" is not name=property`);
      return { input, property: property.replace(/^msg\./, '') };
    });
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function splitList(text: string | undefined): string[] {
  return (text ?? '').split(',').map((item) => item.trim()).filter(Boolean);
}

export default function registerRoboflowWorkflow(RED: NodeAPI): void {
  function RoboflowWorkflowNode(this: Node, config: WorkflowDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const server = findServer(RED, config.server);
    const named = config.source === 'named';
    const excludedFields = splitList(config.excludedFields);
    let imageInputs: ImageInputMapping[] = [];
    let setupError: Error | undefined;
    try {
      imageInputs = parseImageInputs(config.imageInputs ?? 'image=payload');
    } catch (error) {
      setupError = error as Error;
    }
    if (!server) setupError = new Error(RED._('roboflow-workflow.errors.noServer'));

    async function target(msg: NodeMessage): Promise<Pick<RunWorkflowOptions, 'workspaceName' | 'workflowId' | 'workflowVersionId' | 'specification'>> {
      if (named) {
        if (!config.workspace?.trim() || !config.workflowId?.trim()) throw new Error(RED._('roboflow-workflow.errors.noWorkflowId'));
        return { workspaceName: config.workspace.trim(), workflowId: config.workflowId.trim(), workflowVersionId: config.workflowVersion?.trim() || undefined };
      }
      const type = config.specificationType || 'json';
      if (type === 'json' && !config.specification?.trim()) throw new Error(RED._('roboflow-workflow.errors.noSpecification'));
      const specification = await evaluateProperty(RED, node, config.specification, type, msg);
      if (!isPlainObject(specification)) throw new Error(RED._('roboflow-workflow.errors.noSpecification'));
      return { specification };
    }

    function images(msg: NodeMessage): Record<string, ImagesInput> {
      const entries = imageInputs.map(({ input, property }) => {
        const value = reviveBuffers(messageProperty(msg, property));
        if (value === undefined || value === null || value === '') {
          throw new Error(RED._('roboflow-workflow.errors.noImage', { input, property }));
        }
        return [input, value as ImagesInput];
      });
      return Object.fromEntries(entries);
    }

    /** undefined when a parent is missing, where Node-RED would throw a TypeError about it. */
    function messageProperty(msg: NodeMessage, property: string): unknown {
      try {
        return RED.util.getMessageProperty(msg, property);
      } catch {
        return undefined;
      }
    }

    /** The node's parameters, then `msg.parameters` (the message wins). */
    async function parameters(msg: NodeMessage): Promise<JsonObject> {
      const fromNode = config.parameters?.trim() ? await evaluateProperty(RED, node, config.parameters, config.parametersType || 'json', msg) : {};
      const fromMessage = msg.parameters ?? {};
      if (!isPlainObject(fromNode) || !isPlainObject(fromMessage)) throw new Error(RED._('roboflow-workflow.errors.parameters'));
      return { ...fromNode, ...fromMessage };
    }

    async function run(msg: NodeMessage, context: WorkContext): Promise<StatusText> {
      if (setupError) throw setupError;
      const { client, configuration } = server!;
      const options: RunWorkflowOptions = {
        ...(await target(msg)),
        images: images(msg),
        parameters: await parameters(msg),
        excludedFields: excludedFields.length > 0 ? excludedFields : undefined,
        useCache: config.useCache !== false,
        enableProfiling: config.enableProfiling === true,
        onProfilerTrace: (trace) => {
          msg.profilerTrace = trace;
        },
      };
      const effective = layerConfiguration(configuration, { outputVisualisationFormat: config.imageFormat === 'base64' ? 'base64' : 'buffer' });
      const startedAt = performance.now();
      const outputs: WorkflowOutputs = await client.useConfiguration(effective, () => client.runWorkflow(options, { signal: context.signal }));
      const timeMs = Math.round(performance.now() - startedAt);
      msg.payload = outputs.length === 1 ? outputs[0] : outputs;
      return () => RED._('roboflow-workflow.status.done', { count: outputs.length, ms: timeMs });
    }

    handleMessages(node, messageSettings(RED, config), run);
  }

  RED.nodes.registerType('roboflow-workflow', RoboflowWorkflowNode as never);

  RED.httpAdmin.post('/roboflow-workflow/interface', RED.auth.needsPermission('roboflow-workflow.write'), (request, response) => {
    void describeInterface(RED, request, response);
  });
}

interface InterfaceEntry {
  name: string;
  kinds: string[];
}

/** Names and kinds only: enough for the dialog, nothing from the server's key or schemas. */
function interfaceEntries(described: unknown): InterfaceEntry[] {
  if (!isPlainObject(described)) return [];
  return Object.entries(described).map(([name, kinds]) => ({
    name,
    kinds: Array.isArray(kinds) ? kinds.map((kind) => (isPlainObject(kind) ? String(kind.name ?? '') : String(kind))) : [],
  }));
}

/** The inputs and outputs of the workflow the dialog shows, asked through the deployed server node's client. */
async function describeInterface(RED: NodeAPI, request: AdminRequest, response: AdminResponse): Promise<void> {
  const body = request.body ?? {};
  const server = findServer(RED, body.server);
  if (!server) {
    response.status(400).json({ error: RED._('roboflow-workflow.errors.serverNotDeployed') });
    return;
  }
  try {
    let specification = body.specification;
    if (typeof specification === 'string') specification = JSON.parse(specification) as unknown;
    const described =
      body.source === 'named'
        ? await server.client.describeWorkflowInterface({
            workspaceName: String(body.workspace ?? ''),
            workflowId: String(body.workflowId ?? ''),
            workflowVersionId: typeof body.workflowVersion === 'string' && body.workflowVersion ? body.workflowVersion : undefined,
          })
        : await server.client.describeWorkflowInterface({ specification: specification as JsonObject });
    response.json({ inputs: interfaceEntries(described.inputs), outputs: interfaceEntries(described.outputs) });
  } catch (error) {
    const apiKey = resolveSecret(RED.nodes.getCredentials(server.id)?.apiKey);
    response.status(502).json({ error: redactSecret((error as Error).message, apiKey) });
  }
}

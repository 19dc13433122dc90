// roboflow-server: the config node. It owns the one InferenceHTTPClient (one connection pool)
// that every node using this server shares, closes it on redeploy, and serves the editor's
// Test connection button and model picker through admin endpoints that never return the key.
import { InferenceConfiguration, InferenceHTTPClient, redactSecret } from '../core';
import { STRICT_URL_POLICY, type UrlPolicy, type UrlPolicyInput } from '../core/urlPolicy';
import { layerConfiguration, parseOptions } from './shared/configuration';
import type { AdminRequest, AdminResponse, NodeAPI, NodeDef } from './shared/nodeRed';
import { resolveSecret, SERVER_NODE_TYPE, type RoboflowServer } from './shared/server';

export const DEFAULT_SERVER_URL = 'http://localhost:9001';

interface ServerCredentials {
  apiKey?: string;
  serviceSecret?: string;
}

interface ServerDef extends NodeDef {
  url?: string;
  apiMode?: 'auto' | 'v0' | 'v1';
  urlPolicy?: 'permissive' | 'strict' | 'custom';
  allowUrlInput?: boolean;
  allowNonHttps?: boolean;
  allowNonGlobalAddresses?: boolean;
  allowHostsWithoutFqdn?: boolean;
  allowedHosts?: string;
  deniedHosts?: string;
  /** Blank = the preset's cap. */
  maxDownloadMb?: string | number;
  downloadTimeoutSeconds?: string | number;
  fileBaseDir?: string;
}

function hostList(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}

/** A positive number from an editor field, else undefined (blank or invalid: keep the preset's value). */
function positive(value: string | number | undefined): number | undefined {
  const number = Number(value);
  return value === '' || value === undefined || !Number.isFinite(number) || number <= 0 ? undefined : number;
}

function downloadCaps(config: ServerDef): Partial<UrlPolicy> {
  const megabytes = positive(config.maxDownloadMb);
  const seconds = positive(config.downloadTimeoutSeconds);
  return {
    ...(megabytes === undefined ? {} : { maxDownloadBytes: Math.round(megabytes * 1024 * 1024) }),
    ...(seconds === undefined ? {} : { downloadTimeoutMs: Math.round(seconds * 1000) }),
  };
}

function urlPolicyFrom(config: ServerDef): UrlPolicyInput {
  const overrides = { allowedHosts: hostList(config.allowedHosts), deniedHosts: hostList(config.deniedHosts), ...downloadCaps(config) };
  if (config.urlPolicy === 'custom') {
    return {
      allowUrlInput: config.allowUrlInput !== false,
      allowNonHttps: config.allowNonHttps !== false,
      allowNonGlobalAddresses: config.allowNonGlobalAddresses !== false,
      allowHostsWithoutFqdn: config.allowHostsWithoutFqdn !== false,
      ...overrides,
    };
  }
  return { ...(config.urlPolicy === 'strict' ? STRICT_URL_POLICY : {}), ...overrides };
}

type Writable<T> = { -readonly [Key in keyof T]: T[Key] };

interface ClientSettings {
  url: string;
  apiKey: string | undefined;
  apiMode: ServerDef['apiMode'];
  configuration: InferenceConfiguration;
  urlPolicy?: UrlPolicyInput;
  fileBaseDir?: string;
}

function createClient(settings: ClientSettings): InferenceHTTPClient {
  const client = new InferenceHTTPClient(settings.url, settings.apiKey, {
    urlPolicy: settings.urlPolicy,
    fileBaseDir: settings.fileBaseDir,
  });
  client.configure(settings.configuration);
  if (settings.apiMode === 'v0') client.selectApiV0();
  if (settings.apiMode === 'v1') client.selectApiV1();
  return client;
}

export default function registerRoboflowServer(RED: NodeAPI): void {
  function RoboflowServerNode(this: Writable<RoboflowServer> & { credentials: ServerCredentials }, config: ServerDef) {
    RED.nodes.createNode(this, config);
    this.fileBaseDir = config.fileBaseDir?.trim() || undefined;
    const credentials: ServerCredentials = this.credentials ?? {};
    try {
      this.configuration = layerConfiguration(new InferenceConfiguration(), parseOptions(config), {
        serviceSecret: resolveSecret(credentials.serviceSecret),
      });
    } catch (error) {
      this.error(RED._('roboflow-server.errors.configuration', { message: (error as Error).message }));
      this.configuration = new InferenceConfiguration();
    }
    this.client = createClient({
      url: config.url || DEFAULT_SERVER_URL,
      apiKey: resolveSecret(credentials.apiKey),
      apiMode: config.apiMode,
      configuration: this.configuration,
      urlPolicy: urlPolicyFrom(config),
      fileBaseDir: this.fileBaseDir,
    });
    this.on('close', (_removed: boolean, done: () => void) => {
      this.client.close().then(done, done);
    });
  }

  RED.nodes.registerType(SERVER_NODE_TYPE, RoboflowServerNode as never, {
    credentials: { apiKey: { type: 'password' }, serviceSecret: { type: 'password' } },
  });

  const permission = RED.auth.needsPermission(`${SERVER_NODE_TYPE}.write`);
  RED.httpAdmin.post(`/${SERVER_NODE_TYPE}/info`, permission, (request, response) => {
    void answerWithClient(RED, request, response, async (client) => ({ ...(await client.getServerInfo()), mode: client.clientMode }));
  });
  RED.httpAdmin.post(`/${SERVER_NODE_TYPE}/models`, permission, (request, response) => {
    void answerWithClient(RED, request, response, async (client) => {
      const { models } = await client.listLoadedModels();
      // Only what the picker shows.
      return { models: models.map(({ modelId, taskType }) => ({ modelId, taskType })) };
    });
  });
}

// The editor waits for these answers; a server that does not answer quickly is reported as such.
const ADMIN_TIMEOUT_MS = 10_000;

/**
 * Builds a short-lived client from what the dialog shows: the posted URL and mode, and the
 * posted key when the dialog holds an unsaved one, else the deployed node's key (by id, and
 * only for the deployed URL).
 * Replies with the result, or 502 with a message from which the key has been removed.
 */
async function answerWithClient(
  RED: NodeAPI,
  request: AdminRequest,
  response: AdminResponse,
  action: (client: InferenceHTTPClient) => Promise<unknown>,
): Promise<void> {
  const body = request.body ?? {};
  const deployed = typeof body.id === 'string' ? RED.nodes.getNode(body.id) : null;
  const deployedConfig = deployed?.type === SERVER_NODE_TYPE ? (deployed as RoboflowServer) : undefined;
  const postedKey = typeof body.apiKey === 'string' && body.apiKey && body.apiKey !== '__PWRD__' ? body.apiKey : undefined;
  const url = typeof body.url === 'string' && body.url ? body.url : (deployedConfig?.client.apiUrl ?? DEFAULT_SERVER_URL);
  // A deployed key only ever goes to the URL it was deployed with: a dialog pointing elsewhere
  // must type the key again, so this endpoint cannot send a stored key to an arbitrary host.
  const sameServer = deployedConfig !== undefined && url.replace(/\/+$/, '') === deployedConfig.client.apiUrl;
  const storedKey = sameServer ? RED.nodes.getCredentials(deployedConfig.id)?.apiKey : undefined;
  const apiKey = resolveSecret(postedKey ?? storedKey);
  let client: InferenceHTTPClient | undefined;
  try {
    client = createClient({
      url,
      apiKey,
      apiMode: body.apiMode as ServerDef['apiMode'],
      configuration: new InferenceConfiguration({
        requestTimeoutMs: ADMIN_TIMEOUT_MS,
        ...parseOptions(body, ['apiKeyTransport']),
      }),
    });
    response.json(await action(client));
  } catch (error) {
    response.status(502).json({ error: redactSecret((error as Error).message, apiKey) });
  } finally {
    await client?.close();
  }
}

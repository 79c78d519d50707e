/**
 * A small Docker Engine API client on node:http (node:https only for TLS endpoints, loaded on
 * demand). It covers what macvlanctl needs and nothing else; dockerode would cost ~0.1 s of import
 * time on every run for grpc/protobuf/ssh2 we never use.
 *
 * Version negotiation follows the Docker CLI: GET /_ping, read the API-Version header, then talk
 * min(server, MAX_API_VERSION) with every path prefixed by /v<version>.
 *
 * Errors are MacvlanErrors: DOCKER_UNAVAILABLE (cannot reach the engine), NOT_PERMITTED (socket
 * permissions), NOT_FOUND (404), DOCKER_CONFLICT (409 and the engine's known conflict messages),
 * DOCKER_ERROR (anything else the engine refused), with `status` and the engine's `message` in details.
 */
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import { MacvlanError } from '../../model/errors.js';
import type { DockerEndpoint, TlsSettings } from './endpoint.js';

/** The newest Engine API version this client was written against. */
export const MAX_API_VERSION = '1.45';
/** What an engine that sends no API-Version header speaks (as the Docker CLI assumes). */
const FALLBACK_API_VERSION = '1.24';
const DEFAULT_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------------
// Engine API shapes (only the fields we read; the engine sends more)

export interface EngineIpamConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string> | null;
}

export interface EngineNetworkContainer {
  Name?: string;
  EndpointID?: string;
  MacAddress?: string;
  IPv4Address?: string;
  IPv6Address?: string;
}

export interface EngineNetwork {
  Name: string;
  Id: string;
  Created?: string;
  Scope?: string;
  Driver?: string;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Options?: Record<string, string> | null; Config?: EngineIpamConfig[] | null };
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigFrom?: { Network?: string } | null;
  ConfigOnly?: boolean;
  Containers?: Record<string, EngineNetworkContainer> | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  [key: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------
// Swarm shapes (GET /info, /nodes, /tasks, /services; only the fields we read). Kept in one block with
// the Swarm calls in DockerClient (after listNetworks).

export interface EngineSwarmInfo {
  /** '' when the engine is not in a swarm */
  NodeID?: string;
  NodeAddr?: string;
  /** 'inactive' | 'pending' | 'active' | 'error' | 'locked' */
  LocalNodeState?: string;
  /** true on a manager: it can answer /nodes, /tasks, /services and create swarm-scoped networks */
  ControlAvailable?: boolean;
  Error?: string;
  Nodes?: number;
  Managers?: number;
  [key: string]: unknown;
}

export interface EngineInfo {
  /** the engine's host name (its UTS namespace's), which is also its swarm node's Description.Hostname */
  Name?: string;
  ID?: string;
  ServerVersion?: string;
  Swarm?: EngineSwarmInfo;
  [key: string]: unknown;
}

export interface EngineSwarmNode {
  ID: string;
  Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> | null; Name?: string };
  Description?: { Hostname?: string; [key: string]: unknown };
  Status?: { State?: string; Addr?: string; Message?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string; Addr?: string } | null;
  [key: string]: unknown;
}

export interface EngineTaskNetworkAttachment {
  Network?: { ID?: string; Spec?: { Name?: string; ConfigFrom?: { Network?: string } | null; Scope?: string; [key: string]: unknown } };
  /** "198.51.100.193/24"; empty for macvlan: each node allocates those addresses itself */
  Addresses?: string[] | null;
}

export interface EngineTask {
  ID: string;
  ServiceID?: string;
  NodeID?: string;
  Slot?: number;
  DesiredState?: string;
  Status?: { State?: string; Message?: string; Err?: string; Timestamp?: string; ContainerStatus?: { ContainerID?: string } | null };
  NetworksAttachments?: EngineTaskNetworkAttachment[] | null;
  [key: string]: unknown;
}

export interface EngineService {
  ID: string;
  Spec?: {
    Name?: string;
    TaskTemplate?: { Networks?: { Target?: string; Aliases?: string[] }[] | null; Placement?: { Constraints?: string[] | null } | null; [key: string]: unknown };
    Mode?: { Replicated?: { Replicas?: number }; Global?: object };
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** One task endpoint of a swarm network, as `GET /networks/{id}?verbose=true` lists it (from the network's gossip). */
export interface EngineNetworkServiceTask {
  Name?: string;
  EndpointID?: string;
  EndpointIP?: string;
  Info?: Record<string, string> | null;
}

export interface EngineNetworkVerbose extends EngineNetwork {
  Services?: Record<string, { VIP?: string; Tasks?: EngineNetworkServiceTask[] | null; [key: string]: unknown }> | null;
  Peers?: { Name?: string; IP?: string }[] | null;
}

export interface EngineNetworkCreate {
  Name: string;
  Driver?: string;
  /** Defaults to true here: before API 1.44 the engine otherwise allows two networks with one name. */
  CheckDuplicate?: boolean;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network: string };
  IPAM?: { Driver?: string; Config?: EngineIpamConfig[]; Options?: Record<string, string> };
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

export interface EngineEndpointSettings {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
  Aliases?: string[] | null;
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  GlobalIPv6Address?: string;
  MacAddress?: string;
  [key: string]: unknown;
}

export interface EngineContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  State: string;
  Status: string;
  Labels?: Record<string, string> | null;
  NetworkSettings?: { Networks?: Record<string, EngineEndpointSettings> };
  [key: string]: unknown;
}

export interface EngineVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
  [key: string]: unknown;
}

export interface ConnectOptions {
  /** Deadline for each request (the whole request, not just idle time). Default 15 s. */
  timeoutMs?: number;
  /** Talk this API version instead of negotiating (still capped by the server's). */
  apiVersion?: string;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  timeoutMs?: number;
  /** Statuses that are not errors besides 2xx (e.g. 304 for start/stop). */
  okStatuses?: number[];
  /** Resolve whatever the status: the caller reads it (the lab's raw API calls). */
  anyStatus?: boolean;
  /** A body that is not JSON (an image tar), instead of `body`. */
  rawBody?: { data: Buffer; contentType: string };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

// ---------------------------------------------------------------------------------------------------
// Pure helpers (exported for tests)

/** Compare dotted API versions numerically ("1.9" < "1.41"). */
export function engineVersionFromServerHeader(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  const m = text ? /^Docker\/(\S+)/.exec(text) : null;
  return m ? m[1] : undefined;
}

export function compareApiVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** The version to talk: the server's, capped at ours. Garbage or absent → the CLI's fallback 1.24. */
export function negotiateApiVersion(serverHeader: string | undefined, max = MAX_API_VERSION): string {
  const server = serverHeader?.trim();
  if (!server || !/^[0-9]+\.[0-9]+$/.test(server)) return compareApiVersions(FALLBACK_API_VERSION, max) < 0 ? FALLBACK_API_VERSION : max;
  return compareApiVersions(server, max) < 0 ? server : max;
}

/** The engine's error text from a response body ({"message": …}, else the text itself). */
export function engineMessage(body: Buffer | string): string {
  const text = (typeof body === 'string' ? body : body.toString('utf8')).trim();
  if (text === '') return '';
  try {
    const j = JSON.parse(text) as { message?: unknown };
    if (j && typeof j.message === 'string') return j.message;
  } catch {
    // not JSON: plain text
  }
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/**
 * MacvlanError for an HTTP error status. Some conflicts come with other statuses than 409 in
 * dockerd 20.10: a second macvlan network on a parent that already has one is HTTP 500
 * ("network dm-… is already using parent interface eno1"), an overlapping subnet is HTTP 403
 * ("Pool overlaps with other one on this address space"). Both are DOCKER_CONFLICT here.
 */
export function httpError(status: number, method: string, path: string, body: Buffer | string, endpoint: string): MacvlanError {
  const message = engineMessage(body);
  const what = `${method} ${path.replace(/^\/v[0-9.]+/, '')}`;
  const details = { status, method, path, engineMessage: message, endpoint };
  const text = message || `HTTP ${status}`;
  if (status === 404) return new MacvlanError('NOT_FOUND', `Docker engine: ${text} (HTTP 404 from ${what})`, details);
  if (/already using parent interface/i.test(message)) {
    return new MacvlanError(
      'DOCKER_CONFLICT',
      `Docker engine: ${text} (HTTP ${status} from ${what}); a parent interface carries at most one macvlan network per Docker host: ` +
        `reuse that network, remove it, or use a VLAN subinterface (eno1.10) as parent`,
      { ...details, conflict: 'parent' },
    );
  }
  if (/pool overlaps/i.test(message)) {
    return new MacvlanError(
      'DOCKER_CONFLICT',
      `Docker engine: ${text} (HTTP ${status} from ${what}); another Docker network already uses an overlapping subnet`,
      { ...details, conflict: 'subnet' },
    );
  }
  if (status === 409) return new MacvlanError('DOCKER_CONFLICT', `Docker engine: ${text} (HTTP 409 from ${what})`, details);
  return new MacvlanError('DOCKER_ERROR', `Docker engine: ${text} (HTTP ${status} from ${what})`, details);
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'ENOTSOCK', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EADDRNOTAVAIL']);

/** MacvlanError for a transport failure (socket/TCP/TLS), with what to do about it. */
export function transportError(err: NodeJS.ErrnoException, endpoint: DockerEndpoint): MacvlanError {
  const code = err.code ?? '';
  const where = endpoint.url;
  const details = { endpoint: where, source: endpoint.source, errno: code, cause: err.message };
  if (code === 'EACCES' || code === 'EPERM') {
    const sock = endpoint.kind === 'unix' ? endpoint.socketPath : where;
    return new MacvlanError(
      'NOT_PERMITTED',
      `permission denied on the Docker engine socket ${sock}: run as root (sudo), or add your user to the docker group ` +
        `(sudo usermod -aG docker $USER, then log in again)`,
      details,
      { cause: err },
    );
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME|ERR_OSSL/i.test(code) || /certificate|ssl|tls/i.test(err.message)) {
    return new MacvlanError(
      'DOCKER_UNAVAILABLE',
      `TLS with the Docker engine at ${where} failed (${err.message}); check DOCKER_CERT_PATH / the context's certificates and DOCKER_TLS_VERIFY`,
      details,
      { cause: err },
    );
  }
  let hint =
    endpoint.kind === 'unix'
      ? `start Docker (systemctl start docker), or point DOCKER_HOST / --docker-host / the Docker context at the right socket`
      : `check that the engine listens there and that DOCKER_HOST / --docker-host / the Docker context is right`;
  if (endpoint.kind === 'tcp' && !endpoint.tls && code === 'ECONNRESET') hint += `; if it expects TLS, set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH`;
  const why = UNREACHABLE.has(code)
    ? code === 'ENOENT'
      ? `the socket does not exist`
      : code === 'ECONNREFUSED'
        ? `connection refused`
        : `${code}`
    : err.message;
  return new MacvlanError('DOCKER_UNAVAILABLE', `the Docker engine at ${where} is not reachable (${why}): ${hint}`, details, { cause: err });
}

// ---------------------------------------------------------------------------------------------------
// Transport

interface Transport {
  request: typeof httpRequest;
  /** `servername` is read by http.Agent although RequestOptions does not declare it. */
  base: RequestOptions & { servername?: string };
  agent: Agent;
  basePath: string;
}

async function makeTransport(endpoint: DockerEndpoint): Promise<Transport> {
  if (endpoint.kind === 'unix') {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    // servername '' stops the agent from checking whether 'localhost' is an IP
    // literal, whose first use compiles a large regex (~4 ms of start-up).
    return { request: httpRequest, base: { socketPath: endpoint.socketPath, host: 'localhost', servername: '' }, agent, basePath: '' };
  }
  if (!endpoint.tls) {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    return { request: httpRequest, base: { host: endpoint.host, port: endpoint.port }, agent, basePath: endpoint.basePath };
  }
  const https = await import('node:https');
  const tlsOpts = readTlsMaterial(endpoint.tls, endpoint);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8, ...tlsOpts });
  return {
    request: https.request as unknown as typeof httpRequest,
    base: { host: endpoint.host, port: endpoint.port, ...tlsOpts },
    agent,
    basePath: endpoint.basePath,
  };
}

function readTlsMaterial(tls: TlsSettings, endpoint: DockerEndpoint): { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean } {
  const read = (file: string | undefined, what: string, required: boolean): Buffer | undefined => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (e) {
      if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new MacvlanError(
        'DOCKER_UNAVAILABLE',
        `cannot read the TLS ${what} ${file} for the Docker engine at ${endpoint.url} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ` +
          `check DOCKER_CERT_PATH or the context's TLS files`,
        { endpoint: endpoint.url, file },
      );
    }
  };
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean } = { rejectUnauthorized: tls.verify };
  // With verification the CA file is required (as the CLI); client cert and key are optional as a pair.
  const ca = read(tls.caFile, 'CA certificate', tls.verify);
  const cert = read(tls.certFile, 'client certificate', false);
  const key = read(tls.keyFile, 'client key', false);
  if (ca) out.ca = ca;
  if (cert && key) {
    out.cert = cert;
    out.key = key;
  }
  return out;
}

function buildQuery(query: RequestSpec['query']): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

const seg = encodeURIComponent;

// ---------------------------------------------------------------------------------------------------
// Client

export class DockerClient {
  /** The API version in use ("1.41"). */
  readonly apiVersion: string;
  /** Raw API-Version header of GET /_ping. */
  readonly serverApiVersion: string | undefined;
  readonly endpoint: DockerEndpoint;
  readonly timeoutMs: number;
  private readonly transport: Transport;

  private constructor(endpoint: DockerEndpoint, transport: Transport, apiVersion: string, serverApiVersion: string | undefined, timeoutMs: number) {
    this.endpoint = endpoint;
    this.transport = transport;
    this.apiVersion = apiVersion;
    this.serverApiVersion = serverApiVersion;
    this.timeoutMs = timeoutMs;
  }

  /**
   * A client for an engine this run has already pinged (fact gathering did):
   * it talks the version negotiated then, without a second `/_ping`. An engine
   * gone meanwhile fails the first request instead, with the same errors.
   */
  static async negotiated(endpoint: DockerEndpoint, apiVersion: string, opts: Omit<ConnectOptions, 'apiVersion'> = {}): Promise<DockerClient> {
    const transport = await makeTransport(endpoint);
    return new DockerClient(endpoint, transport, apiVersion, undefined, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  /** Ping the engine and negotiate the API version. Throws DOCKER_UNAVAILABLE / NOT_PERMITTED. */
  static async connect(endpoint: DockerEndpoint, opts: ConnectOptions = {}): Promise<DockerClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const transport = await makeTransport(endpoint);
    let res: RawResponse;
    try {
      res = await send(transport, endpoint, 'GET', '/_ping', undefined, timeoutMs, true);
    } catch (e) {
      transport.agent.destroy();
      throw e;
    }
    if (res.status !== 200) {
      transport.agent.destroy();
      const err = httpError(res.status, 'GET', '/_ping', res.body, endpoint.url);
      if (/HTTP request to an HTTPS server/i.test(res.body.toString('utf8'))) {
        throw new MacvlanError(
          'DOCKER_UNAVAILABLE',
          `the Docker engine at ${endpoint.url} expects TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem), or use a Docker context with TLS`,
          err.details,
        );
      }
      throw new MacvlanError('DOCKER_UNAVAILABLE', `the Docker engine at ${endpoint.url} is not healthy: ${err.message}`, err.details);
    }
    const header = res.headers['api-version'];
    const server = Array.isArray(header) ? header[0] : header;
    let version = negotiateApiVersion(server);
    if (opts.apiVersion) version = negotiateApiVersion(opts.apiVersion, version);
    const client = new DockerClient(endpoint, transport, version, server, timeoutMs);
    client.engineVersionFromPing = engineVersionFromServerHeader(res.headers.server);
    return client;
  }

  /** The engine version as the `Server` header of /_ping names it ("Docker/20.10.24+dfsg1 (linux)"), saving a /version call. */
  engineVersionFromPing: string | undefined;

  /** Release kept-alive sockets (idle ones never keep the process alive anyway). */
  close(): void {
    this.transport.agent.destroy();
  }

  /** One request; `path` without the version prefix. Resolves for 2xx and `okStatuses`, throws otherwise. */
  async request(spec: RequestSpec): Promise<RawResponse> {
    const path = `/v${this.apiVersion}${spec.path}${buildQuery(spec.query)}`;
    const payload = spec.rawBody ?? (spec.body === undefined ? undefined : { data: Buffer.from(JSON.stringify(spec.body)), contentType: 'application/json' });
    const res = await send(this.transport, this.endpoint, spec.method, path, payload, spec.timeoutMs ?? this.timeoutMs, false);
    if (spec.anyStatus || (res.status >= 200 && res.status < 300) || spec.okStatuses?.includes(res.status)) return res;
    throw httpError(res.status, spec.method, path, res.body, this.endpoint.url);
  }

  async requestJson<T>(spec: RequestSpec): Promise<T> {
    const res = await this.request(spec);
    const text = res.body.toString('utf8');
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new MacvlanError('DOCKER_ERROR', `Docker engine sent invalid JSON for ${spec.method} ${spec.path}`, { path: spec.path, body: text.slice(0, 200) });
    }
  }

  version(): Promise<EngineVersion> {
    return this.requestJson<EngineVersion>({ method: 'GET', path: '/version' });
  }

  /** GET /networks. Note: the list does not fill `Containers`; inspect a network for that. */
  listNetworks(filters?: Record<string, string[]>): Promise<EngineNetwork[]> {
    return this.requestJson<EngineNetwork[]>({ method: 'GET', path: '/networks', query: { filters: filters ? JSON.stringify(filters) : undefined } });
  }

  // -------------------------------------------------------------------------------------------------
  // Swarm (#13). /nodes, /tasks and /services answer only on a manager (HTTP 503 on a worker:
  // DOCKER_ERROR with status 503); /info answers everywhere and says which one this engine is.

  /** GET /info: the engine's Name and its Swarm state (NodeID, ControlAvailable). */
  info(): Promise<EngineInfo> {
    return this.requestJson<EngineInfo>({ method: 'GET', path: '/info' });
  }

  /** GET /nodes (manager only). */
  listNodes(filters?: Record<string, string[]>): Promise<EngineSwarmNode[]> {
    return this.requestJson<EngineSwarmNode[]>({ method: 'GET', path: '/nodes', query: { filters: filters ? JSON.stringify(filters) : undefined } });
  }

  /** GET /tasks (manager only), e.g. filters { network: ['lan'] } or { 'desired-state': ['running'] }. */
  listTasks(filters?: Record<string, string[]>): Promise<EngineTask[]> {
    return this.requestJson<EngineTask[]>({ method: 'GET', path: '/tasks', query: { filters: filters ? JSON.stringify(filters) : undefined } });
  }

  /** GET /services (manager only). */
  listServices(filters?: Record<string, string[]>): Promise<EngineService[]> {
    return this.requestJson<EngineService[]>({ method: 'GET', path: '/services', query: { filters: filters ? JSON.stringify(filters) : undefined } });
  }

  /**
   * GET /networks/{id}?verbose=true: for a swarm-scoped network also `Services` (each task's endpoint
   * address and node) and `Peers`, as far as this engine's share of the network's gossip knows them.
   * undefined when there is no such network.
   */
  async inspectNetworkVerbose(idOrName: string, opts: { scope?: 'swarm' | 'local' } = {}): Promise<EngineNetworkVerbose | undefined> {
    try {
      return await this.requestJson<EngineNetworkVerbose>({ method: 'GET', path: `/networks/${seg(idOrName)}`, query: { verbose: 'true', scope: opts.scope } });
    } catch (e) {
      if (e instanceof MacvlanError && e.code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }

  /** GET /networks/{id}; undefined when there is no such network. */
  async inspectNetwork(idOrName: string): Promise<EngineNetwork | undefined> {
    try {
      return await this.requestJson<EngineNetwork>({ method: 'GET', path: `/networks/${seg(idOrName)}` });
    } catch (e) {
      if (e instanceof MacvlanError && e.code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }

  /** POST /networks/create → the new network's id. CheckDuplicate defaults to true. */
  async createNetwork(body: EngineNetworkCreate): Promise<string> {
    const res = await this.requestJson<{ Id: string; Warning?: string }>({
      method: 'POST',
      path: '/networks/create',
      body: { CheckDuplicate: true, ...body },
    });
    return res.Id;
  }

  async removeNetwork(idOrName: string): Promise<void> {
    await this.request({ method: 'DELETE', path: `/networks/${seg(idOrName)}` });
  }

  async disconnectContainer(network: string, container: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.request({ method: 'POST', path: `/networks/${seg(network)}/disconnect`, body: { Container: container, Force: opts.force ?? false } });
  }

  listContainers(opts: { all?: boolean; filters?: Record<string, string[]> } = {}): Promise<EngineContainerSummary[]> {
    return this.requestJson<EngineContainerSummary[]>({
      method: 'GET',
      path: '/containers/json',
      query: { all: opts.all ? 'true' : undefined, filters: opts.filters ? JSON.stringify(opts.filters) : undefined },
    });
  }

}

function send(
  transport: Transport,
  endpoint: DockerEndpoint,
  method: string,
  path: string,
  payload: { data: Buffer; contentType: string } | undefined,
  timeoutMs: number,
  connecting: boolean,
  retried = false,
): Promise<RawResponse> {
  const headers: Record<string, string | number> = { Accept: 'application/json' };
  if (payload) {
    headers['Content-Type'] = payload.contentType;
    headers['Content-Length'] = payload.data.length;
  } else if (method === 'POST' || method === 'PUT') {
    headers['Content-Length'] = 0;
  }
  // Whether a request that changes things reached the engine cannot be known after a timeout or a
  // connection lost mid-request: the engine may have acted, or still act. Callers that must not guess
  // (apply's rollback) look for details.outcomeUnknown and check what exists.
  const changes = method !== 'GET' && method !== 'HEAD' && !connecting;
  const unknownOutcome = (err: MacvlanError, errno?: string): MacvlanError =>
    changes && (errno === undefined || errno === 'ECONNRESET' || errno === 'EPIPE') ? new MacvlanError(err.code, err.message, { ...err.details, outcomeUnknown: true }, { cause: err.cause }) : err;
  return new Promise<RawResponse>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, res?: RawResponse) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(res!);
    };
    const req = transport.request({ ...transport.base, agent: transport.agent, method, path: transport.basePath + path, headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (e) => finish(unknownOutcome(transportError(e as NodeJS.ErrnoException, endpoint), 'ECONNRESET')));
      res.on('aborted', () => finish(unknownOutcome(transportError(Object.assign(new Error('the engine closed the connection mid-response'), { code: 'ECONNRESET' }), endpoint), 'ECONNRESET')));
    });
    const timer = setTimeout(() => {
      const what = `${method} ${path.replace(/^\/v[0-9.]+/, '')}`;
      finish(
        connecting
          ? new MacvlanError(
              'DOCKER_UNAVAILABLE',
              `the Docker engine at ${endpoint.url} did not answer within ${timeoutMs} ms: check that it is running and that DOCKER_HOST / --docker-host / the Docker context is right`,
              { endpoint: endpoint.url, timeoutMs },
            )
          : unknownOutcome(
              new MacvlanError('DOCKER_ERROR', `the Docker engine at ${endpoint.url} did not answer ${what} within ${timeoutMs} ms`, {
                endpoint: endpoint.url,
                timeoutMs,
                method,
                path,
              }),
            ),
      );
      req.destroy();
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      // A kept-alive socket the engine closed while idle fails on first use: retry once on a fresh one.
      if (!done && !retried && req.reusedSocket && e.code === 'ECONNRESET') {
        done = true;
        clearTimeout(timer);
        send(transport, endpoint, method, path, payload, timeoutMs, connecting, true).then(resolve, reject);
        return;
      }
      finish(unknownOutcome(transportError(e, endpoint), e.code ?? ''));
    });
    if (payload) req.end(payload.data);
    else req.end();
  });
}

// ---------------------------------------------------------------------------------------------------
// The events stream (macvlanctl watch). GET /events answers with one JSON object per line for as long
// as the engine runs; it ends when dockerd stops, and what happened while no one listened is not
// replayed, so the caller re-reads everything after a reconnect (src/system/watch/docker-events.ts).

/** One engine event (only the fields read; the engine sends more). */
export interface EngineEvent {
  Type: string;
  Action: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> | null };
  scope?: string;
  time?: number;
  timeNano?: number;
}

/**
 * Splits what arrived on the stream into whole events and the unfinished
 * tail (a chunk may end mid-object). A line that is not an event is skipped:
 * one bad line must not end the watch.
 */
export function parseEventChunk(buffered: string): { events: EngineEvent[]; rest: string } {
  const lines = buffered.split('\n');
  const rest = lines.pop() ?? '';
  const events: EngineEvent[] = [];
  for (const line of lines) {
    const text = line.trim();
    if (text === '') continue;
    try {
      const e = JSON.parse(text) as Partial<EngineEvent>;
      if (e && typeof e.Type === 'string' && typeof e.Action === 'string') events.push(e as EngineEvent);
    } catch {
      // not an event: skipped
    }
  }
  return { events, rest };
}

export interface EventStreamOptions {
  /** Engine-side filters, as for `docker events --filter` ({ type: ['network'], event: ['connect'] }). */
  filters?: Record<string, string[]>;
  onEvent: (event: EngineEvent) => void;
  /** The engine accepted the subscription: events from now on are seen. */
  onOpen?: () => void;
  /** Ends the stream (resolves). */
  signal?: AbortSignal;
}

/**
 * Follows the engine's events until the engine closes the stream (resolves:
 * a dockerd restart) or the connection fails (rejects with
 * DOCKER_UNAVAILABLE). A stream of its own, without the request deadline.
 */
export async function streamEngineEvents(client: DockerClient, opts: EventStreamOptions): Promise<void> {
  const endpoint = client.endpoint;
  const transport = await makeTransport(endpoint);
  const path = `/v${client.apiVersion}/events${buildQuery({ filters: opts.filters ? JSON.stringify(opts.filters) : undefined })}`;
  try {
    await new Promise<void>((resolve, reject) => {
      if (opts.signal?.aborted) return resolve();
      const req = transport.request({ ...transport.base, agent: transport.agent, method: 'GET', path: transport.basePath + path, headers: { Accept: 'application/json' } }, (res) => {
        if ((res.statusCode ?? 0) !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => reject(httpError(res.statusCode ?? 0, 'GET', path, Buffer.concat(chunks), endpoint.url)));
          return;
        }
        opts.onOpen?.();
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const parsed = parseEventChunk(buffered + chunk);
          buffered = parsed.rest.length > 1_000_000 ? '' : parsed.rest;
          for (const e of parsed.events) opts.onEvent(e);
        });
        res.on('end', () => resolve());
        // dockerd killed hard: the socket closes mid-stream. It is the same news as a clean end.
        res.on('aborted', () => resolve());
        res.on('error', () => resolve());
      });
      const abort = () => {
        req.destroy();
        resolve();
      };
      opts.signal?.addEventListener('abort', abort, { once: true });
      req.on('close', () => opts.signal?.removeEventListener('abort', abort));
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (opts.signal?.aborted) return resolve();
        reject(transportError(e, endpoint));
      });
      req.end();
    });
  } finally {
    transport.agent.destroy();
  }
}

/**
 * POST /containers/{id}/restart. The watcher's only change to Docker: a container whose macvlan
 * interface the kernel deleted with its parent gets it back only by being started again (Docker's
 * macvlan driver makes the link in Join and never follows netlink).
 */
export async function restartEngineContainer(client: DockerClient, idOrName: string, opts: { timeoutSeconds?: number } = {}): Promise<void> {
  // Without `t` the engine stops the container as it was told to (its own --stop-timeout, 10 s by default):
  // a database given 60 s to shut down is not killed after 10. The request waits up to 5 minutes for that.
  const t = opts.timeoutSeconds;
  await client.request({ method: 'POST', path: `/containers/${seg(idOrName)}/restart`, query: t === undefined ? {} : { t }, timeoutMs: client.timeoutMs + (t ?? 300) * 1000 });
}

/** GET /containers/{id}/json, the little the watcher reads of it: name, and its init's pid while running. */
export async function containerInitPid(client: DockerClient, idOrName: string): Promise<{ id: string; name: string; pid: number }> {
  const c = await client.requestJson<{ Id: string; Name?: string; State?: { Running?: boolean; Pid?: number } }>({ method: 'GET', path: `/containers/${seg(idOrName)}/json` });
  return { id: c.Id, name: (c.Name ?? idOrName).replace(/^\//, ''), pid: c.State?.Running && typeof c.State.Pid === 'number' ? c.State.Pid : 0 };
}

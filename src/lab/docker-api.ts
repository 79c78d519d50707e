/**
 * The lab's Engine API calls, through the product's one client
 * (src/system/docker/client.ts): raw requests for the lab and its tests
 * (`host.dockerApi`, the daemon's readiness, image import), and the
 * container, exec and image calls only tests make. They live here, not in
 * the client, so the client holds what macvlanctl itself does.
 */
import { DockerClient, type EngineEndpointSettings, type RequestSpec } from '../system/docker/client.js';
import { parseDockerHost } from '../system/docker/endpoint.js';
import { MacvlanError } from '../model/errors.js';

export interface DockerResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** body parsed as JSON when it is JSON, else undefined */
  json: unknown;
}

/**
 * One Engine API call to the dockerd listening on `socket`, whatever the
 * answer's status (the caller reads it). `path` is unversioned, with its
 * query. A client per call: a lab's daemon comes and goes, and a ping first
 * (which also negotiates the version) is cheap on a local socket.
 */
export async function dockerRequest(
  socket: string,
  method: string,
  path: string,
  body?: unknown,
  opts: { timeoutMs?: number; rawBody?: Buffer; contentType?: string } = {},
): Promise<DockerResponse> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const client = await DockerClient.connect(parseDockerHost(`unix://${socket}`), { timeoutMs });
  try {
    const res = await client.request({
      method: method as RequestSpec['method'],
      path,
      ...(body !== undefined ? { body } : {}),
      ...(opts.rawBody ? { rawBody: { data: opts.rawBody, contentType: opts.contentType ?? 'application/octet-stream' } } : {}),
      timeoutMs,
      anyStatus: true,
    });
    const text = res.body.toString('utf8');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, body: text, json };
  } finally {
    client.close();
  }
}

const seg = encodeURIComponent;

export interface EngineContainer {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; ExitCode: number; [key: string]: unknown };
  Config: { Image?: string; Labels?: Record<string, string> | null; [key: string]: unknown };
  HostConfig: { NetworkMode?: string; [key: string]: unknown };
  NetworkSettings: { Networks?: Record<string, EngineEndpointSettings>; [key: string]: unknown };
  [key: string]: unknown;
}

export interface EngineImageSummary {
  Id: string;
  RepoTags?: string[] | null;
  Created?: number;
  Size?: number;
  Labels?: Record<string, string> | null;
  [key: string]: unknown;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Split Docker's multiplexed stream (no TTY): frames of [type, 0, 0, 0, size(uint32 BE)] + payload,
 * type 1 = stdout, 2 = stderr (0 = stdin, treated as stdout). A truncated last frame keeps what arrived.
 */
export function demultiplexStream(data: Buffer): { stdout: Buffer; stderr: Buffer } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let off = 0;
  while (off + 8 <= data.length) {
    const type = data[off]!;
    const size = data.readUInt32BE(off + 4);
    const payload = data.subarray(off + 8, Math.min(off + 8 + size, data.length));
    (type === 2 ? err : out).push(payload);
    off += 8 + size;
  }
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

export async function connectContainer(client: DockerClient, network: string, container: string, opts: { endpointConfig?: EngineEndpointSettings } = {}): Promise<void> {
  await client.request({
    method: 'POST',
    path: `/networks/${seg(network)}/connect`,
    body: { Container: container, ...(opts.endpointConfig ? { EndpointConfig: opts.endpointConfig } : {}) },
  });
}


/** GET /containers/{id}/json; throws NOT_FOUND when there is no such container. */
export function inspectContainer(client: DockerClient, idOrName: string): Promise<EngineContainer> {
  return client.requestJson<EngineContainer>({ method: 'GET', path: `/containers/${seg(idOrName)}/json` });
}

/** POST /containers/create?name= → the new container's id. */
export async function createContainer(client: DockerClient, name: string | undefined, body: Record<string, unknown>): Promise<string> {
  const res = await client.requestJson<{ Id: string; Warnings?: string[] }>({
    method: 'POST',
    path: '/containers/create',
    query: { name },
    body,
  });
  return res.Id;
}

/** Starting a running container is not an error (HTTP 304). */
export async function startContainer(client: DockerClient, idOrName: string): Promise<void> {
  await client.request({ method: 'POST', path: `/containers/${seg(idOrName)}/start`, okStatuses: [304] });
}

/** Stopping a stopped container is not an error (HTTP 304). The request deadline grows by `timeoutSeconds`. */
export async function stopContainer(client: DockerClient, idOrName: string, opts: { timeoutSeconds?: number } = {}): Promise<void> {
  const t = opts.timeoutSeconds;
  await client.request({
    method: 'POST',
    path: `/containers/${seg(idOrName)}/stop`,
    query: { t },
    okStatuses: [304],
    timeoutMs: client.timeoutMs + (t ?? 10) * 1000,
  });
}

export async function removeContainer(client: DockerClient, idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
  await client.request({
    method: 'DELETE',
    path: `/containers/${seg(idOrName)}`,
    query: { force: opts.force ? 'true' : undefined, v: opts.volumes ? 'true' : undefined },
  });
}

/**
 * Run `cmd` in a running container without a TTY and collect its output and exit code.
 * The start call answers with the raw multiplexed stream until the process exits.
 */
export async function execInContainer(client: DockerClient, idOrName: string, cmd: string[], opts: { timeoutMs?: number; user?: string; env?: string[] } = {}): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? client.timeoutMs;
  const created = await client.requestJson<{ Id: string }>({
    method: 'POST',
    path: `/containers/${seg(idOrName)}/exec`,
    body: { AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, Cmd: cmd, ...(opts.user ? { User: opts.user } : {}), ...(opts.env ? { Env: opts.env } : {}) },
  });
  const started = await client.request({ method: 'POST', path: `/exec/${seg(created.Id)}/start`, body: { Detach: false, Tty: false }, timeoutMs });
  const { stdout, stderr } = demultiplexStream(started.body);
  // The stream ends when the process has exited; the exit code may lag a moment behind.
  let exitCode: number | null = null;
  for (let i = 0; i < 50; i++) {
    const info = await client.requestJson<{ Running: boolean; ExitCode: number | null }>({ method: 'GET', path: `/exec/${seg(created.Id)}/json` });
    if (!info.Running && info.ExitCode !== null) {
      exitCode = info.ExitCode;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (exitCode === null) throw new MacvlanError('DOCKER_ERROR', `exec ${cmd.join(' ')} in ${idOrName}: the engine reported no exit code`, { container: idOrName, cmd });
  return { exitCode, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') };
}

export function listImages(client: DockerClient, opts: { all?: boolean } = {}): Promise<EngineImageSummary[]> {
  return client.requestJson<EngineImageSummary[]>({ method: 'GET', path: '/images/json', query: { all: opts.all ? 'true' : undefined } });
}

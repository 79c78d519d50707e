/**
 * Which Docker engine to talk to, resolved the way the Docker CLI does it:
 *
 *   1. an explicit host (--docker-host)
 *   2. DOCKER_HOST (with DOCKER_TLS_VERIFY / DOCKER_TLS / DOCKER_CERT_PATH for tcp)
 *   3. DOCKER_CONTEXT, else `currentContext` in $DOCKER_CONFIG/config.json (default ~/.docker):
 *      contexts/meta/<sha256(name)>/meta.json → Endpoints.docker.{Host,SkipTLSVerify},
 *      TLS material in contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem
 *   4. unix:///var/run/docker.sock
 *
 * The parsing functions are pure (text in, endpoint out); `resolveEndpoint` is the only
 * function that reads files, through a small injectable reader so tests need no real $HOME.
 * Only node: builtins and small pure modules are imported: this module is loaded on every run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MacvlanError } from '../../model/errors.js';
import { hex, sha256 } from '../../net/digest.js';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';
const DEFAULT_UNIX_SOCKET = '/var/run/docker.sock';
const DEFAULT_HTTP_PORT = 2375;
const DEFAULT_TLS_PORT = 2376;

export interface TlsSettings {
  /** Verify the engine's certificate (against caFile when given, else the system CAs). */
  verify: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

interface EndpointBase {
  /** Canonical text form (unix:///path or tcp://host:port[/base]); resolveEndpoint(url) gives it back. */
  url: string;
  /** Where it came from, for messages: "--docker-host", "DOCKER_HOST", "context prod", "default". */
  source: string;
}

export interface UnixEndpoint extends EndpointBase {
  kind: 'unix';
  socketPath: string;
}

export interface TcpEndpoint extends EndpointBase {
  kind: 'tcp';
  host: string;
  port: number;
  /** URL path prefix ("" or "/base", no trailing slash). */
  basePath: string;
  /** undefined: plain HTTP. */
  tls?: TlsSettings;
}

export type DockerEndpoint = UnixEndpoint | TcpEndpoint;

/** Environment variables the resolution reads (a subset of process.env). */
export interface DockerEnv {
  DOCKER_HOST?: string;
  DOCKER_CONTEXT?: string;
  DOCKER_CONFIG?: string;
  DOCKER_TLS_VERIFY?: string;
  DOCKER_TLS?: string;
  DOCKER_CERT_PATH?: string;
  HOME?: string;
}

/** A malformed endpoint is the user's input to fix (exit 2), not an engine that is down. */
function invalidHost(host: string, source: string, why: string): MacvlanError {
  return new MacvlanError('CONFIG_INVALID', `${source}: '${host}' is not a valid Docker endpoint: ${why}`, { host, source });
}

/**
 * Parse a Docker host the way `docker -H` does: unix:///path, tcp://host[:port][/path], a bare
 * host:port (taken as tcp), http:// and https:// (https = TLS with verification). ssh:// and
 * npipe:// are refused with a message that says what to use instead. `tls` applies to tcp only;
 * an https:// host without settings verifies against the system CAs.
 */
export function parseDockerHost(host: string, opts: { tls?: TlsSettings; source?: string } = {}): DockerEndpoint {
  const source = opts.source ?? 'Docker host';
  const text = host.trim();
  if (text === '') return parseDockerHost(DEFAULT_DOCKER_HOST, { ...opts, source });
  const sep = text.indexOf('://');
  const scheme = sep < 0 ? 'tcp' : text.slice(0, sep).toLowerCase();
  const rest = sep < 0 ? text : text.slice(sep + 3);
  switch (scheme) {
    case 'unix': {
      const socketPath = rest === '' ? DEFAULT_UNIX_SOCKET : rest;
      if (!socketPath.startsWith('/')) throw invalidHost(text, source, 'a unix socket path must be absolute (unix:///var/run/docker.sock)');
      return { kind: 'unix', socketPath, url: `unix://${socketPath}`, source };
    }
    case 'tcp':
    case 'http':
    case 'https': {
      let tls = opts.tls;
      if (scheme === 'https' && !tls) tls = { verify: true };
      if (scheme === 'http') tls = undefined;
      return parseTcp(text, rest, tls, source);
    }
    case 'ssh':
      throw new MacvlanError(
        'DOCKER_UNAVAILABLE',
        `${source}: ssh:// Docker endpoints (${text}) are not supported; use a unix socket (unix:///var/run/docker.sock) ` +
          `or a tcp endpoint (tcp://HOST:2376 with DOCKER_TLS_VERIFY=1), or run macvlanctl on the Docker host itself`,
        { host: text, source },
      );
    case 'npipe':
      throw invalidHost(text, source, 'npipe:// (Windows named pipes) is not supported; use a unix or tcp endpoint');
    case 'fd':
      throw invalidHost(text, source, 'fd:// is for the daemon only; use a unix or tcp endpoint');
    default:
      throw invalidHost(text, source, `unknown scheme '${scheme}://'; use unix:///path or tcp://host:port`);
  }
}

function parseTcp(text: string, rest: string, tls: TlsSettings | undefined, source: string): TcpEndpoint {
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  let basePath = slash < 0 ? '' : rest.slice(slash).replace(/\/+$/, '');
  if (/[?#]/.test(basePath)) throw invalidHost(text, source, 'a query or fragment is not allowed');
  basePath = basePath === '/' ? '' : basePath;
  let hostname: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) throw invalidHost(text, source, "an IPv6 address needs its closing ']'");
    hostname = authority.slice(1, close);
    const after = authority.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw invalidHost(text, source, `unexpected '${after}' after the address`);
    portText = after === '' ? undefined : after.slice(1);
  } else {
    if ((authority.match(/:/g) ?? []).length > 1) throw invalidHost(text, source, 'put an IPv6 address in brackets: tcp://[2001:db8::1]:2376');
    const colon = authority.indexOf(':');
    hostname = colon < 0 ? authority : authority.slice(0, colon);
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
  }
  if (hostname === '') hostname = '127.0.0.1'; // as docker: tcp://:2375 means localhost
  let port = tls ? DEFAULT_TLS_PORT : DEFAULT_HTTP_PORT;
  if (portText !== undefined && portText !== '') {
    if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw invalidHost(text, source, `port '${portText}' is not a number from 1 to 65535`);
    }
    port = Number(portText);
  }
  if (!/^[A-Za-z0-9.\-_:%]+$/.test(hostname)) throw invalidHost(text, source, `'${hostname}' is not a host name or address`);
  const shownHost = hostname.includes(':') ? `[${hostname}]` : hostname;
  const endpoint: TcpEndpoint = { kind: 'tcp', host: hostname, port, basePath, url: `tcp://${shownHost}:${port}${basePath}`, source };
  if (tls) endpoint.tls = tls;
  return endpoint;
}

/** TLS settings from DOCKER_TLS_VERIFY / DOCKER_TLS / DOCKER_CERT_PATH, or undefined for plain tcp. */
export function tlsFromEnv(env: DockerEnv, configDir: string): TlsSettings | undefined {
  // As the Docker CLI: any non-empty value switches it on (even "0").
  const verify = (env.DOCKER_TLS_VERIFY ?? '') !== '';
  const tls = (env.DOCKER_TLS ?? '') !== '';
  if (!verify && !tls) return undefined;
  const dir = env.DOCKER_CERT_PATH && env.DOCKER_CERT_PATH !== '' ? env.DOCKER_CERT_PATH : configDir;
  return { verify, caFile: join(dir, 'ca.pem'), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
}

/** $DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: DockerEnv): string {
  if (env.DOCKER_CONFIG && env.DOCKER_CONFIG !== '') return env.DOCKER_CONFIG;
  return join(env.HOME && env.HOME !== '' ? env.HOME : homedir(), '.docker');
}

/** The directory name the Docker CLI stores a context under: hex SHA-256 of its name. */
export function contextStorageId(name: string): string {
  return hex(sha256(name));
}

/** `currentContext` from the text of config.json; undefined when absent or "default". */
export function currentContextFromConfig(configJson: string, file = 'config.json'): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(configJson);
  } catch (e) {
    throw new MacvlanError('DOCKER_UNAVAILABLE', `${file} is not valid JSON (${(e as Error).message}); fix or remove it`, { file });
  }
  const cur = (parsed as { currentContext?: unknown } | null)?.currentContext;
  return typeof cur === 'string' && cur !== '' ? cur : undefined;
}

export interface ContextEndpoint {
  host: string;
  skipTlsVerify: boolean;
}

/** `Endpoints.docker` of a context's meta.json text. */
export function parseContextMeta(metaJson: string, name: string, file = 'meta.json'): ContextEndpoint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(metaJson);
  } catch (e) {
    throw new MacvlanError('DOCKER_UNAVAILABLE', `Docker context "${name}": ${file} is not valid JSON (${(e as Error).message})`, { context: name, file });
  }
  const docker = (parsed as { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } } | null)?.Endpoints?.docker;
  if (!docker || typeof docker.Host !== 'string' || docker.Host === '') {
    throw new MacvlanError('DOCKER_UNAVAILABLE', `Docker context "${name}" has no Docker endpoint (Endpoints.docker.Host in ${file})`, { context: name, file });
  }
  return { host: docker.Host, skipTlsVerify: docker.SkipTLSVerify === true };
}

/** What decides the endpoint, before any context file is read. Pure. */
export type EndpointChoice =
  | { kind: 'host'; host: string; source: string }
  | { kind: 'context'; name: string; source: string }
  | { kind: 'default' };

export function chooseEndpoint(override: string | undefined, env: DockerEnv, currentContext: string | undefined): EndpointChoice {
  if (override !== undefined && override.trim() !== '') return { kind: 'host', host: override.trim(), source: '--docker-host' };
  if (env.DOCKER_HOST && env.DOCKER_HOST.trim() !== '') return { kind: 'host', host: env.DOCKER_HOST.trim(), source: 'DOCKER_HOST' };
  if (env.DOCKER_CONTEXT && env.DOCKER_CONTEXT !== '') {
    return env.DOCKER_CONTEXT === 'default' ? { kind: 'default' } : { kind: 'context', name: env.DOCKER_CONTEXT, source: 'DOCKER_CONTEXT' };
  }
  if (currentContext && currentContext !== 'default') return { kind: 'context', name: currentContext, source: 'config.json currentContext' };
  return { kind: 'default' };
}

/** Endpoint of a context, from its meta and the TLS files present in its tls/<id>/docker dir. Pure. */
export function endpointFromContext(name: string, meta: ContextEndpoint, tlsDir: string, tlsFilesPresent: ReadonlySet<string>): DockerEndpoint {
  const source = `context ${name}`;
  const has = (f: string) => tlsFilesPresent.has(f);
  const anyTls = has('ca.pem') || has('cert.pem') || has('key.pem');
  let tls: TlsSettings | undefined;
  if (anyTls || meta.skipTlsVerify) {
    tls = { verify: !meta.skipTlsVerify };
    if (has('ca.pem')) tls.caFile = join(tlsDir, 'ca.pem');
    if (has('cert.pem') && has('key.pem')) {
      tls.certFile = join(tlsDir, 'cert.pem');
      tls.keyFile = join(tlsDir, 'key.pem');
    }
  }
  return parseDockerHost(meta.host, tls ? { tls, source } : { source });
}

/** File access used by resolveEndpoint; replaced in tests. */
export interface EndpointFs {
  readFile(path: string): string | undefined;
  exists(path: string): boolean;
}

const realFs: EndpointFs = {
  readFile(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new MacvlanError('DOCKER_UNAVAILABLE', `cannot read ${path}: ${(e as Error).message}`, { file: path });
    }
  },
  exists: existsSync,
};

/**
 * The endpoint to use. `override` (from --docker-host) wins; TLS for it comes from the
 * environment, as for `docker -H`. An override equal to the configured endpoint (a context's
 * host, say, as carried around in DockerFacts.endpoint) keeps that endpoint's TLS settings.
 */
export function resolveEndpoint(override?: string, env: DockerEnv = process.env, fs: EndpointFs = realFs): DockerEndpoint {
  const configDir = dockerConfigDir(env);
  if (override !== undefined && override.trim() !== '') {
    const envTls = tlsFromEnv(env, configDir);
    const explicit = parseDockerHost(override, envTls ? { tls: envTls, source: '--docker-host' } : { source: '--docker-host' });
    if (!envTls) {
      let configured: DockerEndpoint | undefined;
      try {
        configured = resolveEndpoint(undefined, env, fs);
      } catch {
        configured = undefined;
      }
      if (configured && configured.url === explicit.url) return configured;
    }
    return explicit;
  }
  const configFile = join(configDir, 'config.json');
  let current: string | undefined;
  if (!(env.DOCKER_HOST && env.DOCKER_HOST.trim() !== '') && !(env.DOCKER_CONTEXT && env.DOCKER_CONTEXT !== '')) {
    const text = fs.readFile(configFile);
    current = text === undefined ? undefined : currentContextFromConfig(text, configFile);
  }
  const choice = chooseEndpoint(undefined, env, current);
  switch (choice.kind) {
    case 'host': {
      const tls = tlsFromEnv(env, configDir);
      return parseDockerHost(choice.host, tls ? { tls, source: choice.source } : { source: choice.source });
    }
    case 'default':
      return parseDockerHost(DEFAULT_DOCKER_HOST, { source: 'default' });
    case 'context': {
      const id = contextStorageId(choice.name);
      const metaFile = join(configDir, 'contexts', 'meta', id, 'meta.json');
      const text = fs.readFile(metaFile);
      if (text === undefined) {
        throw new MacvlanError(
          'DOCKER_UNAVAILABLE',
          `Docker context "${choice.name}" (from ${choice.source}) does not exist: ${metaFile} is missing; ` +
            `list contexts with 'docker context ls', or set DOCKER_HOST / --docker-host`,
          { context: choice.name, file: metaFile },
        );
      }
      const meta = parseContextMeta(text, choice.name, metaFile);
      const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
      const present = new Set(['ca.pem', 'cert.pem', 'key.pem'].filter((f) => fs.exists(join(tlsDir, f))));
      return endpointFromContext(choice.name, meta, tlsDir, present);
    }
  }
}

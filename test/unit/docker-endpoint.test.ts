import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MacvlanError } from '../../src/model/errors.js';
import {
  chooseEndpoint,
  contextStorageId,
  currentContextFromConfig,
  endpointFromContext,
  parseContextMeta,
  parseDockerHost,
  resolveEndpoint,
  tlsFromEnv,
  type DockerEnv,
} from '../../src/system/docker/endpoint.js';

function thrown(f: () => unknown): MacvlanError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MacvlanError);
    return e as MacvlanError;
  }
  throw new Error('did not throw');
}

describe('parseDockerHost', () => {
  it('unix sockets', () => {
    expect(parseDockerHost('unix:///var/run/docker.sock')).toMatchObject({ kind: 'unix', socketPath: '/var/run/docker.sock', url: 'unix:///var/run/docker.sock' });
    expect(parseDockerHost('unix:///run/user/1000/docker.sock')).toMatchObject({ kind: 'unix', socketPath: '/run/user/1000/docker.sock' });
    expect(parseDockerHost('unix://')).toMatchObject({ kind: 'unix', socketPath: '/var/run/docker.sock' });
    expect(parseDockerHost('')).toMatchObject({ kind: 'unix', socketPath: '/var/run/docker.sock' });
    expect(thrown(() => parseDockerHost('unix://relative.sock')).message).toMatch(/must be absolute/);
  });

  it('tcp, with default ports by TLS, IPv6 brackets and a base path', () => {
    expect(parseDockerHost('tcp://198.51.100.7:2375')).toEqual({ kind: 'tcp', host: '198.51.100.7', port: 2375, basePath: '', url: 'tcp://198.51.100.7:2375', source: 'Docker host' });
    expect(parseDockerHost('tcp://docker.example')).toMatchObject({ host: 'docker.example', port: 2375 });
    expect(parseDockerHost('tcp://docker.example', { tls: { verify: true } })).toMatchObject({ port: 2376, tls: { verify: true } });
    expect(parseDockerHost('tcp://:2375')).toMatchObject({ host: '127.0.0.1', port: 2375 });
    expect(parseDockerHost('198.51.100.7:4243')).toMatchObject({ kind: 'tcp', host: '198.51.100.7', port: 4243 });
    expect(parseDockerHost('tcp://[2001:db8::7]:2376')).toMatchObject({ host: '2001:db8::7', port: 2376, url: 'tcp://[2001:db8::7]:2376' });
    expect(parseDockerHost('tcp://198.51.100.7:2375/proxy/')).toMatchObject({ basePath: '/proxy', url: 'tcp://198.51.100.7:2375/proxy' });
    expect(parseDockerHost('https://docker.example')).toMatchObject({ port: 2376, tls: { verify: true } });
    // http:// is plain HTTP even when the environment asks for TLS
    expect(parseDockerHost('http://docker.example', { tls: { verify: true } })).not.toHaveProperty('tls');
  });

  it('rejects bad ports, unbracketed IPv6 and unknown schemes', () => {
    expect(thrown(() => parseDockerHost('tcp://h:99999')).message).toMatch(/port '99999'/);
    expect(thrown(() => parseDockerHost('tcp://h:abc')).message).toMatch(/port 'abc'/);
    expect(thrown(() => parseDockerHost('tcp://2001:db8::7:2376')).message).toMatch(/brackets/);
    expect(thrown(() => parseDockerHost('ftp://h')).message).toMatch(/unknown scheme 'ftp:\/\/'/);
    expect(thrown(() => parseDockerHost('npipe:////./pipe/docker_engine')).message).toMatch(/not supported/);
  });

  it('a malformed endpoint is bad input (exit 2), not an engine that is down', () => {
    const e = thrown(() => parseDockerHost('tcp://[::1', { source: 'DOCKER_HOST' }));
    expect(e.message).toMatch(/^DOCKER_HOST: 'tcp:\/\/\[::1' is not a valid Docker endpoint: an IPv6 address needs its closing '\]'/);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.exitCode).toBe(2);
    for (const bad of ['tcp://h:99999', 'ftp://h', 'unix://relative.sock']) expect(thrown(() => parseDockerHost(bad)).exitCode).toBe(2);
  });

  it('ssh:// is refused with a clear way out', () => {
    const e = thrown(() => parseDockerHost('ssh://me@docker.example', { source: 'DOCKER_HOST' }));
    expect(e.code).toBe('DOCKER_UNAVAILABLE');
    expect(e.message).toMatch(/^DOCKER_HOST: ssh:\/\/ Docker endpoints \(ssh:\/\/me@docker\.example\) are not supported; use a unix socket/);
    expect(e.message).toMatch(/tcp:\/\//);
  });
});

describe('TLS from the environment', () => {
  it('DOCKER_TLS_VERIFY with DOCKER_CERT_PATH, else the config dir', () => {
    expect(tlsFromEnv({}, '/cfg')).toBeUndefined();
    expect(tlsFromEnv({ DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' }, '/cfg')).toEqual({
      verify: true,
      caFile: '/certs/ca.pem',
      certFile: '/certs/cert.pem',
      keyFile: '/certs/key.pem',
    });
    expect(tlsFromEnv({ DOCKER_TLS_VERIFY: '1' }, '/cfg')).toMatchObject({ caFile: '/cfg/ca.pem' });
    // DOCKER_TLS: TLS without verification, as `docker --tls`
    expect(tlsFromEnv({ DOCKER_TLS: '1' }, '/cfg')).toMatchObject({ verify: false });
  });
});

describe('contexts (pure parts)', () => {
  it('storage id is the sha256 of the name, as the Docker CLI stores it', () => {
    // sha256("default") – the CLI's well-known directory for a context called "default"
    expect(contextStorageId('default')).toBe('37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f');
    expect(contextStorageId('prod')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('currentContext from config.json', () => {
    expect(currentContextFromConfig('{"auths":{},"currentContext":"prod"}')).toBe('prod');
    expect(currentContextFromConfig('{"auths":{}}')).toBeUndefined();
    expect(currentContextFromConfig('{"currentContext":""}')).toBeUndefined();
    expect(thrown(() => currentContextFromConfig('{nope', '/x/config.json')).message).toMatch(/\/x\/config\.json is not valid JSON/);
  });

  it('meta.json', () => {
    const meta = JSON.stringify({ Name: 'prod', Metadata: {}, Endpoints: { docker: { Host: 'tcp://198.51.100.9:2376', SkipTLSVerify: false } } });
    expect(parseContextMeta(meta, 'prod')).toEqual({ host: 'tcp://198.51.100.9:2376', skipTlsVerify: false });
    expect(thrown(() => parseContextMeta('{"Endpoints":{}}', 'prod')).message).toMatch(/has no Docker endpoint/);
  });

  it('precedence: --docker-host, DOCKER_HOST, DOCKER_CONTEXT, currentContext, default', () => {
    const env: DockerEnv = { DOCKER_HOST: 'tcp://h:1', DOCKER_CONTEXT: 'ctx' };
    expect(chooseEndpoint('unix:///x.sock', env, 'cur')).toEqual({ kind: 'host', host: 'unix:///x.sock', source: '--docker-host' });
    expect(chooseEndpoint(undefined, env, 'cur')).toEqual({ kind: 'host', host: 'tcp://h:1', source: 'DOCKER_HOST' });
    expect(chooseEndpoint(undefined, { DOCKER_CONTEXT: 'ctx' }, 'cur')).toMatchObject({ kind: 'context', name: 'ctx' });
    expect(chooseEndpoint(undefined, { DOCKER_CONTEXT: 'default' }, 'cur')).toEqual({ kind: 'default' });
    expect(chooseEndpoint(undefined, {}, 'cur')).toMatchObject({ kind: 'context', name: 'cur' });
    expect(chooseEndpoint(undefined, {}, 'default')).toEqual({ kind: 'default' });
    expect(chooseEndpoint(undefined, {}, undefined)).toEqual({ kind: 'default' });
  });

  it('context TLS: files present, SkipTLSVerify', () => {
    const meta = { host: 'tcp://198.51.100.9:2376', skipTlsVerify: false };
    expect(endpointFromContext('p', meta, '/t', new Set())).not.toHaveProperty('tls');
    expect(endpointFromContext('p', meta, '/t', new Set(['ca.pem', 'cert.pem', 'key.pem']))).toMatchObject({
      tls: { verify: true, caFile: '/t/ca.pem', certFile: '/t/cert.pem', keyFile: '/t/key.pem' },
      source: 'context p',
    });
    expect(endpointFromContext('p', { ...meta, skipTlsVerify: true }, '/t', new Set())).toMatchObject({ tls: { verify: false } });
  });
});

describe('resolveEndpoint (with a temporary DOCKER_CONFIG)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-dockercfg-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function writeContext(name: string, host: string, opts: { skipTlsVerify?: boolean; tlsFiles?: string[] } = {}) {
    const id = contextStorageId(name);
    mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(
      join(dir, 'contexts', 'meta', id, 'meta.json'),
      JSON.stringify({ Name: name, Metadata: { Description: 'test' }, Endpoints: { docker: { Host: host, SkipTLSVerify: opts.skipTlsVerify ?? false } } }),
    );
    if (opts.tlsFiles) {
      const tlsDir = join(dir, 'contexts', 'tls', id, 'docker');
      mkdirSync(tlsDir, { recursive: true });
      for (const f of opts.tlsFiles) writeFileSync(join(tlsDir, f), 'PEM');
    }
    return id;
  }

  it('no config at all: the default socket', () => {
    expect(resolveEndpoint(undefined, { DOCKER_CONFIG: dir })).toMatchObject({ kind: 'unix', socketPath: '/var/run/docker.sock', source: 'default' });
  });

  it('DOCKER_HOST wins over contexts; TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: 'prod' }));
    writeContext('prod', 'tcp://198.51.100.9:2376');
    expect(resolveEndpoint(undefined, { DOCKER_CONFIG: dir, DOCKER_HOST: 'unix:///tmp/d.sock', DOCKER_CONTEXT: 'prod' })).toMatchObject({
      kind: 'unix',
      socketPath: '/tmp/d.sock',
      source: 'DOCKER_HOST',
    });
    const e = resolveEndpoint(undefined, { DOCKER_CONFIG: dir, DOCKER_HOST: 'tcp://198.51.100.7', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' });
    expect(e).toMatchObject({ kind: 'tcp', port: 2376, tls: { verify: true, caFile: '/certs/ca.pem', certFile: '/certs/cert.pem', keyFile: '/certs/key.pem' } });
    // without DOCKER_CERT_PATH the certificates are in the config dir
    expect(resolveEndpoint(undefined, { DOCKER_CONFIG: dir, DOCKER_HOST: 'tcp://198.51.100.7', DOCKER_TLS_VERIFY: '1' })).toMatchObject({
      tls: { caFile: join(dir, 'ca.pem') },
    });
  });

  it('currentContext from config.json, with its TLS files', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: {}, currentContext: 'prod' }));
    const id = writeContext('prod', 'tcp://198.51.100.9:2376', { tlsFiles: ['ca.pem', 'cert.pem', 'key.pem'] });
    const e = resolveEndpoint(undefined, { DOCKER_CONFIG: dir });
    const tlsDir = join(dir, 'contexts', 'tls', id, 'docker');
    expect(e).toEqual({
      kind: 'tcp',
      host: '198.51.100.9',
      port: 2376,
      basePath: '',
      url: 'tcp://198.51.100.9:2376',
      source: 'context prod',
      tls: { verify: true, caFile: join(tlsDir, 'ca.pem'), certFile: join(tlsDir, 'cert.pem'), keyFile: join(tlsDir, 'key.pem') },
    });
  });

  it('DOCKER_CONTEXT over currentContext; "default" means the default socket', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: 'prod' }));
    writeContext('prod', 'tcp://198.51.100.9:2376');
    writeContext('lab', 'unix:///run/lab/docker.sock');
    expect(resolveEndpoint(undefined, { DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'lab' })).toMatchObject({ socketPath: '/run/lab/docker.sock', source: 'context lab' });
    expect(resolveEndpoint(undefined, { DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'default' })).toMatchObject({ socketPath: '/var/run/docker.sock' });
  });

  it('SkipTLSVerify in the context turns verification off', () => {
    writeContext('insecure', 'tcp://198.51.100.9:2376', { skipTlsVerify: true });
    expect(resolveEndpoint(undefined, { DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'insecure' })).toMatchObject({ tls: { verify: false } });
  });

  it('a context that does not exist, and an ssh context, say so', () => {
    const missing = thrown(() => resolveEndpoint(undefined, { DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'nope' }));
    expect(missing.code).toBe('DOCKER_UNAVAILABLE');
    expect(missing.message).toMatch(/Docker context "nope" \(from DOCKER_CONTEXT\) does not exist/);
    writeContext('remote', 'ssh://admin@198.51.100.9');
    const ssh = thrown(() => resolveEndpoint(undefined, { DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'remote' }));
    expect(ssh.message).toMatch(/^context remote: ssh:\/\/ Docker endpoints .* are not supported; use a unix socket/);
  });

  it('an explicit host wins; equal to the context host, it keeps the context TLS', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: 'prod' }));
    writeContext('prod', 'tcp://198.51.100.9:2376', { tlsFiles: ['ca.pem'] });
    expect(resolveEndpoint('unix:///tmp/x.sock', { DOCKER_CONFIG: dir })).toMatchObject({ socketPath: '/tmp/x.sock', source: '--docker-host' });
    // DockerFacts.endpoint carries the url; resolving it again must give the same TLS settings
    expect(resolveEndpoint('tcp://198.51.100.9:2376', { DOCKER_CONFIG: dir })).toMatchObject({ source: 'context prod', tls: { verify: true } });
    expect(resolveEndpoint('tcp://198.51.100.10:2376', { DOCKER_CONFIG: dir })).not.toHaveProperty('tls');
    // like `docker -H`, TLS for an explicit host comes from the environment
    expect(resolveEndpoint('tcp://198.51.100.10', { DOCKER_CONFIG: dir, DOCKER_TLS_VERIFY: '1' })).toMatchObject({ port: 2376, tls: { verify: true } });
  });

  it('HOME/.docker when DOCKER_CONFIG is unset', () => {
    mkdirSync(join(dir, '.docker'));
    writeFileSync(join(dir, '.docker', 'config.json'), JSON.stringify({ currentContext: 'lab' }));
    const id = contextStorageId('lab');
    mkdirSync(join(dir, '.docker', 'contexts', 'meta', id), { recursive: true });
    writeFileSync(join(dir, '.docker', 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: 'lab', Endpoints: { docker: { Host: 'unix:///run/lab.sock' } } }));
    expect(resolveEndpoint(undefined, { HOME: dir })).toMatchObject({ socketPath: '/run/lab.sock' });
  });
});

// The Engine API client against a fake engine on a unix socket that replays responses captured
// from dockerd 20.10 (test/fixtures/docker/*.json + *.headers.txt), and its pure helpers.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MacvlanError } from '../../src/model/errors.js';
import {
  DockerClient,
  compareApiVersions,
  engineVersionFromServerHeader,
  engineMessage,
  httpError,
  negotiateApiVersion,
  transportError,
} from '../../src/system/docker/client.js';
import { parseDockerHost, resolveEndpoint } from '../../src/system/docker/endpoint.js';
import { demultiplexStream, execInContainer, inspectContainer, startContainer } from '../../src/lab/docker-api.js';
import { gatherDockerFacts } from '../../src/gather/docker-facts.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'docker');
const read = (name: string) => readFileSync(join(FIX, name));

/** Status and headers of a `curl -D` sidecar. */
function parseHeaders(name: string): { status: number; headers: Record<string, string> } {
  const text = read(name).toString('latin1');
  const [statusLine, ...lines] = text.split('\r\n\r\n')[0]!.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine!.split(' ')[1]), headers };
}

function frame(type: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

async function expectError(p: Promise<unknown>): Promise<MacvlanError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MacvlanError);
    return e as MacvlanError;
  }
  throw new Error('did not reject');
}

describe('pure helpers', () => {
  it('API versions compare numerically and negotiate down to 1.45', () => {
    expect(compareApiVersions('1.9', '1.41')).toBe(-1);
    expect(compareApiVersions('1.41', '1.41')).toBe(0);
    expect(compareApiVersions('1.47', '1.45')).toBe(1);
    expect(negotiateApiVersion(parseHeaders('ping.headers.txt').headers['api-version'])).toBe('1.41');
    expect(negotiateApiVersion('1.47')).toBe('1.45');
    expect(negotiateApiVersion('1.45')).toBe('1.45');
    expect(negotiateApiVersion(undefined)).toBe('1.24');
    expect(negotiateApiVersion('garbage')).toBe('1.24');
  });

  it('demultiplexes stdout and stderr frames, and survives a truncated tail', () => {
    const data = Buffer.concat([frame(1, 'out1\n'), frame(2, 'err\n'), frame(1, 'out2\n'), frame(1, 'trunc').subarray(0, 10)]);
    const { stdout, stderr } = demultiplexStream(data);
    expect(stdout.toString()).toBe('out1\nout2\ntr');
    expect(stderr.toString()).toBe('err\n');
    expect(demultiplexStream(Buffer.alloc(0)).stdout.length).toBe(0);
  });

  it('maps captured engine errors: 404 NOT_FOUND, 409/parent/overlap DOCKER_CONFLICT', () => {
    const notFound = httpError(404, 'GET', '/v1.41/networks/doesnotexist', read('network-notfound.json'), 'unix:///s');
    expect(notFound.code).toBe('NOT_FOUND');
    expect(notFound.message).toBe('Docker engine: network doesnotexist not found (HTTP 404 from GET /networks/doesnotexist)');
    expect(notFound.details).toMatchObject({ status: 404, engineMessage: 'network doesnotexist not found' });

    const parent = httpError(parseHeaders('network-create-conflict.headers.txt').status, 'POST', '/v1.41/networks/create', read('network-create-conflict.json'), 'unix:///s');
    expect(parent.code).toBe('DOCKER_CONFLICT');
    expect(parent.message).toMatch(/^Docker engine: network dm-bbdb76720dbb is already using parent interface eno1 \(HTTP 500 from POST \/networks\/create\); a parent interface carries at most one macvlan network/);
    expect(parent.details).toMatchObject({ status: 500, conflict: 'parent' });

    const dup = httpError(409, 'POST', '/v1.41/networks/create', read('network-create-duplicate-name.json'), 'unix:///s');
    expect(dup.code).toBe('DOCKER_CONFLICT');
    expect(dup.message).toMatch(/network with name mynet already exists/);

    const overlap = httpError(403, 'POST', '/v1.41/networks/create', read('network-create-overlap.json'), 'unix:///s');
    expect(overlap).toMatchObject({ code: 'DOCKER_CONFLICT', details: { status: 403, conflict: 'subnet' } });

    const other = httpError(500, 'POST', '/v1.41/containers/x/start', '{"message":"boom"}', 'unix:///s');
    expect(other.code).toBe('DOCKER_ERROR');
    expect(engineMessage('plain text\n')).toBe('plain text');
  });

  it('maps transport errors', () => {
    const unix = parseDockerHost('unix:///run/x.sock');
    const tcp = parseDockerHost('tcp://198.51.100.9:2375');
    const err = (code: string, message = code) => Object.assign(new Error(message), { code });
    expect(transportError(err('EACCES'), unix)).toMatchObject({ code: 'NOT_PERMITTED' });
    expect(transportError(err('EACCES'), unix).message).toMatch(/permission denied on the Docker engine socket \/run\/x\.sock: run as root .* docker group/);
    const refused = transportError(err('ECONNREFUSED'), unix);
    expect(refused.code).toBe('DOCKER_UNAVAILABLE');
    expect(refused.message).toBe(
      'the Docker engine at unix:///run/x.sock is not reachable (connection refused): start Docker (systemctl start docker), or point DOCKER_HOST / --docker-host / the Docker context at the right socket',
    );
    expect(transportError(err('ENOENT'), unix).message).toMatch(/\(the socket does not exist\)/);
    expect(transportError(err('EHOSTUNREACH'), tcp).message).toMatch(/^the Docker engine at tcp:\/\/198\.51\.100\.9:2375 is not reachable \(EHOSTUNREACH\): check that the engine listens/);
    expect(transportError(err('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), tcp).message).toMatch(/^TLS with the Docker engine/);
  });
});

describe('DockerClient against a fake engine replaying dockerd 20.10 responses', () => {
  let dir: string;
  let socket: string;
  let server: Server;
  const seen: { method: string; url: string; body: string; headers: IncomingMessage['headers'] }[] = [];
  let apiHeader: string | undefined = '1.41';
  let pingOverride: { status: number; body: string } | undefined;

  function reply(res: ServerResponse, fixture: string, status = 200) {
    const body = read(`${fixture}.json`);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.41', 'Content-Length': body.length });
    res.end(body);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-fake-engine-'));
    socket = join(dir, 'docker.sock');
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        seen.push({ method: req.method!, url: req.url!, body, headers: req.headers });
        const url = req.url!;
        if (url === '/_ping' && pingOverride) {
          res.writeHead(pingOverride.status, { 'Content-Type': 'text/plain' });
          res.end(pingOverride.body);
        } else if (url === '/_ping') {
          const { status, headers } = parseHeaders('ping.headers.txt');
          delete headers['api-version'];
          res.writeHead(status, { ...headers, ...(apiHeader ? { 'Api-Version': apiHeader } : {}) });
          res.end('OK');
        } else if (url === '/v1.41/version') reply(res, 'version');
        else if (url === '/v1.41/networks') reply(res, 'networks');
        else if (url.startsWith('/v1.41/networks/mynet') || url === '/v1.41/networks/bbdb76720dbbc98d6a4923ded67d62d22a527e2713aa4f620db978dee8f1d670') reply(res, 'network-mynet');
        else if (url.startsWith('/v1.41/networks/doesnotexist')) reply(res, 'network-notfound', 404);
        else if (url === '/v1.41/networks/create') {
          const name = (JSON.parse(body) as { Name: string }).Name;
          if (name === 'mynet') reply(res, 'network-create-duplicate-name', 409);
          else if (name === 'mynet2') reply(res, 'network-create-conflict', 500);
          else {
            res.writeHead(201, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ Id: 'new-id', Warning: '' }));
          }
        } else if (url === '/v1.41/containers/json?all=true') reply(res, 'containers');
        else if (url === '/v1.41/containers/web/json') reply(res, 'container-web');
        else if (url === '/v1.41/containers/web/start') {
          res.writeHead(304);
          res.end();
        } else if (url === '/v1.41/containers/web/exec') {
          res.writeHead(201, { 'Content-Type': 'application/json' });
          res.end('{"Id":"exec1"}');
        } else if (url === '/v1.41/exec/exec1/start') {
          // what dockerd 20.10 does without an Upgrade header: 200, raw stream, close
          res.writeHead(200, { 'Content-Type': 'application/vnd.docker.raw-stream', Connection: 'close' });
          res.end(Buffer.concat([frame(1, 'hello\n'), frame(2, 'oops\n')]));
        } else if (url === '/v1.41/exec/exec1/json') {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{"Running":false,"ExitCode":3}');
        } else if (url === '/v1.41/slow-post' || url === '/v1.41/reset-post') {
          // an engine that got a change and answers too late, or drops the connection
          if (url === '/v1.41/reset-post') req.socket.destroy();
          else setTimeout(() => res.writeHead(200).end('{}'), 2000);
        } else if (url === '/v1.41/slow') {
          setTimeout(() => {
            res.writeHead(200);
            res.end('{}');
          }, 2000);
        } else {
          res.writeHead(404, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ message: `page not found: ${url}` }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(socket, r));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('negotiates from /_ping and prefixes every path', async () => {
    const c = await DockerClient.connect(parseDockerHost(`unix://${socket}`), { timeoutMs: 2000 });
    try {
      expect(c.apiVersion).toBe('1.41');
      const v = await c.version();
      expect(v).toMatchObject({ Version: '20.10.24+dfsg1', ApiVersion: '1.41' });
      expect(seen.slice(-2).map((s) => s.url)).toEqual(['/_ping', '/v1.41/version']);
    } finally {
      c.close();
    }
  });

  it('talks at most 1.45 to a newer engine, and 1.24 to one that does not say', async () => {
    apiHeader = '1.47';
    const c1 = await DockerClient.connect(parseDockerHost(`unix://${socket}`));
    apiHeader = undefined;
    const c2 = await DockerClient.connect(parseDockerHost(`unix://${socket}`));
    apiHeader = '1.41';
    expect([c1.apiVersion, c1.serverApiVersion, c2.apiVersion, c2.serverApiVersion]).toEqual(['1.45', '1.47', '1.24', undefined]);
    c1.close();
    c2.close();
  });

  it('an unhealthy ping is DOCKER_UNAVAILABLE; a TLS engine spoken to in plain HTTP says to use TLS', async () => {
    pingOverride = { status: 500, body: '{"message":"daemon is shutting down"}' };
    const e1 = await expectError(DockerClient.connect(parseDockerHost(`unix://${socket}`)));
    // dockerd's answer to plain HTTP on its TLS port (Go net/http)
    pingOverride = { status: 400, body: 'Client sent an HTTP request to an HTTPS server.\n' };
    const e2 = await expectError(DockerClient.connect(parseDockerHost(`unix://${socket}`)));
    pingOverride = undefined;
    expect(e1).toMatchObject({ code: 'DOCKER_UNAVAILABLE', details: { status: 500 } });
    expect(e1.message).toMatch(/is not healthy: Docker engine: daemon is shutting down \(HTTP 500 from GET \/_ping\)/);
    expect(e2.code).toBe('DOCKER_UNAVAILABLE');
    expect(e2.message).toMatch(/expects TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH/);
  });

  it('networks: list, inspect, 404 → undefined, create with CheckDuplicate, conflicts', async () => {
    const c = await DockerClient.connect(parseDockerHost(`unix://${socket}`));
    try {
      expect((await c.listNetworks()).map((n) => n.Name)).toEqual(['none', 'host', 'mynet']);
      expect((await c.inspectNetwork('mynet'))?.Containers).toHaveProperty('9484b31f55cbccc4bf80b2bcd47df50b4077ffe638231a18fef062229e96ad6c');
      expect(await c.inspectNetwork('doesnotexist')).toBeUndefined();
      const nf = await expectError(c.removeNetwork('doesnotexist'));
      expect(nf.code).toBe('NOT_FOUND');

      expect(await c.createNetwork({ Name: 'other', Driver: 'macvlan', Options: { parent: 'eno1' } })).toBe('new-id');
      const sent = seen.at(-1)!;
      expect(sent.headers['content-type']).toBe('application/json');
      expect(JSON.parse(sent.body)).toEqual({ CheckDuplicate: true, Name: 'other', Driver: 'macvlan', Options: { parent: 'eno1' } });

      const dup = await expectError(c.createNetwork({ Name: 'mynet', Driver: 'macvlan' }));
      expect(dup).toMatchObject({ code: 'DOCKER_CONFLICT', details: { status: 409 } });
      const parent = await expectError(c.createNetwork({ Name: 'mynet2', Driver: 'macvlan' }));
      expect(parent).toMatchObject({ code: 'DOCKER_CONFLICT', details: { status: 500, conflict: 'parent' } });
    } finally {
      c.close();
    }
  });

  it('containers and exec: 304 on start is fine, exec output demultiplexed with its exit code', async () => {
    const c = await DockerClient.connect(parseDockerHost(`unix://${socket}`));
    try {
      expect((await c.listContainers({ all: true }))[0]?.Names).toEqual(['/web']);
      expect((await inspectContainer(c, 'web')).Name).toBe('/web');
      await startContainer(c, 'web');
      expect(await execInContainer(c, 'web', ['sh', '-c', 'echo hello; echo oops >&2; exit 3'])).toEqual({ exitCode: 3, stdout: 'hello\n', stderr: 'oops\n' });
      expect(JSON.parse(seen.find((s) => s.url === '/v1.41/containers/web/exec')!.body)).toMatchObject({ Cmd: ['sh', '-c', 'echo hello; echo oops >&2; exit 3'], Tty: false });
    } finally {
      c.close();
    }
  });

  it('every request has a deadline', async () => {
    const c = await DockerClient.connect(parseDockerHost(`unix://${socket}`), { timeoutMs: 200 });
    try {
      const t0 = Date.now();
      const e = await expectError(c.request({ method: 'GET', path: '/slow' }));
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(e.code).toBe('DOCKER_ERROR');
      expect(e.message).toMatch(/did not answer GET \/slow within 200 ms/);
    } finally {
      c.close();
    }
  });

  it('a change whose answer never came is marked outcomeUnknown (timeout, reset); a read, or a refusal, is not', async () => {
    const c = await DockerClient.connect(parseDockerHost(`unix://${socket}`), { timeoutMs: 200 });
    try {
      const late = await expectError(c.request({ method: 'POST', path: '/slow-post', body: {} }));
      expect(late.details.outcomeUnknown).toBe(true);
      const reset = await expectError(c.request({ method: 'POST', path: '/reset-post', body: {} }));
      expect(reset.details.outcomeUnknown, reset.message).toBe(true);
      const read = await expectError(c.request({ method: 'GET', path: '/slow' }));
      expect(read.details.outcomeUnknown).toBeUndefined();
      const refused = await expectError(c.request({ method: 'POST', path: '/networks/create', body: { Name: 'mynet' } }));
      expect(refused.details.outcomeUnknown).toBeUndefined();
    } finally {
      c.close();
    }
  });

  it('gatherDockerFacts: networks with the containers from inspect', async () => {
    const facts = await gatherDockerFacts(parseDockerHost(`unix://${socket}`), 2000);
    expect(facts.available).toBe(true);
    if (!facts.available) return;
    expect(facts).toMatchObject({ apiVersion: '1.41', engineVersion: '20.10.24+dfsg1', endpoint: `unix://${socket}` });
    expect(facts.networks.map((n) => n.name)).toEqual(['host', 'mynet', 'none']);
    expect(facts.networks.find((n) => n.name === 'mynet')!.containers.map((c) => c.name)).toEqual(['web']);
  });

  it('no socket, or a file that is not a socket: DOCKER_UNAVAILABLE, and gatherDockerFacts says so', async () => {
    const missing = await expectError(DockerClient.connect(parseDockerHost(`unix://${dir}/nope.sock`), { timeoutMs: 1000 }));
    expect(missing.code).toBe('DOCKER_UNAVAILABLE');
    expect(missing.message).toMatch(/^the Docker engine at unix:\/\/.*\/nope\.sock is not reachable \(the socket does not exist\): start Docker/);
    writeFileSync(join(dir, 'plain-file'), '');
    const refused = await expectError(DockerClient.connect(parseDockerHost(`unix://${dir}/plain-file`), { timeoutMs: 1000 }));
    expect(refused).toMatchObject({ code: 'DOCKER_UNAVAILABLE', details: { errno: 'ECONNREFUSED' } });
    const facts = await gatherDockerFacts(parseDockerHost(`unix://${dir}/nope.sock`), 1000);
    expect(facts).toMatchObject({ available: false, endpoint: `unix://${dir}/nope.sock` });
    expect(!facts.available && facts.reason).toMatch(/not reachable/);
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe.skipIf(!hasOpenssl)('TLS endpoints (DOCKER_TLS_VERIFY + DOCKER_CERT_PATH) against a fake engine with mutual TLS', () => {
  let dir: string;
  let port: number;
  let server: ReturnType<typeof createHttpsServer>;
  const clientCerts: unknown[] = [];

  function openssl(args: string[]) {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-tls-'));
    const certs = join(dir, 'certs');
    mkdirSync(certs);
    const ca = (name: string) => openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.pem`]);
    ca('ca');
    ca('otherca');
    const leaf = (name: string, ext: string) => {
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`]);
      writeFileSync(join(dir, `${name}.ext`), ext);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
    };
    leaf('server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    leaf('client', 'extendedKeyUsage=clientAuth\n');
    // the layout the Docker CLI expects in DOCKER_CERT_PATH
    writeFileSync(join(certs, 'ca.pem'), readFileSync(join(dir, 'ca.pem')));
    writeFileSync(join(certs, 'cert.pem'), readFileSync(join(dir, 'client.pem')));
    writeFileSync(join(certs, 'key.pem'), readFileSync(join(dir, 'client-key.pem')));
    server = createHttpsServer(
      { key: readFileSync(join(dir, 'server-key.pem')), cert: readFileSync(join(dir, 'server.pem')), ca: readFileSync(join(dir, 'ca.pem')), requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        clientCerts.push((req.socket as TLSSocket).getPeerCertificate().subject?.CN);
        res.writeHead(200, { 'Api-Version': '1.41', 'Content-Type': req.url === '/_ping' ? 'text/plain' : 'application/json' });
        res.end(req.url === '/_ping' ? 'OK' : req.url === '/v1.41/version' ? readFileSync(join(FIX, 'version.json')) : '[]');
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the engine against ca.pem and presents cert.pem/key.pem', async () => {
    const endpoint = resolveEndpoint(undefined, { DOCKER_CONFIG: dir, DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: join(dir, 'certs') });
    const c = await DockerClient.connect(endpoint, { timeoutMs: 5000 });
    try {
      expect(c.apiVersion).toBe('1.41');
      expect((await c.version()).Version).toBe('20.10.24+dfsg1');
      expect(clientCerts.at(-1)).toBe('client');
    } finally {
      c.close();
    }
  });

  it('a CA that did not sign the engine certificate fails with a TLS message', async () => {
    const other = join(dir, 'other');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'ca.pem'), readFileSync(join(dir, 'otherca.pem')));
    writeFileSync(join(other, 'cert.pem'), readFileSync(join(dir, 'client.pem')));
    writeFileSync(join(other, 'key.pem'), readFileSync(join(dir, 'client-key.pem')));
    const endpoint = resolveEndpoint(undefined, { DOCKER_CONFIG: dir, DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: other });
    const e = await expectError(DockerClient.connect(endpoint, { timeoutMs: 5000 }));
    expect(e.code).toBe('DOCKER_UNAVAILABLE');
    expect(e.message).toMatch(new RegExp(`^TLS with the Docker engine at tcp://127\\.0\\.0\\.1:${port} failed \\(.*certificate.*\\); check DOCKER_CERT_PATH`));
  });

  it('a missing ca.pem is named', async () => {
    const endpoint = resolveEndpoint(undefined, { DOCKER_CONFIG: dir, DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: join(dir, 'nowhere') });
    const e = await expectError(DockerClient.connect(endpoint, { timeoutMs: 5000 }));
    expect(e.message).toMatch(/^cannot read the TLS CA certificate .*\/nowhere\/ca\.pem for the Docker engine at tcp:\/\/127\.0\.0\.1:\d+ \(ENOENT\)/);
  });

  it('plain http to a TLS engine is not mistaken for a working engine', async () => {
    const e = await expectError(DockerClient.connect(parseDockerHost(`tcp://127.0.0.1:${port}`), { timeoutMs: 2000 }));
    expect(e.code).toBe('DOCKER_UNAVAILABLE');
    expect(e.message).toMatch(/if it expects TLS, set DOCKER_TLS_VERIFY=1/);
  });
});


describe('engine version from the /_ping Server header', () => {
  it('reads it from the real header of dockerd 20.10', () => {
    const headers = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'docker', 'ping.headers.txt'), 'utf8');
    const server = /^Server: (.*)$/m.exec(headers)![1]!.trim();
    expect(engineVersionFromServerHeader(server)).toBe('20.10.24+dfsg1');
    expect(engineVersionFromServerHeader(undefined)).toBeUndefined();
    expect(engineVersionFromServerHeader('nginx')).toBeUndefined();
  });
});

// The Engine API client against a real dockerd (Debian docker.io 20.10, API 1.41) running inside a
// lab network namespace (test/e2e/lab.ts). Everything lives in the lab and goes with lab.destroy().
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MacvlanError } from '../../src/model/errors.js';
import { formatAddress, formatCidr } from '../../src/net/address.js';
import { DockerClient } from '../../src/system/docker/client.js';
import { connectContainer, createContainer, execInContainer, inspectContainer, listImages, removeContainer, startContainer, stopContainer } from '../../src/lab/docker-api.js';
import { parseDockerHost, resolveEndpoint } from '../../src/system/docker/endpoint.js';
import { gatherDockerFacts, networkFactFromEngine } from '../../src/gather/docker-facts.js';
import { LAB_IMAGE, createLab, type Lab, type LabHost } from './lab.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('docker-client.e2e: SKIPPED — needs root (network namespaces, dockerd)');

async function expectError(p: Promise<unknown>): Promise<MacvlanError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MacvlanError);
    return e as MacvlanError;
  }
  throw new Error('did not reject');
}

const macvlanBody = (name: string, parent: string, subnet: string, gateway: string, extra: Record<string, unknown> = {}) => ({
  Name: name,
  Driver: 'macvlan',
  Options: { parent },
  IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gateway, ...extra }] },
  Labels: { 'io.macvlanctl.managed': 'true' },
});

describe.skipIf(!isRoot)('DockerClient against a real dockerd 20.10 in a namespace', () => {
  let lab: Lab | undefined;
  let host: LabHost;
  let socket: string;
  let client: DockerClient;

  beforeAll(async () => {
    lab = await createLab({ docker: true, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
    host = lab.hosts[0]!;
    socket = host.docker!.socket;
    // a second NIC inside the host namespace, for a network a container can be connected to
    await host.exec(['ip', 'link', 'add', 'eno2', 'type', 'veth', 'peer', 'name', 'eno2p'], { check: true });
    await host.exec(['ip', 'link', 'set', 'eno2', 'up'], { check: true });
    await host.exec(['ip', 'link', 'set', 'eno2p', 'up'], { check: true });
  }, 180_000);

  afterAll(async () => {
    client?.close();
    await lab?.destroy();
  }, 120_000);

  it('connects and negotiates API 1.41 (what Debian dockerd 20.10 speaks)', async () => {
    const t0 = performance.now();
    client = await DockerClient.connect(resolveEndpoint(`unix://${socket}`), { timeoutMs: 15_000 });
    const connectMs = performance.now() - t0;
    expect(client.apiVersion).toBe('1.41');
    expect(client.serverApiVersion).toBe('1.41');
    const v = await client.version();
    expect(v.ApiVersion).toBe('1.41');
    expect(v.Version).toMatch(/^20\.10\./);

    // latency on the kept-alive socket
    const n = 50;
    const t1 = performance.now();
    for (let i = 0; i < n; i++) await client.listNetworks();
    const perRequest = (performance.now() - t1) / n;
    console.error(`docker-client.e2e: connect (ping) ${connectMs.toFixed(1)} ms, GET /networks ${perRequest.toFixed(2)} ms/request over ${n}`);
    expect(perRequest).toBeLessThan(50);
  });

  it('creates a macvlan network, inspects it, and refuses a second one on the same parent', async () => {
    const id = await client.createNetwork(
      macvlanBody('mynet', 'eno1', '198.51.100.0/24', '198.51.100.1', { IPRange: '198.51.100.192/27', AuxiliaryAddresses: { host: '198.51.100.223' } }),
    );
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const inspected = await client.inspectNetwork('mynet');
    expect(inspected?.Id).toBe(id);
    const fact = networkFactFromEngine(inspected!);
    expect(fact).toMatchObject({ name: 'mynet', driver: 'macvlan', parent: 'eno1', labels: { 'io.macvlanctl.managed': 'true' } });
    expect(formatCidr(fact.subnets[0]!.ipRange!)).toBe('198.51.100.192/27');
    expect(formatAddress(fact.subnets[0]!.auxAddresses.host!)).toBe('198.51.100.223');

    // dockerd 20.10 answers HTTP 500 for this; the client calls it a conflict
    const parent = await expectError(client.createNetwork(macvlanBody('mynet2', 'eno1', '203.0.113.0/24', '203.0.113.1')));
    expect(parent.code).toBe('DOCKER_CONFLICT');
    expect(parent.message).toMatch(/^Docker engine: network dm-[0-9a-f]{12} is already using parent interface eno1 \(HTTP 500 from POST \/networks\/create\)/);
    expect(parent.details).toMatchObject({ status: 500, conflict: 'parent', engineMessage: expect.stringMatching(/already using parent interface eno1/) });

    // same name again: 409 (CheckDuplicate is sent by default)
    const dup = await expectError(client.createNetwork(macvlanBody('mynet', 'eno2', '203.0.113.0/24', '203.0.113.1')));
    expect(dup).toMatchObject({ code: 'DOCKER_CONFLICT', details: { status: 409 } });
    expect(dup.message).toMatch(/network with name mynet already exists/);
  });

  it('runs a container on it: facts show its address, exec is demultiplexed, connect/disconnect work', async () => {
    const images = await listImages(client);
    expect(images.some((i) => i.RepoTags?.includes(LAB_IMAGE))).toBe(true);

    const cid = await createContainer(client, 'web', { Image: LAB_IMAGE, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'mynet' } });
    await startContainer(client, cid);
    await startContainer(client, cid); // already running: 304, not an error
    const containers = await client.listContainers();
    expect(containers.map((c) => c.Names[0])).toContain('/web');

    const tg = performance.now();
    const facts = await gatherDockerFacts(parseDockerHost(`unix://${socket}`), 5000);
    console.error(`docker-client.e2e: gatherDockerFacts (ping, version, list, inspect mynet) ${(performance.now() - tg).toFixed(1)} ms`);
    expect(facts.available).toBe(true);
    if (!facts.available) return;
    expect(facts.apiVersion).toBe('1.41');
    const mynet = facts.networks.find((n) => n.name === 'mynet')!;
    expect(mynet.containers).toHaveLength(1);
    expect(mynet.containers[0]).toMatchObject({ id: cid, name: 'web' });
    expect(formatAddress(mynet.containers[0]!.ipv4!)).toBe('198.51.100.192');

    const r = await execInContainer(client, 'web', ['sh', '-c', 'echo out; echo err >&2; ip -o -4 addr show eth0; exit 3']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toBe('err\n');
    expect(r.stdout).toMatch(/^out\n.*inet 198\.51\.100\.192\/24/s);
    const big = await execInContainer(client, 'web', ['sh', '-c', 'seq 1 20000']);
    expect(big.exitCode).toBe(0);
    expect(big.stdout.split('\n').length).toBe(20001);

    await client.createNetwork(macvlanBody('side', 'eno2', '203.0.113.0/24', '203.0.113.1'));
    await connectContainer(client, 'side', 'web', { endpointConfig: { IPAMConfig: { IPv4Address: '203.0.113.50' } } });
    const inspected = await inspectContainer(client, 'web');
    expect(inspected.NetworkSettings.Networks?.side?.IPAddress).toBe('203.0.113.50');
    await client.disconnectContainer('side', 'web', { force: true });
    expect(Object.keys((await inspectContainer(client, 'web')).NetworkSettings.Networks ?? {})).toEqual(['mynet']);
    await client.removeNetwork('side');

    await stopContainer(client, 'web', { timeoutSeconds: 1 });
    await stopContainer(client, 'web', { timeoutSeconds: 1 }); // already stopped: 304
    await removeContainer(client, 'web', { force: true });
    expect((await client.listContainers({ all: true })).map((c) => c.Names[0])).not.toContain('/web');
  });

  it('404 → NOT_FOUND (inspectNetwork: undefined), then removes the network', async () => {
    expect(await client.inspectNetwork('doesnotexist')).toBeUndefined();
    const nf = await expectError(client.removeNetwork('doesnotexist'));
    expect(nf.code).toBe('NOT_FOUND');
    expect(nf.message).toBe('Docker engine: network doesnotexist not found (HTTP 404 from DELETE /networks/doesnotexist)');
    expect((await expectError(inspectContainer(client, 'nope'))).code).toBe('NOT_FOUND');

    await client.removeNetwork('mynet');
    expect(await client.inspectNetwork('mynet')).toBeUndefined();
  });

  it('a client on the version negotiated earlier works without a ping; an engine gone fails its first request the same way', async () => {
    const again = await DockerClient.negotiated(resolveEndpoint(`unix://${socket}`), client.apiVersion, { timeoutMs: 15_000 });
    try {
      expect(again.apiVersion).toBe('1.41');
      expect((await again.listNetworks()).map((n) => n.Name)).toContain('host');
    } finally {
      again.close();
    }
    const missing = join(lab!.dir, 'no-such.sock');
    const gone = await DockerClient.negotiated(parseDockerHost(`unix://${missing}`), '1.41', { timeoutMs: 2000 });
    try {
      const e = await expectError(gone.listNetworks());
      expect(e.code).toBe('DOCKER_UNAVAILABLE');
      expect(e.message).toMatch(/is not reachable \(the socket does not exist\)/);
    } finally {
      gone.close();
    }
  });

  it('unreachable socket → DOCKER_UNAVAILABLE; gatherDockerFacts reports it instead of throwing', async () => {
    const missing = join(lab!.dir, 'no-such.sock');
    const e = await expectError(DockerClient.connect(parseDockerHost(`unix://${missing}`), { timeoutMs: 2000 }));
    expect(e.code).toBe('DOCKER_UNAVAILABLE');
    expect(e.message).toBe(
      `the Docker engine at unix://${missing} is not reachable (the socket does not exist): start Docker (systemctl start docker), or point DOCKER_HOST / --docker-host / the Docker context at the right socket`,
    );
    const facts = await gatherDockerFacts(parseDockerHost(`unix://${missing}`), 2000);
    expect(facts).toMatchObject({ available: false, endpoint: `unix://${missing}` });
  });

  it('no permission on the socket → NOT_PERMITTED', async () => {
    // the lab dir is 0700 root: as uid 65534 the socket cannot be reached (this fork only)
    process.seteuid!(65534);
    let err: MacvlanError;
    try {
      err = await expectError(DockerClient.connect(parseDockerHost(`unix://${socket}`), { timeoutMs: 2000 }));
    } finally {
      process.seteuid!(0);
    }
    expect(err.code).toBe('NOT_PERMITTED');
    expect(err.message).toMatch(/^permission denied on the Docker engine socket .*docker\.sock: run as root/);
  });
});

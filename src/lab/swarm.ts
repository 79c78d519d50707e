// A real Docker Swarm across lab hosts: the first host inits, the others join over the lab bridge, each
// advertising its own lab address. Every engine already runs in its own UTS namespace with the lab host's
// name as hostname (dockerd.ts), so the swarm's node names are the lab host names.
//
// Nothing to undo on teardown: a node's swarm state (raft log, certificates, tasks) lives in its
// dockerd's data-root, inside the lab dir, and its overlay sandboxes in the dockerd's private mount and
// network namespaces; stopping the dockerds and removing the lab dir leaves nothing (lab.e2e checks).

import { dockerRequest } from './docker-api.js';
import { sleep } from './process.js';
import type { LabHost } from './types.js';

export interface LabSwarmNode {
  /** the lab host (and swarm node) name */
  name: string;
  nodeId: string;
  role: 'manager' | 'worker';
}

export interface LabSwarm {
  /** the lab host that ran `swarm init` */
  manager: string;
  nodes: LabSwarmNode[];
}

export interface LabSwarmOptions {
  /** how many of the hosts (the first ones) are managers; default 1 */
  managers?: number;
  /** how long to wait for every node to be Ready; default 60 s */
  readyTimeoutMs?: number;
}

const SWARM_PORT = 2377;
/** overlay networks (ingress) of the lab swarm: /26s of 203.0.113.0/25 */
const SWARM_POOL = '203.0.113.0/25';
const SWARM_SUBNET_SIZE = 26;
/** docker_gwbridge of every lab swarm node, apart from the overlay pool */
const GWBRIDGE = {
  Name: 'docker_gwbridge',
  Driver: 'bridge',
  IPAM: { Config: [{ Subnet: '203.0.113.240/28' }] },
  Options: {
    'com.docker.network.bridge.name': 'docker_gwbridge',
    'com.docker.network.bridge.enable_icc': 'false',
    'com.docker.network.bridge.enable_ip_masquerade': 'false',
  },
};

async function call(host: LabHost, method: string, path: string, body?: unknown): Promise<unknown> {
  if (!host.docker) throw new Error(`lab host ${host.name} has no dockerd`);
  const res = await dockerRequest(host.docker.socket, method, path, body, { timeoutMs: 60_000 });
  if (res.status < 200 || res.status >= 300) throw new Error(`lab swarm: ${method} ${path} on ${host.name}: HTTP ${res.status} ${res.body.trim()}`);
  return res.json;
}

/**
 * `docker swarm init` on hosts[0] and `docker swarm join` on the others (the first `managers` as managers),
 * then waits until the manager lists every node as Ready.
 */
export async function formSwarm(hosts: LabHost[], opts: LabSwarmOptions = {}): Promise<LabSwarm> {
  const [first, ...rest] = hosts;
  if (!first) throw new Error('lab swarm: no hosts');
  const managers = opts.managers ?? 1;
  const listen = (h: LabHost) => ({ ListenAddr: `${h.address}:${SWARM_PORT}`, AdvertiseAddr: `${h.address}:${SWARM_PORT}`, DataPathAddr: h.address });
  // A swarm node makes docker_gwbridge and the ingress overlay network, by default from 172.17.0.0/16 and
  // 10.0.0.0/8: addresses the lab may not use. Both come from 203.0.113.0/24 here, each host's
  // docker_gwbridge made before it joins (in its own namespace, so the same subnet on every host).
  for (const h of hosts) await call(h, 'POST', '/networks/create', GWBRIDGE);
  await call(first, 'POST', '/swarm/init', { ...listen(first), ForceNewCluster: false, DefaultAddrPool: [SWARM_POOL], SubnetSize: SWARM_SUBNET_SIZE });
  const swarm = (await call(first, 'GET', '/swarm')) as { JoinTokens: { Worker: string; Manager: string } };
  // one at a time: raft adds managers one by one, and the lab is small
  for (const [i, h] of rest.entries()) {
    const token = i + 1 < managers ? swarm.JoinTokens.Manager : swarm.JoinTokens.Worker;
    await call(h, 'POST', '/swarm/join', { ...listen(h), RemoteAddrs: [`${first.address}:${SWARM_PORT}`], JoinToken: token });
  }
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    const nodes = (await call(first, 'GET', '/nodes')) as { ID: string; Description?: { Hostname?: string }; Spec?: { Role?: string }; Status?: { State?: string } }[];
    const ready = nodes.filter((n) => n.Status?.State === 'ready');
    if (ready.length === hosts.length) {
      const byName = new Map(ready.map((n) => [n.Description?.Hostname ?? '', n]));
      return {
        manager: first.name,
        nodes: hosts.map((h) => {
          const n = byName.get(h.name);
          if (!n) throw new Error(`lab swarm: no node named ${h.name} (engines report ${[...byName.keys()].join(', ')})`);
          return { name: h.name, nodeId: n.ID, role: n.Spec?.Role === 'manager' ? 'manager' : 'worker' };
        }),
      };
    }
    if (Date.now() > deadline) throw new Error(`lab swarm: only ${ready.length} of ${hosts.length} nodes ready: ${JSON.stringify(nodes.map((n) => [n.Description?.Hostname, n.Status?.State]))}`);
    await sleep(200);
  }
}

/**
 * A network's `swarm:` block (#13), text → SwarmDeclaration:
 *
 *   swarm:
 *     nodes: [h1, h2, {name: h3, parent: enp3s0}, ~]   # slot order; ~ keeps a removed node's slot empty
 *     slice: /28                                       # optional: each node's block size
 *     attachable: true                                 # optional: docker network create --attachable
 *
 * Origins: `swarm` (the block), `swarm.nodes`, `swarm.nodes.N` (each entry), `swarm.nodes.N.parent`,
 * `swarm.slice`, `swarm.attachable`; every problem names its place in the file.
 */
import type { ProblemCollector } from '../model/collector.js';
import { MacvlanError } from '../model/errors.js';
import type { SwarmDeclaration, SwarmNodeDeclaration } from '../model/swarm.js';
import { checkInterfaceName } from './names.js';
import { shownName } from './shown-name.js';

export interface RawSwarm {
  /** null: a slot kept empty */
  nodes: ({ name: string; parent?: string } | null)[];
  slice?: string;
  attachable?: boolean;
}

/** What a Docker engine may report as its Name (a host name); no whitespace, no '/', at most 253 bytes. */
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/;

function fail(label: string, message: string, value?: string): never {
  throw new MacvlanError('CONFIG_INVALID', `${label}: ${message}`, { field: label, ...(value !== undefined ? { value } : {}) });
}

export function parseSwarm(raw: RawSwarm, origin: (k: string) => string, c: ProblemCollector): SwarmDeclaration | undefined {
  const nodes: (SwarmNodeDeclaration | null)[] = [];
  const seen = new Map<string, number>();
  if (raw.nodes.length === 0) {
    c.run(() => fail(origin('swarm.nodes'), 'list the swarm nodes, by the names their Docker engines report (docker info --format {{.Name}}), for example [h1, h2, h3]'));
  }
  raw.nodes.forEach((n, i) => {
    if (n === null) {
      nodes.push(null);
      return;
    }
    const label = origin(`swarm.nodes.${i}`);
    c.run(() => {
      if (!NODE_NAME.test(n.name)) fail(label, `${shownName(n.name)} is not a node name: a host name of letters, digits, . _ -, as docker info reports it`, n.name);
      const first = seen.get(n.name);
      if (first !== undefined) fail(label, `node ${n.name} is listed twice (also at ${origin(`swarm.nodes.${first}`)}); each node has one slot`, n.name);
      seen.set(n.name, i);
      const node: SwarmNodeDeclaration = { name: n.name };
      if (n.parent !== undefined) node.parent = checkInterfaceName(n.parent, origin(`swarm.nodes.${i}.parent`));
      nodes.push(node);
    });
  });
  let slicePrefix: number | undefined;
  if (raw.slice !== undefined) {
    slicePrefix = c.run(() => {
      const m = /^\/?(\d{1,3})$/.exec(raw.slice!.trim());
      if (!m) fail(origin('swarm.slice'), `${shownName(raw.slice!)} is not a block size; write it as /N, for example /28`, raw.slice);
      const n = Number(m[1]);
      if (n < 1 || n > 32) fail(origin('swarm.slice'), `/${n} is not an IPv4 block size (/1 to /32)`, raw.slice);
      return n;
    });
  }
  if (c.errors.length > 0) return undefined;
  const out: SwarmDeclaration = { nodes, attachable: raw.attachable === true };
  if (slicePrefix !== undefined) out.slicePrefix = slicePrefix;
  return out;
}

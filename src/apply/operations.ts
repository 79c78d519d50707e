/**
 * Turns a plan into concrete operations, each with its undo. Pure: the
 * operations are data, executed by run-operations.ts.
 *
 * Every operation comes from the plan alone (planOperations): the changes
 * carry what is needed (ids, bodies, MTUs, file contents), so nothing is
 * decided here again.
 *
 * Order per network: the Docker network first (nothing on the host changes if
 * the engine refuses), then the shim; when the network is removed (destroy),
 * the shim goes first. A new shim is built as: link with its
 * fixed MAC and our alias, addresses, arp_notify (so the kernel sends a
 * gratuitous ARP on link-up), link up, routes. Deleting the link undoes all of
 * it at once, since addresses and routes go with the link.
 */
import type { Change, DockerCreateBody, Plan, PlanError, PlannedNetwork, PlannedPersistence, PlannedShim, ShimLinkState } from '../model/plan.js';
import { AggregateMacvlanError, MacvlanError } from '../model/errors.js';
import { shimAlias } from '../model/labels.js';
import { backendOwning } from '../backends/registry.js';

export type { DockerCreateBody } from '../model/plan.js';

export type Operation =
  /**
   * `irreversible`: no undo can put back what it removes (a deleted link takes its addresses and
   * routes along); once it is done, a rollback cannot claim the host is as it was.
   */
  | { kind: 'ip'; title: string; line: string; undo?: string; irreversible?: true }
  | { kind: 'sysctl'; title: string; family: 'ipv4' | 'ipv6'; iface: string; key: string; value: string }
  | { kind: 'docker-create'; title: string; network: string; body: DockerCreateBody }
  | { kind: 'docker-remove'; title: string; network: string; id: string; recreate?: DockerCreateBody }
  /** destroy --force: a container still attached is disconnected first (never put back: a rollback cannot claim it). */
  | { kind: 'docker-disconnect'; title: string; network: string; id: string; container: { id: string; name: string } }
  /** Our record of what was applied (src/system/state-store.ts), written last. */
  | { kind: 'state-write'; title: string; network: PlannedNetwork }
  | { kind: 'state-remove'; title: string; network: string }
  /** Persistence files under --root (src/backends/write-files.ts); each undone by putting back what was there. */
  | { kind: 'file-write'; title: string; path: string; content: string; mode: number }
  | { kind: 'file-link'; title: string; path: string; target: string }
  | { kind: 'file-remove'; title: string; path: string }
  /** Tell the running network manager about changed files; best effort, last, never rolled back. */
  | { kind: 'persist-load'; title: string; backend: PlannedPersistence['backend']; written: string[]; removed: string[]; shim?: string };

/** One way to delete a shim, for apply, destroy and down: the link takes its addresses, routes and proxy entries along. */
export function deleteShimOperation(iface: string, title = `delete shim ${iface} (with its address and route)`): Operation {
  return { kind: 'ip', title, line: `link del dev ${iface}`, irreversible: true };
}

/** destroy --force: the containers the plan names are disconnected before anything of the network goes. */
function disconnectOperations(change: Extract<Change, { kind: 'docker-network' }>): Operation[] {
  if (change.action !== 'delete' || !change.before) return [];
  const id = change.before.id;
  return (change.disconnect ?? []).map((container) => ({ kind: 'docker-disconnect', title: `disconnect container ${container.name}`, network: change.network, id, container }));
}

/** The Docker side of a change: everything the executor needs is in the change itself. */
function dockerOperations(change: Extract<Change, { kind: 'docker-network' }>): Operation[] {
  // A swarm network's node part is its config-only network, and a manager's also the swarm network (#13): named as the body names them.
  const body = change.after ?? change.before?.body;
  const what = body?.ConfigOnly ? `config-only Docker network ${body.Name}` : body?.Scope === 'swarm' ? `swarm network ${body.Name}` : `Docker network ${change.network}`;
  const create = (body: DockerCreateBody): Operation => ({ kind: 'docker-create', title: `create ${what}`, network: change.network, body });
  const remove = (title: string): Operation[] =>
    change.before ? [{ kind: 'docker-remove', title, network: change.network, id: change.before.id, recreate: change.before.body }] : [];
  switch (change.action) {
    case 'create':
      return change.after ? [create(change.after)] : [];
    case 'replace':
      return [...remove(`remove ${what} (to replace it)`), ...(change.after ? [create(change.after)] : [])];
    case 'delete':
      return remove(`remove ${what}`);
    default:
      return [];
  }
}

export function shimOperations(changes: Change[], n: PlannedNetwork): Operation[] {
  const link = changes.find((c): c is Extract<Change, { kind: 'shim-link' }> => c.kind === 'shim-link');
  const shim = n.shim;
  if (link?.action === 'delete') return [deleteShimOperation(link.interface)];
  if (!shim) return [];
  const dev = shim.interface;
  const fresh = link?.action === 'create' || link?.action === 'replace';
  // Addresses and routes of a new link go with the link on undo; on an
  // existing link each repair is undone on its own.
  const undo = (line: string) => (fresh ? undefined : line);
  return [
    ...(link?.action === 'replace' ? [deleteShimOperation(dev, `delete drifted shim ${dev}`)] : []),
    ...(fresh ? createShimOperations(n, shim, link.after) : []),
    ...staleShimOperations(changes, dev),
    ...addAddressOperations(changes, dev, undo),
    ...mtuOperations(changes, dev),
    ...upOperations(changes, shim),
    ...addRouteOperations(changes, dev, undo),
    ...proxyNdpOperations(changes, dev, undo),
  ];
}

/** A new link, marked as ours by its alias. */
function createShimOperations(n: PlannedNetwork, shim: PlannedShim, after: ShimLinkState | undefined): Operation[] {
  const dev = shim.interface;
  const made = after ?? { parent: n.parent, mode: shim.mode, mac: shim.mac };
  return [
    {
      kind: 'ip',
      title: `create shim ${dev}`,
      line: `link add ${dev} link ${made.parent} address ${made.mac} type macvlan mode ${made.mode}`,
      undo: `link del dev ${dev}`,
    },
    { kind: 'ip', title: `mark ${dev} as ours`, line: `link set dev ${dev} alias ${shimAlias(n.name)}` },
  ];
}

/** What the shim kept from an earlier range goes first (routes, then addresses), each put back on undo. */
function staleShimOperations(changes: Change[], dev: string): Operation[] {
  const ops: Operation[] = [];
  for (const c of changes) {
    if (c.kind === 'shim-route' && c.action === 'delete') {
      ops.push({ kind: 'ip', title: `remove the stale route ${c.destination} via ${dev}`, line: `route del ${c.destination} dev ${dev}`, undo: `route add ${c.destination} dev ${dev}` });
    }
  }
  for (const c of changes) {
    if (c.kind === 'shim-address' && c.action === 'delete') {
      const nodad = c.address.includes(':') ? ' nodad' : '';
      ops.push({ kind: 'ip', title: `remove the stale address ${c.address} from ${dev}`, line: `addr del ${c.address} dev ${dev}`, undo: `addr add ${c.address} dev ${dev}${nodad}` });
    }
  }
  return ops;
}

/**
 * The shim's new addresses. IPv6 ones skip duplicate address detection (`nodad`): each is reserved for
 * the shim in Docker, or is the host's own, shared on purpose by an adopted network, which DAD would
 * fail; and the address works at once rather than after a second of tentative state.
 */
function addAddressOperations(changes: Change[], dev: string, undo: (line: string) => string | undefined): Operation[] {
  return changes.flatMap((c): Operation[] => {
    if (c.kind !== 'shim-address' || c.action !== 'create') return [];
    const nodad = c.address.includes(':') ? ' nodad' : '';
    return [{ kind: 'ip', title: `add ${c.address} to ${dev}`, line: `addr add ${c.address} dev ${dev}${nodad}`, ...opt(undo(`addr del ${c.address} dev ${dev}`)) }];
  });
}

/** The parent's MTU on an existing shim, put back on undo. */
function mtuOperations(changes: Change[], dev: string): Operation[] {
  return changes.flatMap((c): Operation[] =>
    c.kind === 'shim-mtu' && c.action === 'update'
      ? [{ kind: 'ip', title: `set the MTU of ${dev} to ${c.after.mtu}, its parent's`, line: `link set dev ${dev} mtu ${c.after.mtu}`, undo: `link set dev ${dev} mtu ${c.before.mtu}` }]
      : [],
  );
}

/** The shim's routes: the ip-range's, or an adopted network's one per container. */
function addRouteOperations(changes: Change[], dev: string, undo: (line: string) => string | undefined): Operation[] {
  return changes.flatMap((c): Operation[] =>
    c.kind === 'shim-route' && c.action === 'create'
      ? [{ kind: 'ip', title: `route ${c.destination} via ${dev}`, line: `route add ${c.destination} dev ${dev}`, ...opt(undo(`route del ${c.destination} dev ${dev}`)) }]
      : [],
  );
}

/** arp_notify, the IPv6 sysctls and `link set up`, when the shim is to be brought up (or arp_notify alone on one that is up). */
function upOperations(changes: Change[], shim: PlannedShim): Operation[] {
  const dev = shim.interface;
  const up = changes.find((c) => c.kind === 'shim-up');
  // Bringing the shim up turns arp_notify on first (below); a shim that is up gets it on its own.
  if (up?.action !== 'update') {
    return changes.some((c) => c.kind === 'shim-arp-notify' && c.action === 'update')
      ? [{ kind: 'sysctl', title: `announce ${dev} by gratuitous ARP when it comes up`, family: 'ipv4', iface: dev, key: 'arp_notify', value: '1' }]
      : [];
  }
  const ops: Operation[] = [];
  if (shim.containerRoutes) {
    // An adopted shim carries the host's own LAN address (src/plan/adopt-network.ts): a gratuitous ARP
    // would announce it at the shim's MAC and move the LAN's traffic for the host onto the shim, where
    // strict rp_filter drops it and from where it is lost once the shim goes. Containers ask by ARP.
    ops.push({ kind: 'sysctl', title: `no gratuitous ARP from ${dev} (it shares the host's address)`, family: 'ipv4', iface: dev, key: 'arp_notify', value: '0' });
  } else {
    ops.push({ kind: 'sysctl', title: `announce ${dev} by gratuitous ARP when it comes up`, family: 'ipv4', iface: dev, key: 'arp_notify', value: '1' });
  }
  // The shim carries only the addresses we give it: no SLAAC address or
  // router-advertised routes from the LAN (the persisted files say the same).
  if (shim.address6) {
    ops.push({ kind: 'sysctl', title: `no router advertisements on ${dev}`, family: 'ipv6', iface: dev, key: 'accept_ra', value: '0' });
  } else {
    ops.push({ kind: 'sysctl', title: `no IPv6 on ${dev} (the network is IPv4-only)`, family: 'ipv6', iface: dev, key: 'disable_ipv6', value: '1' });
  }
  // Never undone. An undo is registered only for a step whose success proves that this run made the
  // change (`addr add` and `route add` fail when the thing is there already); `link set up` succeeds
  // on a link that is up, and the facts that said "down" may be stale (a network manager, or a
  // concurrent run, brought it up meanwhile). Taking the shim down would also drop every route
  // through it, ours or not. An own shim that is up is its desired state in any case.
  ops.push({ kind: 'ip', title: `bring ${dev} up`, line: `link set dev ${dev} up` });
  return ops;
}

/**
 * Proxy NDP for the host's own IPv6 addresses (src/plan/proxy-ndp.ts says why
 * this and not a copy of the address): the kernel answers proxied
 * solicitations only where proxy_ndp and forwarding are both on, so both are
 * switched on for the shim alone. The entries go with the link when it is deleted.
 */
function proxyNdpOperations(changes: Change[], dev: string, undo: (line: string) => string | undefined): Operation[] {
  const ops: Operation[] = [];
  const proxies = changes.filter((c): c is Extract<Change, { kind: 'shim-proxy-ndp' }> => c.kind === 'shim-proxy-ndp');
  if (proxies.some((c) => c.action === 'create')) {
    ops.push({ kind: 'sysctl', title: `proxy NDP on ${dev}`, family: 'ipv6', iface: dev, key: 'proxy_ndp', value: '1' });
    ops.push({ kind: 'sysctl', title: `router behaviour on ${dev} only, which proxy NDP needs (the host forwards nothing: all.forwarding is untouched)`, family: 'ipv6', iface: dev, key: 'forwarding', value: '1' });
  }
  for (const c of proxies) {
    // An entry that is there already needs only the sysctls above: `neigh replace` would succeed on it, and
    // its undo would then delete an entry this run did not make (a rollback never takes away what it did not add).
    if (c.action === 'create' && !c.entryPresent) {
      ops.push({ kind: 'ip', title: `answer for ${c.address} on ${dev}`, line: `neigh replace proxy ${c.address} dev ${dev}`, ...opt(undo(`neigh del proxy ${c.address} dev ${dev}`)) });
    } else if (c.action === 'delete') {
      // Put back on rollback, like the stale addresses and routes: `neigh del` succeeds only on an entry that was there.
      ops.push({ kind: 'ip', title: `stop answering for ${c.address} on ${dev}`, line: `neigh del proxy ${c.address} dev ${dev}`, undo: `neigh add proxy ${c.address} dev ${dev}` });
    }
  }
  return ops;
}

function opt(undo: string | undefined): { undo?: string } {
  return undo === undefined ? {} : { undo };
}

/** File changes for the persistence plan: writes, the enable symlink, removals, from each change's `after`. */
export function persistOperations(changes: Change[]): Operation[] {
  const ops: Operation[] = [];
  for (const c of changes) {
    if (c.kind !== 'persist-file' || c.action === 'noop') continue;
    if (c.action === 'delete') ops.push({ kind: 'file-remove', title: `remove ${c.path}`, path: c.path });
    else if (c.after && 'linkTarget' in c.after) ops.push({ kind: 'file-link', title: `enable ${c.after.linkTarget.split('/').pop()}`, path: c.path, target: c.after.linkTarget });
    else if (c.after) ops.push({ kind: 'file-write', title: `write ${c.path}`, path: c.path, content: c.after.content, mode: c.after.mode });
  }
  return ops;
}

/**
 * The load steps after file operations: the backend the network uses now is
 * told what was written (and removed) of its files, and a backend whose
 * files were removed — the one used before a switch, or by destroy — is told
 * of those, so NetworkManager forgets a keyfile that is gone.
 */
export function loadOperation(backend: PlannedPersistence['backend'], fileOps: Operation[], shim?: string): Operation[] {
  const written = fileOps.flatMap((o) => (o.kind === 'file-write' || o.kind === 'file-link' ? [o.path] : []));
  const removed = fileOps.flatMap((o) => (o.kind === 'file-remove' ? [o.path] : []));
  const by = new Map<PlannedPersistence['backend'], { written: string[]; removed: string[] }>();
  const slot = (b: PlannedPersistence['backend']) => {
    let e = by.get(b);
    if (!e) by.set(b, (e = { written: [], removed: [] }));
    return e;
  };
  if (written.length > 0 && backend !== 'none') slot(backend).written.push(...written);
  for (const path of removed) slot(backendOwning(path)?.name ?? 'none').removed.push(path);
  by.delete('none');
  return [...by].map(([b, paths]) => ({ kind: 'persist-load', title: `load the ${b} files`, backend: b, ...paths, ...(shim ? { shim } : {}) }));
}

/** A plan's refusals as the error apply stops on (before changing anything). */
export function planRefusal(errors: readonly PlanError[]): MacvlanError {
  const all = errors.map((e) => new MacvlanError(e.code, e.message, e.details ?? {}));
  if (all.length === 1) return all[0]!;
  return new AggregateMacvlanError(all[0]!.code, `${all.length} changes are refused:`, all);
}

/**
 * Every operation apply runs, derived from the plan alone: no facts, no
 * options. The planner already decided (replace or refuse, what is stale); a
 * plan that carries refusals yields no operations but its error.
 */
export function planOperations(plan: Plan): Operation[] {
  if (plan.errors?.length) throw planRefusal(plan.errors);
  const ops: Operation[] = [];
  const loads: Operation[] = [];
  // A destroy plan has changes for a network it does not plan (plan.networks is empty).
  const names = [...new Set([...plan.networks.map((n) => n.name), ...plan.changes.map((c) => c.network)])];
  for (const name of names) {
    const n = plan.networks.find((x) => x.name === name);
    const changes = plan.changes.filter((c) => c.network === name && c.action !== 'noop');
    const disconnect = changes.flatMap((c) => (c.kind === 'docker-network' ? disconnectOperations(c) : []));
    const docker = changes.flatMap((c) => (c.kind === 'docker-network' ? dockerOperations(c) : []));
    const shim = n ? shimOperations(changes, n) : changes.flatMap((c) => (c.kind === 'shim-link' && c.action === 'delete' ? [deleteShimOperation(c.interface)] : []));
    const files = persistOperations(changes);
    const record = changes.flatMap((c): Operation[] => (c.kind === 'record' && c.action === 'delete' ? [{ kind: 'state-remove', title: `forget the record of ${name}`, network: name }] : []));
    // Built host side after the Docker network it hangs on, taken down before it (a VLAN parent goes with the network).
    const removing = changes.some((c) => c.kind === 'docker-network' && c.action === 'delete');
    // Containers are disconnected (destroy --force) before anything else goes, so a failure there changes nothing else.
    const forNetwork = [...disconnect, ...(removing ? [...shim, ...docker] : [...docker, ...shim]), ...files, ...record];
    ops.push(...forNetwork);
    if (n && forNetwork.length > 0) ops.push({ kind: 'state-write', title: `record ${name} as applied`, network: n });
    const link = changes.find((c): c is Extract<Change, { kind: 'shim-link' }> => c.kind === 'shim-link');
    const recorded = changes.find((c): c is Extract<Change, { kind: 'record' }> => c.kind === 'record');
    const shimName = n?.shim?.interface ?? recorded?.before?.shim ?? link?.interface;
    loads.push(...loadOperation(n?.persistence?.backend ?? 'none', files, shimName));
  }
  return [...ops, ...loads];
}

/**
 * The manual commands equivalent to a plan (`plan --show-commands`), so a
 * user can see, audit or run by hand exactly what apply would do. Pure.
 */
import type { Change, Plan, PlannedNetwork } from '../model/plan.js';
import { shimAlias } from '../model/labels.js';

function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function dockerCreateArgs(n: PlannedNetwork): string[] {
  const args = ['docker', 'network', 'create', '-d', 'macvlan'];
  for (const [k, v] of Object.entries(n.docker.options)) args.push('-o', `${k}=${v}`);
  if (n.docker.enableIPv6) args.push('--ipv6');
  for (const c of n.docker.ipam) {
    args.push('--subnet', c.Subnet, '--gateway', c.Gateway, '--ip-range', c.IPRange);
    for (const [k, v] of Object.entries(c.AuxiliaryAddresses)) args.push('--aux-address', `${k}=${v}`);
  }
  for (const [k, v] of Object.entries(n.labels)) args.push('--label', `${k}=${v}`);
  args.push(n.name);
  return args;
}

function commandsFor(change: Change, n: PlannedNetwork): string[][] {
  const shim = n.shim;
  switch (change.kind) {
    case 'docker-network':
      if (change.action === 'create') return [dockerCreateArgs(n)];
      if (change.action === 'update') return [['docker', 'network', 'rm', n.name], dockerCreateArgs(n)];
      return [];
    case 'shim-link':
      if (change.action === 'delete') return [['ip', 'link', 'del', change.interface]];
      if (!shim) return [];
      {
        const add = ['ip', 'link', 'add', shim.interface, 'link', n.parent, 'address', shim.mac, 'type', 'macvlan', 'mode', shim.mode];
        const alias = ['ip', 'link', 'set', shim.interface, 'alias', shimAlias(n.name)];
        if (change.action === 'create') return [add, alias];
        if (change.action === 'update') return [['ip', 'link', 'del', shim.interface], add, alias];
      }
      return [];
    case 'shim-address':
      if (change.action === 'delete') return [['ip', 'addr', 'del', change.address, 'dev', change.interface]];
      return change.action === 'create' ? [['ip', 'addr', 'add', change.address, 'dev', change.interface]] : [];
    case 'shim-mtu':
      return change.action === 'update' ? [['ip', 'link', 'set', change.interface, 'mtu', String(change.mtu)]] : [];
    case 'shim-arp-notify':
      // The slash form: an interface name may hold dots, which the dotted form would split.
      return change.action === 'update' ? [['sysctl', '-w', `net/ipv4/conf/${change.interface}/arp_notify=1`]] : [];
    case 'shim-up':
      return change.action === 'update' ? [['ip', 'link', 'set', change.interface, 'up']] : [];
    case 'shim-route':
      if (change.action === 'delete') return [['ip', 'route', 'del', change.destination, 'dev', change.interface]];
      return change.action === 'create' ? [['ip', 'route', 'add', change.destination, 'dev', change.interface]] : [];
    case 'shim-proxy-ndp':
      if (change.action === 'delete') return [['ip', '-6', 'neigh', 'del', 'proxy', change.address, 'dev', change.interface]];
      if (change.action !== 'create') return [];
      return [
        ['sysctl', '-w', `net.ipv6.conf.${change.interface}.proxy_ndp=1`, `net.ipv6.conf.${change.interface}.forwarding=1`],
        ...(change.entryPresent ? [] : [['ip', '-6', 'neigh', 'replace', 'proxy', change.address, 'dev', change.interface]]),
      ];
    case 'persist-file':
      return []; // written as a here-document by persistCommands
  }
}

/** A persistence file as shell: a here-document (content verbatim), its mode; an enable symlink; or rm. */
function persistCommands(change: Extract<Change, { kind: 'persist-file' }>, n: PlannedNetwork): string[] {
  const p = quote(change.path);
  if (change.action === 'delete') return [`rm -f ${p}`];
  const enable = n.persistence?.enable;
  if (enable && enable.path === change.path) return [`mkdir -p ${quote(dirname(enable.path))}`, `ln -sf ${quote(enable.target)} ${p}`];
  const file = n.persistence?.files.find((f) => f.path === change.path);
  if (!file) return [];
  return [`mkdir -p ${quote(dirname(file.path))}`, `cat > ${p} <<'EOF'\n${file.content}EOF`, `chmod ${file.mode.toString(8).padStart(4, '0')} ${p}`];
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

export function planCommands(plan: Plan): string[] {
  const lines: string[] = [];
  for (const change of plan.changes) {
    const n = plan.networks.find((x) => x.name === change.network);
    if (!n || change.action === 'noop') continue;
    if (change.kind === 'persist-file') lines.push(...persistCommands(change, n));
    else for (const argv of commandsFor(change, n)) lines.push(argv.map(quote).join(' '));
  }
  return lines;
}

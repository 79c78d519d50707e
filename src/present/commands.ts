/**
 * The manual commands equivalent to a list of operations (`plan
 * --show-commands`): printed from the very operations apply runs, one or
 * more lines each, so every step shows (sysctls and `nodad` included) and the
 * two can never drift apart. Pure.
 */
import type { DockerCreateBody, Operation } from '../apply/operations.js';

function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function shell(argv: string[]): string {
  return argv.map(quote).join(' ');
}

/** `docker network create` with the body's every field, as the Engine API gets it. */
export function dockerCreateArgs(body: DockerCreateBody): string[] {
  const args = ['docker', 'network', 'create', '-d', body.Driver];
  for (const [k, v] of Object.entries(body.Options)) args.push('-o', `${k}=${v}`);
  if (body.EnableIPv6) args.push('--ipv6');
  for (const c of body.IPAM.Config) {
    args.push('--subnet', c.Subnet);
    if (c.Gateway) args.push('--gateway', c.Gateway);
    if (c.IPRange) args.push('--ip-range', c.IPRange);
    for (const [k, v] of Object.entries(c.AuxiliaryAddresses ?? {})) args.push('--aux-address', `${k}=${v}`);
  }
  for (const [k, v] of Object.entries(body.Labels)) args.push('--label', `${k}=${v}`);
  // a swarm network's parts (#13)
  if (body.ConfigOnly) args.push('--config-only');
  if (body.Scope) args.push('--scope', body.Scope);
  if (body.ConfigFrom) args.push('--config-from', body.ConfigFrom.Network);
  if (body.Attachable) args.push('--attachable');
  args.push(body.Name);
  return args;
}

/** The sysctl key: dotted, or the slash form when the interface name holds a dot (which the dotted form would split). */
function sysctlKey(family: string, iface: string, key: string): string {
  return iface.includes('.') ? `net/${family}/conf/${iface}/${key}` : `net.${family}.conf.${iface}.${key}`;
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

export function operationCommands(op: Operation): string[] {
  switch (op.kind) {
    case 'ip':
      // `ip -batch` lines are `ip` arguments; none of ours holds a space (names and addresses only).
      return [shell(['ip', ...op.line.split(' ')])];
    case 'sysctl':
      return [shell(['sysctl', '-w', `${sysctlKey(op.family, op.iface, op.key)}=${op.value}`])];
    case 'docker-create':
      return [shell(dockerCreateArgs(op.body))];
    case 'docker-disconnect':
      return [shell(['docker', 'network', 'disconnect', '-f', op.network, op.container.name])];
    case 'docker-remove':
      return [shell(['docker', 'network', 'rm', op.recreate?.Name ?? op.network])];
    case 'state-write':
      return [`# record ${op.network.name} as applied (macvlanctl's state under /var/lib/macvlanctl)`];
    case 'state-remove':
      return [`# forget the record of ${op.network} (macvlanctl's state under /var/lib/macvlanctl)`];
    case 'file-write':
      // The content verbatim as a here-document, so the line can be run by hand as it is shown.
      return [
        `mkdir -p ${quote(dirname(op.path))}`,
        `cat > ${quote(op.path)} <<'EOF'\n${op.content}${op.content.endsWith('\n') ? '' : '\n'}EOF`,
        `chmod ${op.mode.toString(8).padStart(4, '0')} ${quote(op.path)}`,
      ];
    case 'file-link':
      return [`mkdir -p ${quote(dirname(op.path))}`, shell(['ln', '-sf', op.target, op.path])];
    case 'file-remove':
      return [shell(['rm', '-f', op.path])];
    case 'persist-load':
      return [`# tell ${op.backend} about the changed files: ${[...op.written, ...op.removed].join(' ')}`];
  }
}

export function commandLines(ops: readonly Operation[]): string[] {
  return ops.flatMap(operationCommands);
}

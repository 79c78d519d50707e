/**
 * The fallback for hosts whose network manager we do not drive: a oneshot
 * unit that runs the installed macvlanctl after the network is online and
 * after Docker, to bring the host side up (`macvlanctl up NAME`) and down on
 * stop (`macvlanctl down NAME`). `systemd-analyze verify` passes on it
 * (test/e2e/render-tools.e2e.test.ts).
 */
import { MacvlanError } from '../../model/errors.js';
import type { PlannedNetwork } from '../../model/plan.js';
import { lines, managedHeader } from '../render-common.js';
import type { RenderedFile, SystemdContext } from '../rendered-file.js';

export const SYSTEMD_UNIT_DIR = '/etc/systemd/system';
/** Where `systemctl enable` puts the symlink for WantedBy=multi-user.target. */
export const UNIT_WANTS_DIR = `${SYSTEMD_UNIT_DIR}/multi-user.target.wants`;

export function systemdUnitName(network: string): string {
  return `macvlanctl-${network}.service`;
}

export function systemdUnitPath(network: string): string {
  return `${SYSTEMD_UNIT_DIR}/${systemdUnitName(network)}`;
}

/**
 * One argument of an Exec*= line (systemd.service(5), "Command lines"): `%`
 * is a specifier and `$` a variable unless doubled; anything beyond a plain
 * word is double-quoted with C-style escapes.
 */
export function systemdQuote(arg: string): string {
  const doubled = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./$-]+$/.test(doubled)) return doubled;
  return `"${doubled.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

export function systemdCommandLine(argv: string[]): string {
  return argv.map(systemdQuote).join(' ');
}

/**
 * A VLAN parent that Docker creates at run time: made (unless Docker or
 * anyone else already made it) and brought up before `macvlanctl up` puts
 * the shim on it. Left alone on stop: it is Docker's.
 */
function vlanSteps(n: PlannedNetwork): string[] {
  if (!n.vlan) return [];
  const make = `ip link show dev ${n.parent} >/dev/null 2>&1 || ip link add link ${n.vlan.link} name ${n.parent} type vlan id ${n.vlan.id}`;
  return [`ExecStartPre=${systemdCommandLine(['/bin/sh', '-c', make])}`, `ExecStartPre=${systemdCommandLine(['/bin/sh', '-c', `ip link set dev ${n.parent} up`])}`];
}

export function renderSystemdUnit(n: PlannedNetwork, ctx: SystemdContext): RenderedFile[] {
  if (!n.shim) return [];
  const [program] = ctx.command;
  if (!program || !program.startsWith('/')) {
    throw new MacvlanError('CONFIG_INVALID', `systemd unit: the command that runs macvlanctl must start with an absolute path, not '${program ?? ''}'`, {
      command: ctx.command,
    });
  }
  const content = lines(
    managedHeader(n.name),
    '[Unit]',
    `Description=macvlanctl host shim ${n.shim.interface} of Docker network ${n.name}`,
    'After=network-online.target docker.service',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    ...vlanSteps(n),
    `ExecStart=${systemdCommandLine([...ctx.command, 'up', n.name])}`,
    `ExecStop=${systemdCommandLine([...ctx.command, 'down', n.name])}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  );
  return [{ path: systemdUnitPath(n.name), content, mode: 0o644 }];
}

/**
 * Whether a systemd unit is enabled, from the files alone (what
 * `systemctl is-enabled` looks at, without asking systemd): symlinks in
 * *.wants/ and *.requires/ directories, masks in /etc and /run, and the unit
 * file itself in the unit search path (systemd.unit(5)). Generators count:
 * netplan enables networkd from /run/systemd/generator.
 */
import { type RootReader, joinPath } from '../root-reader.js';
import type { UnitFacts } from '../../model/manager-facts.js';

/** The system unit search path, highest priority first (systemd.unit(5), trimmed to what distributions use). */
export const UNIT_DIRS = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/run/systemd/generator.early',
  '/run/systemd/generator',
  '/usr/local/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
  '/run/systemd/generator.late',
];
/** Where packages put unit files: if neither exists, the root is not a systemd installation we can judge. */
const VENDOR_DIRS = ['/usr/lib/systemd/system', '/lib/systemd/system'];
const MASK_DIRS = ['/etc/systemd/system', '/run/systemd/system'];

export function unitState(reader: RootReader, unit: string): UnitFacts {
  for (const dir of MASK_DIRS) {
    const p = joinPath(dir, unit);
    const i = reader.info(p);
    if (i?.type === 'symlink' && i.target === '/dev/null') return { unit, state: 'masked', evidence: p };
  }
  for (const dir of UNIT_DIRS) {
    for (const sub of reader.list(dir)) {
      if (!sub.endsWith('.wants') && !sub.endsWith('.requires')) continue;
      const p = joinPath(joinPath(dir, sub), unit);
      if (reader.info(p)) return { unit, state: 'enabled', evidence: p };
    }
  }
  for (const dir of UNIT_DIRS) {
    const p = joinPath(dir, unit);
    if (reader.info(p)) return { unit, state: 'disabled', evidence: p };
  }
  const vendor = VENDOR_DIRS.some((d) => reader.info(d)?.type === 'dir');
  return { unit, state: vendor ? 'not-installed' : 'unknown' };
}

/** The unit is known not to run at boot. */
export function unitOff(u: UnitFacts): boolean {
  return u.state === 'disabled' || u.state === 'masked' || u.state === 'not-installed';
}

export function describeUnit(u: UnitFacts): string {
  switch (u.state) {
    case 'enabled':
      return `${u.unit} is enabled`;
    case 'disabled':
      return `${u.unit} is not enabled (nothing wants ${u.evidence ?? u.unit})`;
    case 'masked':
      return `${u.unit} is masked (${u.evidence})`;
    case 'not-installed':
      return `${u.unit} is not installed`;
    case 'unknown':
      return `whether ${u.unit} is enabled cannot be told from the files`;
  }
}

/**
 * Will the host side come back after a reboot? The files the network's
 * persistence backend needs (from the declaration with -f, else apply's
 * record) against our files on disk, found by their managed header:
 * missing, changed or with the wrong mode fails; no persistence chosen, and
 * files of ours left from another backend, warn.
 *
 * The recorded files are also rendered again from the recorded network
 * (the backend's renderAgain): when this macvlanctl would write them differently
 * (written by an older version), apply again brings them up to date. The
 * systemd unit is not re-rendered: its command line is that of whichever
 * macvlanctl ran apply, which need not be this one (src/backends/systemd-unit/index.ts).
 */
import type { ManagedFile } from '../../model/facts.js';
import type { PersistFile, PlannedNetwork, PlannedPersistence } from '../../model/plan.js';
import { backendNamed } from '../../backends/registry.js';
import { expectedNetwork } from '../expected.js';
import type { Check, CheckResult } from '../types.js';

const octal = (mode: number | undefined) => (mode === undefined ? '?' : `0${mode.toString(8)}`);

/** What the files should be when rendered now, or undefined when that cannot be known from the record alone. */
export function renderedAgain(n: PlannedNetwork, p: PlannedPersistence): PersistFile[] | undefined {
  if (p.backend === 'none') return undefined;
  try {
    return backendNamed(p.backend).renderAgain(n, p.files);
  } catch {
    return undefined;
  }
}

function compare(expected: PlannedPersistence, ours: ManagedFile[]): { problems: string[]; fine: string[] } {
  const problems: string[] = [];
  const fine: string[] = [];
  for (const want of expected.files) {
    const have = ours.find((m) => m.path === want.path);
    if (!have || have.content === undefined) problems.push(`${want.path} is missing (or no longer carries macvlanctl's header)`);
    else if (have.content !== want.content) problems.push(`${want.path} was changed since it was written`);
    else if (have.mode !== want.mode) problems.push(`${want.path} has mode ${octal(have.mode)}, not ${octal(want.mode)}`);
    else fine.push(want.path);
  }
  if (expected.enable) {
    const e = expected.enable;
    const have = ours.find((m) => m.path === e.path);
    if (have?.symlink !== e.target) problems.push(`the unit is not enabled (${e.path} → ${e.target} is missing)`);
    else fine.push(e.path);
  }
  return { problems, fine };
}

export const persistenceCheck: Check = (f): CheckResult => {
  const id = 'persistence';
  const title = 'survives a reboot';
  const expected = expectedNetwork(f);
  const n = expected?.network;
  if (n && !n.shim) return { id, title, verdict: 'skip', detail: 'the network has no host access: there is no shim to persist (Docker keeps its own network)' };
  if (!f.host.persistence) return { id, title, verdict: 'skip', detail: 'the persistence files were not read' };
  const ours = f.host.persistence.managed.filter((m) => m.network === f.name);
  const p = n?.persistence;
  if (!n || !p) {
    // Nothing recorded about persistence: recognise our files by their header alone.
    if (ours.length === 0) {
      return {
        id,
        title,
        verdict: 'warn',
        detail: `no persistence files for ${f.name} on this host, and none recorded: the shim and its route are gone after the next reboot`,
        fix: `${f.commands.apply} --persist auto`,
      };
    }
    return { id, title, verdict: 'pass', detail: `${ours.map((m) => m.path).join(', ')} (ours by their header; what they should hold is not recorded, so not compared)` };
  }
  if (p.backend === 'none') {
    const left = ours.length ? `; files of ours are still there: ${ours.map((m) => m.path).join(', ')}` : '';
    return {
      id,
      title,
      verdict: 'warn',
      // `--persist none` was asked for, and its reason (src/backends/detect.ts) already says what a reboot does: say it once.
      detail: `${n.persist === 'none' ? `no persistence chosen: ${p.reason}` : `no persistence chosen (${p.reason}): the shim and its route are gone after the next reboot`}${left}`,
      fix: `${f.commands.apply} --persist auto (or networkd, networkmanager, ifupdown, systemd)`,
    };
  }
  const { problems, fine } = compare(p, ours);
  const wanted = new Set([...p.files.map((x) => x.path), ...(p.enable ? [p.enable.path] : [])]);
  const leftovers = ours.filter((m) => !wanted.has(m.path)).map((m) => m.path);
  const data = { backend: p.backend, source: expected.source, files: [...wanted] };
  if (problems.length > 0) {
    return {
      id,
      title,
      verdict: 'fail',
      detail: `${p.backend}: ${problems.join('; ')}: ${p.backend === 'systemd' ? 'the unit' : p.backend} will not bring the shim back as applied`,
      fix: `${f.commands.apply} writes them again`,
      data,
    };
  }
  const warnings: string[] = [];
  if (leftovers.length) warnings.push(`files of ours that ${p.backend} does not use are left: ${leftovers.join(', ')}`);
  if (expected.source === 'record') {
    const again = renderedAgain(n, p);
    const stale = again?.filter((r) => p.files.find((x) => x.path === r.path)?.content !== r.content).map((r) => r.path);
    if (again && (stale!.length > 0 || again.length !== p.files.length)) warnings.push(`this macvlanctl would write them differently (${stale!.join(', ') || 'other files'}): written by another version`);
  }
  if (warnings.length) return { id, title, verdict: 'warn', detail: `${p.backend}: ${fine.length} file(s) as applied, but ${warnings.join('; ')}`, fix: `${f.commands.apply} brings them up to date`, data };
  return { id, title, verdict: 'pass', detail: `${p.backend}: ${fine.join(', ')} as applied (${p.reason})`, data };
};

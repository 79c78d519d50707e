// Cgroups and mounts the lab's dockerd leaves behind: find them, list their processes, remove them.

import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './process.js';

/** mount points at or under `dir` in a mountinfo file (deepest first) */
export function mountsUnder(dir: string, mountinfo = '/proc/self/mountinfo'): string[] {
  let text = '';
  try {
    text = readFileSync(mountinfo, 'utf8');
  } catch {
    return [];
  }
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .map((l) => unescape(l.split(' ')[4] ?? ''))
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

/** cgroup directories of a cgroup parent, one per mounted hierarchy */
export function cgroupDirs(parent: string): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [pre, post] = line.split(' - ');
    const fstype = post?.split(' ')[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mnt = pre?.split(' ')[4];
    if (!mnt) continue;
    const d = join(mnt, parent);
    if (existsSync(d)) out.push(d);
  }
  return out;
}

/** every pid in these cgroups and their children */
export function cgroupPids(dirs: string[]): number[] {
  const pids = new Set<number>();
  const walk = (d: string) => {
    try {
      for (const p of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      /* removed meanwhile */
    }
  };
  dirs.forEach(walk);
  return [...pids];
}

/** rmdir, deepest first, retrying while the kernel still counts exiting tasks; returns what failed */
export async function removeCgroups(dirs: string[]): Promise<string[]> {
  const failed: string[] = [];
  const rm = async (d: string): Promise<void> => {
    let entries: string[] = [];
    try {
      entries = readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(d, e.name));
    } catch {
      return;
    }
    for (const e of entries) await rm(e);
    for (let i = 0; ; i++) {
      try {
        rmdirSync(d);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (i >= 40) {
          failed.push(`${d}: ${code}`);
          return;
        }
        await sleep(50);
      }
    }
  };
  for (const d of dirs) await rm(d);
  return failed;
}

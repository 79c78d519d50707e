// The lab's state file, ${os.tmpdir()}/macvlanctl-lab-${prefix}/lab.json: written before anything is
// created, so a crashed run leaves a map of what to remove (cleanupStaleLabs).

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LAB_DIR_PREFIX = 'macvlanctl-lab-';

export interface LabStateHost {
  name: string;
  netns: string;
  docker?: { pid?: number; socket?: string; logFile?: string; cgroupParent: string };
}

export interface LabState {
  version: 1;
  prefix: string;
  ownerPid: number;
  createdAt: string;
  dir: string;
  netns: string[];
  hosts: LabStateHost[];
}

export function labDirFor(prefix: string): string {
  return join(tmpdir(), `${LAB_DIR_PREFIX}${prefix}`);
}

/** the cgroup parent of a host's containers, so teardown can find, kill and remove them */
export function cgroupParentFor(netns: string): string {
  return `/macvlanctl-${netns}`;
}

export function writeState(state: LabState): void {
  const file = join(state.dir, 'lab.json');
  writeFileSync(file + '.tmp', JSON.stringify(state, null, 2) + '\n');
  renameSync(file + '.tmp', file); // atomic: readers never see half a file
}

export function readState(dir: string): LabState | undefined {
  try {
    const s = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as LabState;
    return s.version === 1 ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A write killed between creating its temporary file and the rename (SIGKILL)
 * leaves `.NAME.macvlanctl-PID.tmp`; the next write of NAME, or its removal,
 * deletes it when that process is gone, and never one of a live writer.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempOwner, writeFileAtomic } from '../../src/system/atomic-write.js';
import { removeState, writeStateText } from '../../src/system/state-store.js';

/** A pid that is certainly not running: a child that has exited and been reaped. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

describe('atomic writes leave nothing behind', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-atomic-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names its temporary file recognisably, with its pid', () => {
    expect(tempOwner('mynet.json', '.mynet.json.macvlanctl-1234.tmp')).toBe(1234);
    expect(tempOwner('mynet.json', '.mynet.json.1234.tmp')).toBe(1234); // older releases' name
    expect(tempOwner('mynet.json', '.mynet.json.swp')).toBeUndefined();
    expect(tempOwner('mynet.json', '.other.json.macvlanctl-1234.tmp')).toBeUndefined();
  });

  it('a later write removes the leftover of a dead writer, not of a live one', () => {
    const dead = `.f.conf.macvlanctl-${deadPid()}.tmp`;
    const live = `.f.conf.macvlanctl-${process.ppid}.tmp`;
    writeFileSync(join(dir, dead), 'half');
    writeFileSync(join(dir, live), 'in progress');
    writeFileAtomic(join(dir, 'f.conf'), 'whole\n', 0o644);
    expect(readFileSync(join(dir, 'f.conf'), 'utf8')).toBe('whole\n');
    expect(readdirSync(dir).sort()).toEqual([live, 'f.conf'].sort());
  });

  it('removing a record removes a dead writer’s leftover of it', () => {
    writeStateText(dir, 'mynet', '{}\n');
    const stateDir = join(dir, 'var', 'lib', 'macvlanctl');
    writeFileSync(join(stateDir, `.mynet.json.macvlanctl-${deadPid()}.tmp`), '{"half');
    removeState(dir, 'mynet');
    expect(readdirSync(stateDir)).toEqual([]);
  });
});

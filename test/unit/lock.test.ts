/** The apply lock leaves under --root exactly what was there before it. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/system/lock.js';

describe('apply lock', () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('under a root without run/, release removes run/macvlanctl and run/ again', async () => {
    root = mkdtempSync(join(tmpdir(), 'mvl-lock-'));
    const lock = await acquireLock(root, 'apply test', 0);
    expect(existsSync(join(root, 'run', 'macvlanctl', 'apply.lock'))).toBe(true);
    lock.release();
    expect(readdirSync(root)).toEqual([]);
  });

  it('a run/ that was there stays', async () => {
    root = mkdtempSync(join(tmpdir(), 'mvl-lock-'));
    mkdirSync(join(root, 'run'));
    const lock = await acquireLock(root, 'apply test', 0);
    lock.release();
    expect(readdirSync(root)).toEqual(['run']);
    expect(readdirSync(join(root, 'run'))).toEqual([]);
  });
});

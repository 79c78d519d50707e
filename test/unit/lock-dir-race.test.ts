/**
 * The root lock against its directory removed under it: another macvlanctl
 * releasing its lock removes run/macvlanctl, and run/ when it made it, between
 * this run seeing run/ and making run/macvlanctl in it. That is a race to go
 * round again (as makeDirs does), not "cannot create the lock directory".
 */
import * as fs from 'node:fs';
import { mkdtempSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { LOCK_DIR_ENV, lockHost, rootLockPath } from '../../src/system/lock.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, mkdirSync: vi.fn(real.mkdirSync) };
});

let work: string;
let root: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'mvl-lock-dir-race-'));
  root = join(work, 'root');
  fs.mkdirSync(join(root, 'run'), { recursive: true });
  process.env[LOCK_DIR_ENV] = join(work, 'host-locks');
});
afterEach(() => {
  delete process.env[LOCK_DIR_ENV];
  vi.mocked(fs.mkdirSync).mockReset();
  rmSync(work, { recursive: true, force: true });
});

it('run/ removed by another release between the look and the mkdir: the lock is still taken', async () => {
  const real = await vi.importActual<typeof import('node:fs')>('node:fs');
  vi.mocked(fs.mkdirSync).mockImplementation(real.mkdirSync);
  vi.mocked(fs.mkdirSync).mockImplementationOnce((path, options) => {
    rmdirSync(join(root, 'run')); // the other run's release, just now
    return real.mkdirSync(path, options);
  });
  const lock = await lockHost('apply test', { root, waitMs: 0 });
  try {
    expect(fs.existsSync(rootLockPath(root))).toBe(true);
  } finally {
    lock.release();
  }
});

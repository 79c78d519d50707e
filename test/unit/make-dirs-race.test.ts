/**
 * makeDirs against a directory removed under it: another macvlanctl that
 * releases the lock removes run/macvlanctl and (under a --root that had no
 * run/) run/ itself, between this process seeing run/ and making
 * run/macvlanctl in it. mkdir then says ENOENT; that is a race to go round
 * again, not a final refusal (which it is on procfs, where the parent is there).
 */
import * as fs from 'node:fs';
import { mkdtempSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { makeDirs } from '../../src/system/make-dirs.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, mkdirSync: vi.fn(real.mkdirSync) };
});

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mvl-mkdirs-race-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

it('a parent removed between the look and the mkdir is made again, and the directory with it', async () => {
  const real = await vi.importActual<typeof import('node:fs')>('node:fs');
  real.mkdirSync(join(root, 'run'));
  const lockDir = join(root, 'run', 'macvlanctl');
  vi.mocked(fs.mkdirSync).mockImplementationOnce((path, options) => {
    rmdirSync(join(root, 'run')); // the other process's release, just now
    return real.mkdirSync(path, options);
  });
  expect(() => makeDirs(lockDir)).not.toThrow();
  expect(statSync(lockDir).isDirectory()).toBe(true);
});

it('a parent that is there while mkdir says ENOENT (procfs) is final at once', () => {
  vi.mocked(fs.mkdirSync).mockClear();
  vi.mocked(fs.mkdirSync).mockImplementation(() => {
    throw Object.assign(new Error('ENOENT: no such file or directory, mkdir'), { code: 'ENOENT' });
  });
  try {
    expect(() => makeDirs(join(root, 'run', 'macvlanctl'))).toThrow(/ENOENT/);
    expect(vi.mocked(fs.mkdirSync)).toHaveBeenCalledTimes(1);
  } finally {
    vi.mocked(fs.mkdirSync).mockReset();
  }
});

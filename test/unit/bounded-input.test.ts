/**
 * Bounded input and bounded work: -f reads only a regular file of at most
 * 1 MiB, and a --root where nothing can be created is an error at once, never
 * a loop. Everything that could hang on a regression runs under a timeout, so
 * that a regression fails the test instead of hanging the suite.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG_FILE_MAX_BYTES, readConfigFile } from '../../src/config/load-file.js';
import { makeDirs } from '../../src/system/make-dirs.js';
import { checkWritableRoot } from '../../src/system/root-dir.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvl-bounded-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** How long a promise took, or a rejection after `ms` (a blocked read must fail the test, not hang it). */
async function within<T>(ms: number, p: Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms);
  });
  try {
    return { value: await Promise.race([p, timeout]), ms: Date.now() - t0 };
  } catch (error) {
    return { error, ms: Date.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}


/**
 * Bundles a small probe (TypeScript from src/, imported relative to the repository) into dir/probe.mjs,
 * to run in a child process: under a mount namespace, another user, or a timeout no timer could enforce.
 */
async function bundleProbe(contents: string): Promise<string> {
  const script = join(dir, 'probe.mjs');
  await build({
    stdin: { contents, resolveDir: join(import.meta.dirname, '..', '..'), loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: script,
    logLevel: 'silent',
  });
  return script;
}

describe('-f reads a regular file of at most 1 MiB', () => {
  it('a FIFO is refused at once, not read (which would block until a writer comes)', async () => {
    const fifo = join(dir, 'macvlanctl.yaml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    try {
      const r = await within(2000, readConfigFile(fifo));
      expect(r.error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/it is a FIFO \(named pipe\), not a regular file/) });
      expect((r.error as { exitCode: number }).exitCode).toBe(2);
    } finally {
      // On a regression a reader is blocked in open(): a writer coming and going releases it.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader: nothing blocked
      }
    }
  });

  for (const device of ['/dev/zero', '/dev/urandom']) {
    it(`${device} is refused at once as a character device`, async () => {
      const r = await within(2000, readConfigFile(device));
      expect(r.error).toMatchObject({ code: 'CONFIG_INVALID', message: `cannot read ${device}: it is a character device, not a regular file; give the path of a macvlanctl.yaml or Compose file` });
      expect(r.ms).toBeLessThan(1000);
    });
  }

  it('a directory is refused with what to give instead', async () => {
    await expect(readConfigFile(dir)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/it is a directory, not a regular file; give the path of a macvlanctl.yaml/) });
  });

  it('a regular file over 1 MiB is refused, and only 1 MiB of it is read', async () => {
    const big = join(dir, 'huge.yaml');
    writeFileSync(big, '');
    truncateSync(big, 512 * 1024 * 1024); // sparse: 512 MiB that cost nothing to make, much to read
    const r = await within(2000, readConfigFile(big));
    expect(r.error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/it is larger than 1 MiB/), details: { maxBytes: CONFIG_FILE_MAX_BYTES } });
    expect(r.ms).toBeLessThan(1000);
  });

  it('a file of exactly 1 MiB is read (the cap is not one byte short)', async () => {
    const f = join(dir, 'padded.yaml');
    const head = 'networks:\n  lan:\n    parent: eth0\n';
    writeFileSync(f, head + '#'.repeat(CONFIG_FILE_MAX_BYTES - head.length - 1) + '\n');
    const networks = await readConfigFile(f);
    expect(networks.map((n) => n.name)).toEqual(['lan']);
  });

  it('a file whose size the kernel does not tell (/proc) is still read by what it holds', async () => {
    // /proc/self/status is a regular file with st_size 0 and a few hundred bytes of "Key:\tvalue" lines.
    await expect(readConfigFile('/proc/self/status')).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^\/proc\/self\/status: \d+ problems:\n/) });
  });
});

describe('--root where something must be written', () => {
  it('/proc/self is refused (exit 2): procfs takes no new files', () => {
    expect(() => checkWritableRoot('/proc/self')).toThrow(expect.objectContaining({ code: 'USAGE', exitCode: 2, message: expect.stringMatching(/^--root \/proc\/self: it is on procfs/) }));
  });

  it('a missing directory, a file, /sys are refused; a temporary directory is fine', () => {
    expect(() => checkWritableRoot(join(dir, 'nope'))).toThrow(/no such directory/);
    writeFileSync(join(dir, 'f'), '');
    expect(() => checkWritableRoot(join(dir, 'f'))).toThrow(/not a directory/);
    expect(() => checkWritableRoot('/sys')).toThrow(/it is on sysfs/);
    expect(() => checkWritableRoot(dir)).not.toThrow();
  });

  it.skipIf(process.getuid?.() !== 0)('a read-only / whose run/ and var/lib/ are writable (Fedora CoreOS, Silverblue: ostree) is accepted; a read-only run/ is not', async () => {
    // A private mount namespace (unshare -m): a read-only bind of a temporary
    // directory as the root, with tmpfs on run/ and var/lib/ as on those hosts.
    const script = await bundleProbe(`
          import { checkWritableRoot } from './src/system/root-dir.ts';
          const out = {};
          for (const root of process.argv.slice(2)) {
            try { checkWritableRoot(root); out[root] = 'ok'; } catch (e) { out[root] = e.message; }
          }
          console.log(JSON.stringify(out));`);
    const ostree = join(dir, 'ostree');
    const frozen = join(dir, 'frozen');
    for (const d of [ostree, frozen]) mkdirSync(join(d, 'run'), { recursive: true }), mkdirSync(join(d, 'var', 'lib'), { recursive: true });
    const mounts = [
      `mount --bind ${ostree} ${ostree}`,
      `mount -o remount,bind,ro ${ostree}`,
      `mount -t tmpfs mvl ${ostree}/run`,
      `mount -t tmpfs mvl ${ostree}/var/lib`,
      `mount --bind ${frozen} ${frozen}`,
      `mount -o remount,bind,ro ${frozen}`,
      `exec ${process.execPath} ${script} ${ostree} ${frozen}`,
    ].join(' && ');
    const r = spawnSync('unshare', ['-m', 'sh', '-c', mounts], { encoding: 'utf8', timeout: 8000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, string>;
    expect(out[ostree]).toBe('ok');
    expect(out[frozen]).toMatch(new RegExp(`^--root ${frozen}: ${frozen}/run is on a read-only filesystem`));
  });

  it.skipIf(process.getuid?.() !== 0)('apply and destroy without root say they need root (sudo), not that / is not writable', async () => {
    const script = await bundleProbe(`
          import { runApply } from './src/cli/commands/apply.ts';
          import { runDestroy } from './src/cli/commands/destroy.ts';
          const out = {};
          const attempt = async (key, f) => { try { await f(); out[key] = 'ok'; } catch (e) { out[key] = e.message; } };
          await attempt('apply', () => runApply('mynet', { root: '/', parent: 'eno1', ipRange: ['198.51.100.192/27'], persist: 'none', scan: false, yes: true }));
          await attempt('destroy', () => runDestroy('mynet', { root: '/', yes: true }));
          console.log(JSON.stringify(out));`);
    chmodSync(dir, 0o755);
    // nobody: no CAP_NET_ADMIN, and / and /run are not writable for it.
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, script], { encoding: 'utf8', timeout: 8000, cwd: '/' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, string>;
    expect(out.apply).toMatch(/^apply needs the CAP_NET_ADMIN capability/);
    expect(out.destroy).toMatch(/^destroy needs the CAP_NET_ADMIN capability/);
  });

  it('makeDirs creates what is missing, top down, and says what it made', () => {
    expect(makeDirs(join(dir, 'a', 'b', 'c'))).toEqual([join(dir, 'a'), join(dir, 'a', 'b'), join(dir, 'a', 'b', 'c')]);
    expect(makeDirs(join(dir, 'a', 'b'))).toEqual([]);
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['c']);
  });

  it('under /proc/self, making directories, taking the lock and writing a file fail at once (no spinning mkdir)', async () => {
    // Node's recursive mkdirSync spins forever there, inside one native call that
    // no timer can interrupt: the code runs in a child process with a timeout.
    const script = await bundleProbe(`
          import { makeDirs } from './src/system/make-dirs.ts';
          import { lockHost } from './src/system/lock.ts';
          import { writeFileAtomic } from './src/system/atomic-write.ts';
          const out = {};
          const attempt = async (key, f) => { try { await f(); out[key] = 'ok'; } catch (e) { out[key] = e.code ?? e.message; } };
          await attempt('makeDirs', () => makeDirs('/proc/self/run/macvlanctl'));
          await attempt('lock', () => lockHost('apply test', { root: '/proc/self', waitMs: 3000 }));
          await attempt('write', () => writeFileAtomic('/proc/self/var/lib/macvlanctl/x.json', '{}', 0o644));
          console.log(JSON.stringify(out));`);
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 8000 });
    expect(r.error, 'the child did not finish in 8 s').toBeUndefined();
    expect(JSON.parse(r.stdout)).toEqual({ makeDirs: 'ENOENT', lock: 'SYSTEM_ERROR', write: 'ENOENT' });
    // The lock failed at once, not after waiting 3 s for a holder that does not exist.
    expect(Date.now() - t0).toBeLessThan(2500);
  });
});

/**
 * Drift that status, doctor and apply must see, against a real kernel and
 * dockerd in lab namespaces: the parent down, arp_notify off, the parent's
 * MTU raised, the shim switched to private mode, and the parent replaced by
 * one with another MAC (the shim must come back with the MAC it had). Also
 * bounded input at the CLI: a --root under /proc and a FIFO for -f are exit 2
 * at once.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, type LabHost, LAB_IMAGE, createLab } from './lab.js';
import { macvlanctl } from './support/cli.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('drift e2e: SKIPPED — needs root to build network namespaces and run dockerd');

const RECIPE = ['mynet', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--aux-address', 'host=198.51.100.223', '--persist', 'none'];

interface Link {
  address: string;
  mtu: number;
  flags: string[];
  linkinfo?: { info_data?: { mode?: string } };
}

async function link(h: LabHost, name: string): Promise<Link> {
  return JSON.parse((await h.exec(['ip', '-json', '-details', 'link', 'show', name], { check: true })).stdout)[0] as Link;
}

async function arpNotify(h: LabHost): Promise<string> {
  return (await h.exec(['cat', '/proc/sys/net/ipv4/conf/mynet-shim/arp_notify'], { check: true })).stdout.trim();
}

/** ping from the host namespace (busybox: the machine may have no ping) */
async function hostPing(h: LabHost, address: string): Promise<boolean> {
  return (await h.exec(['busybox', 'ping', '-c', '1', '-W', '1', address])).code === 0;
}

async function eventually(check: () => Promise<boolean>, attempts = 3): Promise<boolean> {
  for (let i = 0; i < attempts; i++) if (await check()) return true;
  return false;
}

describe.skipIf(!root)('drift in the lab', () => {
  let lab: Lab;
  let dir: string;
  let h: LabHost;
  let shimMac: string;
  const status = () => macvlanctl(h, ['status', 'mynet', '--json', '--no-reach'], { root: dir });
  const doctorShim = async () => {
    const r = await macvlanctl(h, ['doctor', 'mynet', '--json', '--no-scan'], { root: dir });
    const checks = r.json!.result.networks[0].checks as { id: string; verdict: string; detail: string }[];
    return { code: r.code, shim: checks.find((c) => c.id === 'shim')!, parent: checks.find((c) => c.id === 'parent')! };
  };
  const apply = () => macvlanctl(h, ['apply', ...RECIPE, '--yes', '--json'], { root: dir });
  const pendingKinds = async () => {
    const p = await macvlanctl(h, ['plan', ...RECIPE, '--json'], { root: dir });
    return (p.json!.result.changes as { kind: string; action: string }[]).filter((c) => c.action !== 'noop').map((c) => c.kind);
  };

  beforeAll(async () => {
    lab = await createLab({ prefix: `drf${randomBytes(3).toString('hex')}`, docker: true, ipv6: false, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
    h = lab.host('h1');
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-drift-'));
    const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes', '--json'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    shimMac = r.json!.result.plan.networks[0].shim.mac;
    const run = await h.dockerCli(['run', '-d', '--network', 'mynet', '--ip', '198.51.100.200', '--name', 'web', LAB_IMAGE, 'sleep', '3600']);
    expect(run.code, run.stderr).toBe(0);
  }, 180_000);
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts healthy: status exit 0, arp_notify on, the shim at its parent’s MTU', async () => {
    const s = await status();
    expect(s.code, s.stdout).toBe(0);
    expect(await arpNotify(h)).toBe('1');
    expect((await link(h, 'mynet-shim')).mtu).toBe((await link(h, 'eno1')).mtu);
    expect(await eventually(() => hostPing(h, '198.51.100.200'))).toBe(true);
  });

  it('the parent administratively down: status is unhealthy (exit 1) and says so, though the shim’s own flag is up', async () => {
    await h.exec(['ip', 'link', 'set', 'eno1', 'down'], { check: true });
    try {
      expect((await link(h, 'mynet-shim')).flags).toContain('UP');
      const s = await status();
      expect(s.code).toBe(1);
      expect(s.json!.result.networks[0].problems).toContain('parent eno1 is administratively down; containers will have no network until it is up');
      const d = await doctorShim();
      expect(d.code).toBe(1);
      expect(d.parent.verdict).toBe('fail');
    } finally {
      await h.exec(['ip', 'link', 'set', 'eno1', 'up'], { check: true });
      // The kernel dropped the default route with the link; a network manager would put it back.
      await h.exec(['ip', 'route', 'replace', 'default', 'via', '198.51.100.1', 'dev', 'eno1'], { check: true });
    }
    expect((await status()).code).toBe(0);
  });

  it('arp_notify=0 on the shim: status and doctor see it, apply turns it on again, then nothing is pending', async () => {
    await h.exec(['sysctl', '-q', '-w', 'net.ipv4.conf.mynet-shim.arp_notify=0'], { check: true });
    const s = await status();
    expect(s.code).toBe(1);
    expect(s.json!.result.networks[0].problems).toEqual(['shim mynet-shim has arp_notify off: it is not announced by gratuitous ARP when it comes up']);
    const d = await doctorShim();
    expect(d.shim).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/mynet-shim has arp_notify off/) });
    expect(await pendingKinds()).toEqual(['shim-arp-notify']);
    const r = await apply();
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.result.remaining).toBe(0);
    expect(await arpNotify(h)).toBe('1');
    expect(await pendingKinds()).toEqual([]);
    expect((await status()).code).toBe(0);
  });

  it('the parent’s MTU raised to 9000: the shim left at 1500 is seen, and apply sets it to 9000', async () => {
    await h.exec(['ip', 'link', 'set', 'eno1', 'mtu', '9000'], { check: true });
    try {
      expect((await link(h, 'mynet-shim')).mtu).toBe(1500);
      const s = await status();
      expect(s.code).toBe(1);
      expect(s.json!.result.networks[0].problems).toEqual(["shim mynet-shim has MTU 1500, its parent eno1's is 9000"]);
      expect((await doctorShim()).shim.verdict).toBe('fail');
      expect(await pendingKinds()).toEqual(['shim-mtu']);
      const r = await apply();
      expect(r.code, r.stderr).toBe(0);
      expect(r.json!.result.applied).toEqual(["set the MTU of mynet-shim to 9000, its parent's", 'record mynet as applied']);
      expect((await link(h, 'mynet-shim')).mtu).toBe(9000);
      expect((await link(h, 'mynet-shim')).address).toBe(shimMac);
      expect((await status()).code).toBe(0);
    } finally {
      // The kernel lowers the shim with its parent.
      await h.exec(['ip', 'link', 'set', 'eno1', 'mtu', '1500'], { check: true });
    }
    expect((await link(h, 'mynet-shim')).mtu).toBe(1500);
    expect((await status()).code).toBe(0);
  });

  it('the shim switched to private mode: the host loses its container; status and doctor name the mode; up re-creates it in bridge mode with the same MAC', async () => {
    await h.exec(['ip', 'link', 'set', 'mynet-shim', 'type', 'macvlan', 'mode', 'private'], { check: true });
    expect((await link(h, 'mynet-shim')).linkinfo?.info_data?.mode).toBe('private');
    expect(await hostPing(h, '198.51.100.200')).toBe(false);
    const s = await status();
    expect(s.code).toBe(1);
    expect(s.json!.result.networks[0].problems).toEqual(['shim mynet-shim is in macvlan mode private, expected bridge']);
    expect((await doctorShim()).shim).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/mynet-shim must be re-created \(mode private ≠ bridge\)/) });
    const up = await macvlanctl(h, ['up', 'mynet', '--json'], { root: dir });
    expect(up.code, up.stderr).toBe(0);
    const l = await link(h, 'mynet-shim');
    expect(l.linkinfo?.info_data?.mode).toBe('bridge');
    expect(l.address).toBe(shimMac);
    expect(await eventually(() => hostPing(h, '198.51.100.200'))).toBe(true);
    expect((await status()).code).toBe(0);
    expect(await pendingKinds()).toEqual([]);
  });

  it('the parent deleted and made again with another MAC: apply brings the shim back with the MAC it had, as the record and the Docker label say', async () => {
    await h.dockerCli(['rm', '-f', 'web']);
    const oldParentMac = (await link(h, 'eno1')).address;
    const newParentMac = '02:00:c6:33:64:99';
    expect(oldParentMac).not.toBe(newParentMac);
    // As the lab made it (src/lab/netns.ts plugHost), with another MAC: the shim goes with the old one.
    await h.exec(['ip', 'link', 'del', 'eno1'], { check: true });
    await h.exec(['ip', 'link', 'add', 'eno1', 'address', newParentMac, 'type', 'veth', 'peer', 'name', 'p-h1', 'netns', lab.lanNetns], { check: true });
    await lab.lanExec(['ip', 'link', 'set', 'p-h1', 'master', 'br0'], { check: true });
    await lab.lanExec(['ip', 'link', 'set', 'p-h1', 'up'], { check: true });
    await h.exec(['ip', 'addr', 'add', '198.51.100.24/24', 'dev', 'eno1'], { check: true });
    await h.exec(['ip', 'link', 'set', 'eno1', 'up'], { check: true });
    await h.exec(['ip', 'route', 'add', 'default', 'via', '198.51.100.1', 'dev', 'eno1'], { check: true });
    expect((await h.exec(['ip', 'link', 'show', 'mynet-shim'])).code).not.toBe(0);
    const s = await status();
    expect(s.code).toBe(1);
    expect(s.json!.result.networks[0].problems).toContain('shim mynet-shim is missing');

    const r = await apply();
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.result.plan.networks[0].shim.mac).toBe(shimMac);
    expect((await link(h, 'mynet-shim')).address).toBe(shimMac);
    const label = await h.dockerCli(['network', 'inspect', '-f', '{{index .Labels "io.macvlanctl.shim-mac"}}', 'mynet']);
    expect(label.stdout.trim()).toBe(shimMac);
    expect(JSON.parse(readFileSync(join(dir, 'var/lib/macvlanctl/mynet.json'), 'utf8')).network.shim.mac).toBe(shimMac);
    expect((await status()).code).toBe(0);
    const again = await apply();
    expect(again.json!.result.changed).toBe(false);
  });

  it('bounded input at the CLI: --root /proc/self and a FIFO for -f are exit 2 at once, nothing changed', async () => {
    const started = Date.now();
    const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes', '--json', '--root', '/proc/self'], { timeoutMs: 10_000 });
    expect(r.code).toBe(2);
    expect(r.json!.error).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/^--root \/proc\/self: it is on procfs/) });
    const fifo = join(dir, 'decl.yaml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const f = await macvlanctl(h, ['plan', '-f', fifo, '--json'], { root: dir, timeoutMs: 10_000 });
    expect(f.code).toBe(2);
    expect(f.json!.error!.message).toMatch(/it is a FIFO \(named pipe\), not a regular file/);
    expect(Date.now() - started).toBeLessThan(5000);
    rmSync(fifo);
  });
});

/**
 * A dual-stack network end to end: the shim gets a /128 (without DAD) and a
 * route for the IPv6 ip-range, and the host and a container reach each
 * other over IPv6 as well as IPv4. Persisted through ifupdown's stanza, the
 * IPv6 half comes back with `ifup` too.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, type LabHost, LAB_IMAGE, createLab } from './lab.js';
import { macvlanctl } from './support/cli.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('ipv6 e2e: SKIPPED — needs root to build network namespaces and run dockerd');

async function ping(h: LabHost, argv: string[], attempts = 3): Promise<boolean> {
  for (let i = 0; i < attempts; i++) if ((await h.exec(argv)).code === 0) return true;
  return false;
}

describe.skipIf(!isRoot)('dual-stack apply in the lab', () => {
  let lab: Lab;
  let dir: string;
  beforeAll(async () => {
    lab = await createLab({ docker: true, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-ipv6-'));
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('host and container reach each other over IPv6 through the shim; destroy removes the IPv6 route too', async () => {
    const h = lab.host('h1');
    const args = ['v6net', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--subnet', '2001:db8:1::/64', '--gateway', '2001:db8:1::1', '--ip-range', '2001:db8:1::c000/116', '--persist', 'none'];
    const r = await macvlanctl(h, ['apply', ...args, '--yes', '--json'], { root: dir });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const shim = r.json!.result.plan.networks[0].shim;
    expect(shim.address6).toBe('2001:db8:1::cfff');
    const addr = JSON.parse((await h.exec(['ip', '-json', '-6', 'addr', 'show', 'dev', 'v6net-shim'])).stdout)[0];
    const globals = addr.addr_info.filter((a: { scope: string }) => a.scope === 'global').map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`);
    expect(globals).toEqual(['2001:db8:1::cfff/128']);
    expect((await h.exec(['ip', '-6', 'route', 'show', 'dev', 'v6net-shim'])).stdout).toContain('2001:db8:1::c000/116');

    const run = await h.dockerCli(['run', '-d', '--network', 'v6net', '--name', 'v6web', LAB_IMAGE, 'sleep', '3600']);
    expect(run.code, run.stderr).toBe(0);
    const ip6 = (await h.dockerCli(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}}{{end}}', 'v6web'])).stdout.trim();
    expect(ip6).toMatch(/^2001:db8:1::c/);
    expect(await ping(h, ['busybox', 'ping', '-6', '-c', '1', '-W', '1', ip6])).toBe(true);
    const fromContainer = async (a: string) => (await h.dockerCli(['exec', 'v6web', 'ping', '-6', '-c', '1', '-W', '1', a])).code === 0;
    let reached = false;
    for (let i = 0; i < 3 && !reached; i++) reached = await fromContainer(shim.address6);
    expect(reached).toBe(true);

    // status shows the IPv6 part and notices when the IPv6 route is gone; up puts it back.
    const st = await macvlanctl(h, ['status', 'v6net', '--json', '--no-reach'], { root: dir });
    expect(st.code, st.stderr).toBe(0);
    const n = st.json!.result.networks[0];
    expect(n.ipv6).toEqual({ subnet: '2001:db8:1::/64', gateway: '2001:db8:1::1', ipRange: '2001:db8:1::c000/116' });
    expect(n.shim).toMatchObject({ address: '198.51.100.223', address6: '2001:db8:1::cfff' });
    expect(n.shim.routes).toEqual(expect.arrayContaining(['198.51.100.192/27', '2001:db8:1::c000/116']));
    expect((await h.exec(['ip', '-6', 'route', 'del', '2001:db8:1::c000/116', 'dev', 'v6net-shim'])).code).toBe(0);
    const broken = await macvlanctl(h, ['status', 'v6net', '--json', '--no-reach'], { root: dir });
    expect(broken.code).toBe(1);
    expect(broken.json!.result.networks[0].problems).toEqual(['route 2001:db8:1::c000/116 via v6net-shim is missing']);
    expect((await macvlanctl(h, ['up', 'v6net'], { root: dir })).code).toBe(0);
    expect((await macvlanctl(h, ['status', 'v6net', '--json', '--no-reach'], { root: dir })).code).toBe(0);

    expect((await h.dockerCli(['rm', '-f', 'v6web'])).code).toBe(0);
    const d = await macvlanctl(h, ['destroy', 'v6net', '--yes'], { root: dir });
    expect(d.code, d.stderr + d.stdout).toBe(0);
    expect((await h.exec(['ip', '-6', 'route', 'show'])).stdout).not.toContain('2001:db8:1::c000/116');
    expect(existsSync(join(dir, 'var/lib/macvlanctl/v6net.json'))).toBe(false);
  }, 120_000);
});

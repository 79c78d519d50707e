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
import { type Lab, type LabHost, LAB_IMAGE, createLab, hostFingerprint } from './lab.js';
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

  it('the auto IPv6 range on a /64 applies against dockerd 20.10, and a container reaches the host at its own IPv6 address (proxy NDP); status, doctor, destroy', async () => {
    const h = lab.host('h1');
    const before = await hostFingerprint(h);
    const args = ['v6auto', '--parent', 'eno1', '--ip-range', '198.51.100.160/27', '--subnet', '2001:db8:1::/64', '--persist', 'none'];
    const r = await macvlanctl(h, ['apply', ...args, '--yes', '--json'], { root: dir });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const n = r.json!.result.plan.networks[0];
    // Not the top /112, whose last address Docker's IPAM cannot hold (src/plan/docker-ipam6.ts).
    expect(n.ipv6).toMatchObject({ subnet: '2001:db8:1::/64', gateway: '2001:db8:1::1', ipRange: '2001:db8:1:0:ffff:ffff:fffe:0/112', ipRangeSource: 'auto' });
    expect(n.shim).toMatchObject({ address6: '2001:db8:1:0:ffff:ffff:fffe:ffff', proxy6: ['2001:db8:1::24'] });
    const sysctl = async (key: string) => (await h.exec(['cat', `/proc/sys/net/ipv6/conf/${key}`])).stdout.trim();
    expect([await sysctl('v6auto-shim/proxy_ndp'), await sysctl('v6auto-shim/forwarding')]).toEqual(['1', '1']);
    // Only the shim: the host forwards nothing, and eno1 keeps taking router advertisements.
    expect([await sysctl('all/forwarding'), await sysctl('eno1/forwarding'), await sysctl('eno1/accept_ra')]).toEqual(['0', '0', '1']);

    const run = await h.dockerCli(['run', '-d', '--network', 'v6auto', '--name', 'v6auto-web', LAB_IMAGE, 'sleep', '3600']);
    expect(run.code, run.stderr).toBe(0);
    const ip6 = (await h.dockerCli(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}}{{end}}', 'v6auto-web'])).stdout.trim();
    expect(ip6).toMatch(/^2001:db8:1:0:ffff:ffff:fffe:/);
    expect(await ping(h, ['busybox', 'ping', '-6', '-c', '1', '-W', '1', ip6])).toBe(true);
    const fromContainer = async (a: string) => {
      for (let i = 0; i < 3; i++) if ((await h.dockerCli(['exec', 'v6auto-web', 'ping', '-6', '-c', '1', '-W', '2', a])).code === 0) return true;
      return false;
    };
    expect(await fromContainer(n.shim.address6), 'container → shim').toBe(true);
    expect(await fromContainer('2001:db8:1::24'), "container → the host's own IPv6 address").toBe(true);
    expect(await fromContainer('2001:db8:1::1'), 'container → router').toBe(true);
    // The LAN still knows the host's address by eno1's MAC (a proxied answer carries no Override flag).
    await lab.lanExec(['ping', '-6', '-c', '1', '-W', '1', '2001:db8:1::24']);
    expect((await lab.lanExec(['ip', '-6', 'neigh', 'show', '2001:db8:1::24'])).stdout).toContain(`lladdr ${h.mac}`);

    // status and doctor try the same: host → container and container → the host's own address, over IPv6.
    const st = await macvlanctl(h, ['status', 'v6auto', '--json'], { root: dir });
    expect(st.code, st.stdout + st.stderr).toBe(0);
    const sn = st.json!.result.networks[0];
    expect(sn.hostAddress6).toBe('2001:db8:1::24');
    expect(sn.shim.proxy6).toEqual(['2001:db8:1::24']);
    expect(sn.containers[0]).toMatchObject({ address6: ip6, reachable: true, reachable6: true, reachesHost6: true });
    const doc = await macvlanctl(h, ['doctor', 'v6auto', '--json', '--no-scan'], { root: dir });
    const reach = doc.json!.result.networks[0].checks.find((c: { id: string }) => c.id === 'reach');
    expect(reach.verdict, reach.detail).toBe('pass');
    expect(reach.data.containers[0]).toMatchObject({ address6: ip6, fromShim6: true, fromHost6: true, hostAddress6: '2001:db8:1::24' });
    expect(reach.detail).toBe(`v6auto-web ${sn.containers[0].address} and ${ip6}: reached both ways`);

    // A lost proxy entry is drift: status names it, up repairs it.
    expect((await h.exec(['ip', '-6', 'neigh', 'del', 'proxy', '2001:db8:1::24', 'dev', 'v6auto-shim'])).code).toBe(0);
    const drift = await macvlanctl(h, ['status', 'v6auto', '--json', '--no-reach'], { root: dir });
    expect(drift.code).toBe(1);
    expect(drift.json!.result.networks[0].problems).toEqual(["shim v6auto-shim does not answer for the host's address 2001:db8:1::24 (proxy NDP)"]);
    expect((await macvlanctl(h, ['up', 'v6auto'], { root: dir })).code).toBe(0);
    expect((await macvlanctl(h, ['status', 'v6auto', '--json', '--no-reach'], { root: dir })).code).toBe(0);

    expect((await h.dockerCli(['rm', '-f', 'v6auto-web'])).code).toBe(0);
    const d = await macvlanctl(h, ['destroy', 'v6auto', '--yes'], { root: dir });
    expect(d.code, d.stderr + d.stdout).toBe(0);
    // IPv4 and IPv6 addresses, routes and links exactly as before; no proxy entry left behind.
    expect(await hostFingerprint(h)).toBe(before);
    expect((await h.exec(['ip', '-6', 'neigh', 'show', 'proxy'])).stdout.trim()).toBe('');
    expect([await sysctl('all/forwarding'), await sysctl('eno1/forwarding')]).toEqual(['0', '0']);
  }, 180_000);

  it('an explicit IPv6 range Docker cannot hold is refused before anything is touched (exit 2, the reason named)', async () => {
    const h = lab.host('h1');
    const before = await hostFingerprint(h);
    const args = ['v6bad', '--parent', 'eno1', '--ip-range', '198.51.100.160/27', '--subnet', '2001:db8:1::/64', '--ip-range', '2001:db8:1::ffff:ffff:ffff:0/112', '--persist', 'none'];
    const r = await macvlanctl(h, ['apply', ...args, '--yes', '--json'], { root: dir });
    expect(r.code).toBe(2);
    expect(r.json!.error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(r.json!.error!.message).toMatch(/holds an address Docker cannot use: 2001:db8:1:0:ffff:ffff:ffff:ffff is the last address of the \/64 2001:db8:1::\/64, which Docker's IPAM cannot hold/);
    expect((await h.dockerCli(['network', 'ls', '--format', '{{.Name}}'])).stdout).not.toContain('v6bad');
    expect(await hostFingerprint(h)).toBe(before);
  }, 60_000);
});

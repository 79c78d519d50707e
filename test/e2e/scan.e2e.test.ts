/**
 * `macvlanctl scan` against real parts: a real dnsmasq with a known pool on
 * the lab bridge, live hosts scattered over the subnet (some inside the pool),
 * each on its own macvlan with its own MAC. The scan must find exactly them,
 * see the DHCP server and its offers without taking a lease, leave the host's
 * network and neighbour table as they were, and leave nothing behind — also
 * when it is killed half-way.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, macvlanctl } from './support/cli.js';
import { addLiveAddresses6, routeLiveHost6 } from '../../src/lab/lan-extras.js';
import { type Lab, createLab, hostFingerprint, liveHostMac, run } from './lab.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('scan e2e: SKIPPED — needs root to build network namespaces');

const POOL = { first: '198.51.100.100', last: '198.51.100.199' };
// Scattered: below, inside and above the pool, and the last address of the subnet.
const LIVE = ['198.51.100.7', '198.51.100.42', '198.51.100.120', '198.51.100.163', '198.51.100.201', '198.51.100.254'];
const last = (a: string) => Number(a.split('.')[3]);

// Every process this test starts carries this tag in its environment (the CLI and its worker inherit it),
// so that scans other tests run at the same time on this machine are not counted as ours.
const TAG = `MACVLANCTL_SCAN_E2E=${process.pid}-${Date.now()}`;
process.env.MACVLANCTL_SCAN_E2E = TAG.split('=')[1];

/** Our processes running the scan worker (its namespace and macvlan live exactly as long as it does). */
function scanWorkers(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('scan-worker.cjs')) continue;
      if (readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(TAG)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * The host's fingerprint once the kernel has finished removing earlier scan
 * namespaces: that happens asynchronously after the worker exits (a netns is
 * torn down from a kernel work queue), and until then the parent still counts
 * the probe macvlan in its promiscuity.
 */
async function settledFingerprint(h: Parameters<typeof hostFingerprint>[0], expected?: string): Promise<string> {
  const deadline = Date.now() + 5_000;
  let fp = await hostFingerprint(h);
  const settled = (x: string) => (expected === undefined ? !/"promiscuity": [1-9]/.test(x) : x === expected);
  while (!settled(fp) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    fp = await hostFingerprint(h);
  }
  return fp;
}

async function neighbours(netns: string): Promise<{ dst: string; lladdr?: string; state?: string[] }[]> {
  const r = await run('ip', ['-n', netns, '-json', 'neigh', 'show']);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

describe.skipIf(!root)('scan on a lab LAN with dnsmasq and live hosts', () => {
  let lab: Lab;
  let dir: string;
  let routerMac: string;
  const known = new Set<string>();
  beforeAll(async () => {
    lab = await createLab({ hosts: [{ name: 'h1', address: '198.51.100.24' }], dhcp: POOL, liveHosts: LIVE, ipv6: false });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-scan-'));
    routerMac = (JSON.parse((await lab.lanExec(['ip', '-json', 'link', 'show', 'br0'])).stdout) as { address: string }[])[0]!.address;
    for (const m of [routerMac, lab.host('h1').mac, ...LIVE.map(liveHostMac)]) known.add(m);
  });
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds exactly the live hosts and the DHCP server, offers inside the pool, takes no lease, changes nothing', async () => {
    const h = lab.host('h1');
    const before = await settledFingerprint(h);
    const neighBefore = await neighbours(h.netns);
    const r = await macvlanctl(h, ['scan', '--parent', 'eno1', '--json'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    const result = r.json!.result;
    expect(result).toMatchObject({ parent: 'eno1', subnet: '198.51.100.0/24' });
    // The exact live set: the router and each live host with its own MAC; no misses, nothing else (h1 itself
    // cannot be reached through a macvlan of its own parent, and is this host anyway).
    expect(result.live).toEqual([{ address: '198.51.100.1', mac: routerMac }, ...LIVE.map((address) => ({ address, mac: liveHostMac(address) }))]);
    expect(result.dhcp.servers).toEqual([{ address: '198.51.100.1', mac: routerMac }]);
    expect(result.dhcp.offers.length).toBeGreaterThanOrEqual(1);
    for (const o of result.dhcp.offers) {
      expect(last(o.address)).toBeGreaterThanOrEqual(last(POOL.first));
      expect(last(o.address)).toBeLessThanOrEqual(last(POOL.last));
      expect(o).toMatchObject({ server: '198.51.100.1', leaseSeconds: 12 * 3600, subnetMask: '255.255.255.0', routers: ['198.51.100.1'], dns: ['198.51.100.1'] });
      expect(o.clientMac).toMatch(/^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/); // random, locally administered
    }
    expect(result.dhcp.pool).toBeDefined();
    expect(typeof result.suggestedIpRange).toBe('string');
    // A fresh dnsmasq ping-checks each address first (3 s): usually one offer, and then the hint to wait longer.
    const fewOffers = result.dhcp.offers.length < 3 && result.dhcp.pool.confidence === 'low';
    expect(result.warnings).toEqual(fewOffers ? [expect.stringMatching(/^only [12] DHCP offer\(s\) within 3\.5 s, .*--dhcp-wait 20/)] : []);
    // dnsmasq ping-checks before its first offer (3 s); the scan waits 3.5 s and no more.
    expect(result.durationMs).toBeLessThan(5_000);

    // No lease taken: DISCOVER only, never REQUEST.
    expect(lab.dhcp!.leases()).toBe('');
    // The host as it was: links, addresses, routes, rules, and its neighbour table.
    expect(await settledFingerprint(h, before)).toBe(before);
    expect(await neighbours(h.netns)).toEqual(neighBefore);
    // Nobody learnt a MAC from the scan: its ARP requests carry sender 0.0.0.0, so the router's and the
    // live hosts' tables hold only the lab's own MACs (dnsmasq's ping-checks add entries of its own).
    for (const ns of [lab.lanNetns, lab.liveNetns!]) {
      for (const n of await neighbours(ns)) if (n.lladdr) expect(known.has(n.lladdr), `${ns}: ${n.dst} ${n.lladdr}`).toBe(true);
    }
    // Nothing left behind: the worker (and with it its namespace and macvlan) is gone.
    expect(scanWorkers()).toEqual([]);
    // The scan is kept for plan and apply.
    const cached = JSON.parse(readFileSync(join(dir, 'var', 'lib', 'macvlanctl', 'scan', 'eno1.json'), 'utf8'));
    expect(cached.scan.live).toEqual(result.live);
  });

  it('--no-dhcp: the same live set, fast; --no-live right after: the server answers again (the first scan left it no backlog)', async () => {
    const h = lab.host('h1');
    const t0 = Date.now();
    const a = await macvlanctl(h, ['scan', '--no-dhcp', '--json'], { root: dir });
    const took = Date.now() - t0;
    expect(a.code, a.stderr).toBe(0);
    expect(a.json!.result.live.map((x: { address: string }) => x.address)).toEqual(['198.51.100.1', ...LIVE]);
    expect(a.json!.result.dhcp).toBeUndefined();
    expect(took).toBeLessThan(2_000); // ~0.4 s here; generous for a loaded CI machine
    const b = await macvlanctl(h, ['scan', '--no-live', '--dhcp-wait', '3.5', '--json'], { root: dir });
    expect(b.code, b.stderr).toBe(0);
    expect(b.json!.result.live).toBeUndefined();
    expect(b.json!.result.dhcp.servers.map((s: { address: string }) => s.address)).toEqual(['198.51.100.1']);
  });

  it('a host that appears is found by the next scan, and one that goes is not', async () => {
    const h = lab.host('h1');
    await lab.addLiveHost('198.51.100.77');
    const a = await macvlanctl(h, ['scan', '--no-dhcp', '--json'], { root: dir });
    expect(a.json!.result.live).toContainEqual({ address: '198.51.100.77', mac: liveHostMac('198.51.100.77') });
    await lab.removeLiveHost('198.51.100.77');
    const b = await macvlanctl(h, ['scan', '--no-dhcp', '--json'], { root: dir });
    expect(b.json!.result.live.map((x: { address: string }) => x.address)).not.toContain('198.51.100.77');
  });

  it('two scans at once do not get in each other’s way', async () => {
    const h = lab.host('h1');
    const [a, b] = await Promise.all([
      macvlanctl(h, ['scan', '--no-dhcp', '--json'], { root: dir }),
      macvlanctl(h, ['scan', '--no-dhcp', '--rate', '1000', '--json'], { root: dir }),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(b.json!.result.live).toEqual(a.json!.result.live);
  });

  it('the human output names hosts, server, offers and draws the map', async () => {
    const r = await macvlanctl(lab.host('h1'), ['scan', '--dhcp-wait', '3.5'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Live hosts \(7, answered ARP\)/);
    expect(r.stdout).toMatch(/198\.51\.100\.1 .* gateway, DHCP server/);
    expect(r.stdout).toMatch(/offered {2}198\.51\.100\.1\d\d/);
    expect(r.stdout).toMatch(/lease 12h/);
    expect(r.stdout).toMatch(/1 cell = 1 address/);
    expect(r.stdout).toMatch(/Suggested ip-range 198\.51\.100\.\d+\/\d+/);
    expect(r.stderr).not.toMatch(/sweeping/); // no progress bar without a terminal
  });

  it('killed half-way, it leaves nothing behind', async () => {
    const h = lab.host('h1');
    const before = await settledFingerprint(h);
    const child = spawn('nsenter', [`--net=${h.netnsPath}`, '--', process.execPath, BIN, 'scan', '--json', '--root', dir], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1_000)); // inside the DHCP wait: the worker and its macvlan exist
    expect(scanWorkers().length).toBe(1);
    child.kill('SIGKILL');
    const deadline = Date.now() + 3_000;
    while (scanWorkers().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(scanWorkers()).toEqual([]);
    expect(await settledFingerprint(h, before)).toBe(before);
    expect(lab.dhcp!.leases()).toBe('');
  });

  const bad: [string, string[], string][] = [
    ['an unknown parent', ['--parent', 'nope0'], 'PARENT_NOT_FOUND'],
    ['a subnet not on the parent', ['--parent', 'eno1', '--subnet', '203.0.113.0/24'], 'USAGE'],
    ['a bad --rate', ['--rate', 'fast'], 'USAGE'],
    ['a zero --rate', ['--rate', '0'], 'USAGE'],
    ['a subnet larger than a /16', ['--subnet', '198.0.0.0/8'], 'USAGE'],
    ['--no-live with --no-dhcp', ['--no-live', '--no-dhcp'], 'USAGE'],
  ];
  for (const [what, args, code] of bad) {
    it(`${what}: exit 2, ${code}, nothing changed`, async () => {
      const h = lab.host('h1');
      const before = await settledFingerprint(h);
      const r = await macvlanctl(h, ['scan', ...args, '--json'], { root: dir });
      expect(r.code, r.stderr).toBe(2);
      expect(r.json!.ok).toBe(false);
      expect(r.json!.error!.code).toBe(code);
      expect(await settledFingerprint(h, before)).toBe(before);
      expect(scanWorkers()).toEqual([]);
    });
  }
});

describe.skipIf(!root)('scan with a DHCP server that answers at once (dnsmasq --no-ping)', () => {
  let lab: Lab;
  let dir: string;
  beforeAll(async () => {
    lab = await createLab({ hosts: [{ name: 'h1', address: '198.51.100.24' }], dhcp: { ...POOL, noPing: true }, ipv6: false });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-scan-'));
  });
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('six clients get six offers spread over the pool, and the pool estimate holds them', async () => {
    const r = await macvlanctl(lab.host('h1'), ['scan', '--no-live', '--dhcp-wait', '2', '--json'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    const { offers, pool } = r.json!.result.dhcp;
    expect(offers).toHaveLength(6);
    expect(new Set(offers.map((o: { clientMac: string }) => o.clientMac)).size).toBe(6);
    for (const o of offers) expect(last(o.address) >= 100 && last(o.address) <= 199).toBe(true);
    expect(last(pool.first)).toBeLessThanOrEqual(Math.min(...offers.map((o: { address: string }) => last(o.address))));
    expect(last(pool.last)).toBeGreaterThanOrEqual(Math.max(...offers.map((o: { address: string }) => last(o.address))));
    expect(lab.dhcp!.leases()).toBe('');
  });
});

/**
 * IPv6: the neighbours that answer an echo to ff02::1 from the probe's
 * temporary address. Live hosts on their own macvlans (own MACs) with
 * 2001:db8:1:: addresses: one plain, one with two addresses (it answers from
 * one only), one right where IPv6 auto would carve, one with IPv6 on but only
 * a link-local address and a route (answers from fe80::, reported apart),
 * and one IPv4-only host (link-local, no route: silent, as on a real LAN).
 */
describe.skipIf(!root)('scan and plan with IPv6 live hosts', () => {
  const V4 = ['198.51.100.7', '198.51.100.42', '198.51.100.120', '198.51.100.130', '198.51.100.200'];
  const TOP = '2001:db8:1:0:ffff:ffff:fffe:0/112'; // where IPv6 auto carves on an empty LAN (below the /64's last address, which Docker cannot hold)
  const SQUATTER = '2001:db8:1:0:ffff:ffff:fffe:10';
  let lab: Lab;
  let dir: string;
  let routerMac: string;
  beforeAll(async () => {
    lab = await createLab({ hosts: [{ name: 'h1', address: '198.51.100.24' }], liveHosts: V4, ipv6: true });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-scan6-'));
    routerMac = (JSON.parse((await lab.lanExec(['ip', '-json', 'link', 'show', 'br0'])).stdout) as { address: string }[])[0]!.address;
    const live = (a: string) => lab.liveHosts.find((h) => h.address === a)!;
    await addLiveAddresses6(lab.liveNetns!, live('198.51.100.7'), ['2001:db8:1::7']);
    await addLiveAddresses6(lab.liveNetns!, live('198.51.100.42'), ['2001:db8:1::42', '2001:db8:1::4242']);
    await addLiveAddresses6(lab.liveNetns!, live('198.51.100.130'), [SQUATTER]);
    await routeLiveHost6(lab.liveNetns!, live('198.51.100.120'), '2001:db8:1::/64');
  });
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const neigh6 = async (netns: string) => (await neighbours(netns)).filter((n) => n.dst.includes(':'));

  it('finds exactly the IPv6 live set (one address per host), the link-local responder apart, and changes nothing on the host', async () => {
    const h = lab.host('h1');
    const before = await settledFingerprint(h);
    const neighBefore = await neighbours(h.netns);
    const r = await macvlanctl(h, ['scan', '--parent', 'eno1', '--no-dhcp', '--json'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    const result = r.json!.result;
    expect(result.subnet6).toBe('2001:db8:1::/64');
    // .42 has two addresses and answers from one of them (source address selection picks it).
    const fortyTwo = result.live6.find((x: { mac: string }) => x.mac === liveHostMac('198.51.100.42'));
    expect(['2001:db8:1::42', '2001:db8:1::4242']).toContain(fortyTwo?.address);
    expect(result.live6).toEqual([
      { address: '2001:db8:1::1', mac: routerMac },
      { address: '2001:db8:1::7', mac: liveHostMac('198.51.100.7') },
      { address: fortyTwo.address, mac: liveHostMac('198.51.100.42') },
      { address: SQUATTER, mac: liveHostMac('198.51.100.130') },
    ]);
    // The host with IPv6 on but no address in the subnet answered from its link-local address: listed apart.
    expect(result.others6).toEqual([{ address: 'fe80::11:c6ff:fe33:6478', mac: liveHostMac('198.51.100.120') }]);
    // The IPv4 sweep is as before, and the IPv6 part did not slow it down (~0.35 s here).
    expect(result.live.map((x: { address: string }) => x.address)).toEqual(['198.51.100.1', ...V4]);
    expect(result.durationMs).toBeLessThan(1_500);
    expect(result.notes.join('\n')).toMatch(/answers the all-nodes echo from one address only/);

    // The host as it was: links, addresses, routes, rules, and its neighbour table.
    expect(await settledFingerprint(h, before)).toBe(before);
    expect(await neighbours(h.netns)).toEqual(neighBefore);
    // Neighbours learnt the probe's temporary address (to answer it) with the probe's own random MAC, never the host's.
    const labMacs = new Set([routerMac, h.mac, ...V4.map(liveHostMac)]);
    const labAddresses = new Set(['2001:db8:1::1', '2001:db8:1::24', ...result.live6.map((x: { address: string }) => x.address)]);
    const learnt: { dst: string; lladdr?: string }[] = [];
    for (const ns of [lab.lanNetns, lab.liveNetns!]) {
      for (const n of await neigh6(ns)) {
        if (n.lladdr === h.mac) expect(n.dst, `${ns}: ${n.dst} has the host's MAC`).toMatch(/^(2001:db8:1::24|fe80:)/);
        if (n.dst.startsWith('2001:db8:1:') && !labAddresses.has(n.dst)) learnt.push(n);
      }
    }
    expect(learnt.length).toBeGreaterThan(0);
    for (const n of learnt) expect(labMacs.has(n.lladdr ?? ''), `${n.dst} ${n.lladdr}`).toBe(false);
    expect(scanWorkers()).toEqual([]);

    const text = await macvlanctl(h, ['scan', '--parent', 'eno1', '--no-dhcp'], { root: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/IPv6 neighbours in 2001:db8:1::\/64 \(4, answered an all-nodes echo\)/);
    expect(text.stdout).toMatch(/2001:db8:1::1 +\S+ {2}gateway, also 198\.51\.100\.1/);
    expect(text.stdout).toMatch(/fe80::11:c6ff:fe33:6478 +02:11:c6:33:64:78 {2}also 198\.51\.100\.120/);
  });

  it('--subnet once per family; an IPv6 subnet not on the parent is refused before anything runs', async () => {
    const h = lab.host('h1');
    const a = await macvlanctl(h, ['scan', '--subnet', '198.51.100.0/24', '--subnet', '2001:db8:1::/64', '--no-dhcp', '--json'], { root: dir });
    expect(a.code, a.stderr).toBe(0);
    expect(a.json!.result.live6.map((x: { mac: string }) => x.mac)).toContain(liveHostMac('198.51.100.130'));
    const b = await macvlanctl(h, ['scan', '--subnet', '2001:db8:2::/64', '--no-dhcp', '--json'], { root: dir });
    expect(b.code).toBe(2);
    expect(b.json!.error!.code).toBe('USAGE');
    expect(scanWorkers()).toEqual([]);
  });

  it('plan --ip-range auto of a dual-stack network keeps the IPv6 range clear of the live IPv6 hosts', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'macvlanctl-scan6-plan-'));
    try {
      // A fresh --root: plan scans for itself (IPv6 neighbours included), no cache to lean on.
      const r = await macvlanctl(lab.host('h1'), ['plan', 'v6net', '--parent', 'eno1', '--ip-range', 'auto', '--subnet', '2001:db8:1::/64', '--json'], { root: fresh, scan: true });
      expect(r.code, r.stderr).toBe(0);
      const n = r.json!.result.networks[0];
      expect(n.ipv6.ipRange).not.toBe(TOP);
      expect(n.ipv6.ipRange).toBe('2001:db8:1:0:ffff:ffff:fffd:0/112');
      expect(r.stderr).toMatch(/Scanning eno1 \(198\.51\.100\.0\/24, 2001:db8:1::\/64\)/);
      expect(JSON.parse(readFileSync(join(fresh, 'var', 'lib', 'macvlanctl', 'scan', 'eno1.json'), 'utf8')).scan.subnet6).toBe('2001:db8:1::/64');
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('an explicit IPv6 range holding a live host is refused (exit 2), the address and MAC named; --force takes it', async () => {
    const args = ['plan', 'v6net', '--parent', 'eno1', '--ip-range', '198.51.100.208/28', '--subnet', '2001:db8:1::/64', '--ip-range', TOP, '--json'];
    const r = await macvlanctl(lab.host('h1'), args, { root: dir, scan: true });
    expect(r.code, r.stderr).toBe(2);
    expect(r.json!.error!.code).toBe('RANGE_CONFLICT');
    expect(r.json!.error!.message).toContain(`holds live host ${SQUATTER} (${liveHostMac('198.51.100.130')})`);
    const f = await macvlanctl(lab.host('h1'), [...args, '--force'], { root: dir, scan: true });
    expect(f.code, f.stderr).toBe(0);
    expect(f.json!.result.networks[0].ipv6.ipRange).toBe(TOP);
  });
});

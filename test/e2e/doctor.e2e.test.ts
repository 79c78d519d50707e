/**
 * doctor against real parts in lab namespaces: a real dockerd with a
 * container on the network, a real dnsmasq serving a known pool on the LAN
 * bridge, and the LAN probe from a throwaway namespace. Healthy → exit 0;
 * a squatter that appears inside the ip-range after apply, a deleted shim, a
 * switch port that drops unknown MACs and a declaration that differs from
 * Docker → exit 1, each naming what is wrong.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, LAB_IMAGE, createLab } from './lab.js';
import { addLiveAddresses6 } from '../../src/lab/lan-extras.js';
import { macvlanctl } from './support/cli.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('doctor e2e: SKIPPED — needs root to build network namespaces and run dockerd');

const RECIPE = ['mynet', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--aux-address', 'host=198.51.100.223', '--persist', 'systemd'];
const SQUATTER = '198.51.100.200';
const ALL_CHECKS = ['parent', 'parent-wireless', 'lan-macvlan-frames', 'docker-settings', 'shim', 'reach', 'lan-squatters', 'lan-dhcp', 'persistence'];

type CheckJson = { id: string; title: string; verdict: string; detail: string; fix?: string; data?: any };

function checks(json: any): Record<string, CheckJson> {
  const n = json.result.networks.find((x: { name: string }) => x.name === 'mynet');
  return Object.fromEntries(n.checks.map((c: CheckJson) => [c.id, c]));
}

describe.skipIf(!root)('doctor in the lab', () => {
  let lab: Lab;
  let dir: string;
  let work: string;
  const doctor = (args: string[] = []) => macvlanctl(lab.host('h1'), ['doctor', 'mynet', ...args], { root: dir });

  beforeAll(async () => {
    // The router's DHCP server (a real dnsmasq), with a pool far below the ip-range: even from a
    // single offer the pool estimate (which then assumes a wide pool around it) stays clear of .192/27.
    lab = await createLab({ docker: true, hosts: [{ name: 'h1', address: '198.51.100.24' }], dhcp: { first: '198.51.100.20', last: '198.51.100.60' } });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-doctor-root-'));
    work = mkdtempSync(join(tmpdir(), 'macvlanctl-doctor-'));
    const h = lab.host('h1');
    const r = await macvlanctl(h, ['apply', ...RECIPE, '--no-scan', '--yes'], { root: dir });
    if (r.code !== 0) throw new Error(`apply failed: ${r.stderr}${r.stdout}`);
    const ct = await h.dockerCli(['run', '-d', '--network', 'mynet', '--name', 'web', LAB_IMAGE, 'sleep', '3600']);
    if (ct.code !== 0) throw new Error(`docker run failed: ${ct.stderr}`);
  }, 180_000);

  afterAll(async () => {
    // dnsmasq and the squatter live in the lab's namespaces: destroy() removes them.
    await lab?.destroy();
    for (const d of [dir, work]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('passes on a healthy applied network (exit 0), every check passing', async () => {
    const r = await doctor(['--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json!.ok).toBe(true);
    const c = checks(r.json);
    expect(Object.keys(c)).toEqual(ALL_CHECKS);
    for (const id of ALL_CHECKS) expect(c[id]!.verdict, `${id}: ${c[id]!.detail}`).toBe('pass');
    expect(c['reach']!.data.containers).toEqual([{ name: 'web', address: '198.51.100.192', fromShim: true, fromHost: true, hostAddress: '198.51.100.24' }]);
    // The real dnsmasq answered, and all its offers lie in its pool, outside the range.
    expect(c['lan-dhcp']!.data.servers).toEqual(['198.51.100.1']);
    expect(c['lan-dhcp']!.data.offers.length).toBeGreaterThan(0);
    for (const o of c['lan-dhcp']!.data.offers) expect(Number(o.split('.')[3])).toBeGreaterThanOrEqual(20);
    for (const o of c['lan-dhcp']!.data.offers) expect(Number(o.split('.')[3])).toBeLessThanOrEqual(60);
    expect(r.json!.result.counts).toEqual({ pass: 9, warn: 0, fail: 0, skip: 0 });
  }, 60_000);

  it('prints one line per check, with plain marks when stdout is not a terminal', async () => {
    const r = await doctor(['--no-scan']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => /^ {2}\S/.test(l));
    expect(lines).toHaveLength(ALL_CHECKS.length);
    expect(lines.filter((l) => l.startsWith('  ok   '))).toHaveLength(6);
    expect(lines.filter((l) => l.startsWith('  skip '))).toHaveLength(3); // the LAN checks, with --no-scan
    expect(r.stdout).not.toMatch(/[✓✗]/);
    expect(r.stdout).toMatch(/^ {2}ok {3}host shim mynet-shim: mynet-shim up, 198\.51\.100\.223\/32, MAC [0-9a-f:]{17}, route 198\.51\.100\.192\/27$/m);
  }, 60_000);

  it('fails (exit 1) naming a host that appears inside the ip-range after apply', async () => {
    // A host that comes onto the LAN after apply, at an address Docker may hand out.
    const squatter = await lab.addLiveHost(SQUATTER);
    const r = await doctor(['--json']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.json!.ok).toBe(true); // the command ran; the network is what failed
    expect(r.json!.result.ok).toBe(false);
    const c = checks(r.json);
    expect(c['lan-squatters']!.verdict).toBe('fail');
    expect(squatter.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(c['lan-squatters']!.data.squatters).toEqual([{ address: SQUATTER, mac: squatter.mac, where: 'ip-range' }]);
    expect(c['lan-squatters']!.detail).toContain(`${SQUATTER} (MAC ${squatter.mac})`);
    // Only the squatter is wrong: the rest still passes.
    for (const id of ALL_CHECKS.filter((x) => x !== 'lan-squatters')) expect(c[id]!.verdict, `${id}: ${c[id]!.detail}`).toBe('pass');

    const human = await doctor();
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(new RegExp(`^ {2}FAIL nobody else in 198\\.51\\.100\\.192/27 or on 198\\.51\\.100\\.223: .*${SQUATTER.replace(/\./g, '\\.')} \\(MAC ${squatter.mac}\\).* — fix: `, 'm'));

    await lab.removeLiveHost(SQUATTER);
  }, 60_000);

  it('fails (exit 1) when the shim is deleted, and passes again after macvlanctl up', async () => {
    const h = lab.host('h1');
    await h.exec(['ip', 'link', 'del', 'mynet-shim'], { check: true });
    const r = await doctor(['--json', '--no-scan']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const c = checks(r.json);
    expect(c['shim']).toMatchObject({ verdict: 'fail', fix: `sudo macvlanctl up mynet --root ${dir}` });
    expect(c['shim']!.detail).toMatch(/^mynet-shim does not exist: the host cannot reach its containers/);
    expect(c['reach']!.verdict).toBe('fail');
    expect(c['reach']!.detail).toContain('the host does not reach web 198.51.100.192');
    expect(c['docker-settings']!.verdict).toBe('pass');

    const up = await macvlanctl(h, ['up', 'mynet'], { root: dir });
    expect(up.code, up.stderr).toBe(0);
    const again = await doctor(['--json', '--no-scan']);
    expect(again.code, again.stdout).toBe(0);
    expect(checks(again.json)['shim']!.verdict).toBe('pass');
  }, 60_000);

  it('fails (exit 1) when the switch port drops frames from MACs it does not know', async () => {
    const h = lab.host('h1');
    // Port security on the host's switch port: only the NIC's own MAC gets through.
    await lab.lanExec(['bridge', 'fdb', 'replace', h.mac, 'dev', 'p-h1', 'master', 'static'], { check: true });
    await lab.lanExec(['bridge', 'link', 'set', 'dev', 'p-h1', 'locked', 'on'], { check: true });
    try {
      const r = await doctor(['--json']);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      const c = checks(r.json);
      expect(c['lan-macvlan-frames']!.verdict).toBe('fail');
      expect(c['lan-macvlan-frames']!.detail).toMatch(/^the gateway 198\.51\.100\.1 \(MAC [0-9a-f:]{17}\) answers the host through eno1's own MAC but did not answer a macvlan child of eno1 with a MAC of its own \(asked 3 times\), and nobody else did/);
      expect(c['lan-macvlan-frames']!.fix).toMatch(/Promiscuous mode and Forged transmits/);
      expect(c['lan-macvlan-frames']!.fix).toMatch(/MAC address spoofing/);
    } finally {
      await lab.lanExec(['bridge', 'link', 'set', 'dev', 'p-h1', 'locked', 'off'], { check: true });
    }
  }, 60_000);

  it('with -f, fails when Docker differs from the declaration, naming the difference', async () => {
    const file = join(work, 'macvlanctl.yaml');
    writeFileSync(
      file,
      [
        'networks:',
        '  mynet:',
        '    parent: eno1',
        '    subnet: 198.51.100.0/24',
        '    gateway: 198.51.100.1',
        '    ip_range: 198.51.100.160/27',
        '    host_address: 198.51.100.191',
        '    persist: systemd',
        '',
      ].join('\n'),
    );
    const r = await doctor(['-f', file, '--json', '--no-scan']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const c = checks(r.json);
    expect(c['docker-settings']!.verdict).toBe('fail');
    expect(c['docker-settings']!.data.differences).toContain('ip-range 198.51.100.192/27 ≠ 198.51.100.160/27');
    expect(c['docker-settings']!.fix).toContain(`-f ${file}`);

    const same = join(work, 'same.yaml');
    writeFileSync(same, readFileSync(file, 'utf8').replace('198.51.100.160/27', '198.51.100.192/27').replace('198.51.100.191', '198.51.100.223'));
    const ok = await doctor(['-f', same, '--json', '--no-scan']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(checks(ok.json)['docker-settings']!.detail).toMatch(/as the declaration says$/);
  }, 60_000);
});

describe.skipIf(!root)('doctor on a dual-stack network', () => {
  const RANGE6 = '2001:db8:1::c000/116';
  const SQUATTER6 = '2001:db8:1::c0ff';
  let lab: Lab;
  let dir: string;
  const doctor6 = () => macvlanctl(lab.host('h1'), ['doctor', 'v6net', '--json'], { root: dir });

  beforeAll(async () => {
    // One more machine on the LAN, IPv4 outside the range; it takes an IPv6 address later.
    lab = await createLab({ docker: true, hosts: [{ name: 'h1', address: '198.51.100.24' }], liveHosts: ['198.51.100.130'], ipv6: true });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-doctor6-root-'));
    const args = ['v6net', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--subnet', '2001:db8:1::/64', '--gateway', '2001:db8:1::1', '--ip-range', RANGE6, '--persist', 'none'];
    const r = await macvlanctl(lab.host('h1'), ['apply', ...args, '--no-scan', '--yes'], { root: dir });
    if (r.code !== 0) throw new Error(`apply failed: ${r.stderr}${r.stdout}`);
  }, 180_000);

  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('asks the IPv6 neighbours too, and names one that takes an address inside the IPv6 ip-range (exit 1)', async () => {
    const clean = await doctor6();
    const sq = checks6(clean.json);
    expect(sq.verdict, sq.detail).toBe('pass');
    expect(sq.title).toBe(`nobody else in 198.51.100.192/27 or ${RANGE6} or on 198.51.100.223 or 2001:db8:1::cfff`);
    expect(sq.detail).toContain('asked the IPv6 neighbours in 2001:db8:1::/64');

    const host = lab.liveHosts.find((x) => x.address === '198.51.100.130')!;
    await addLiveAddresses6(lab.liveNetns!, host, [SQUATTER6]);
    const r = await doctor6();
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const c = checks6(r.json);
    expect(c.verdict).toBe('fail');
    expect(c.data.squatters).toEqual([{ address: SQUATTER6, mac: host.mac, where: 'ip-range' }]);
  }, 60_000);

  function checks6(json: any): CheckJson {
    const n = json.result.networks.find((x: { name: string }) => x.name === 'v6net');
    return n.checks.find((x: CheckJson) => x.id === 'lan-squatters');
  }
});

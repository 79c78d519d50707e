/**
 * Declarations that must be refused before anything is touched, against a
 * real dockerd and kernel in lab namespaces (prefix `aval…`, unique to these
 * tests), and what Docker 20.10's IPAM really hands out at the ends of a subnet.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, type LabHost, LAB_IMAGE, createLab, hostFingerprint } from './lab.js';
import { macvlanctl } from './support/cli.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('validate e2e: SKIPPED — needs root to build network namespaces and run dockerd');

/** ping from the host namespace after forgetting every neighbour, so the router must answer ARP afresh */
async function hostReachesRouter(h: LabHost): Promise<boolean> {
  await h.exec(['ip', 'neigh', 'flush', 'dev', 'eno1']);
  for (let i = 0; i < 3; i++) {
    const r = await h.exec(['busybox', 'ping', '-c', '1', '-W', '1', '198.51.100.1']);
    if (r.code === 0) return true;
  }
  return false;
}

async function dockerNetworks(h: LabHost): Promise<string> {
  return (await h.dockerCli(['network', 'ls', '--format', '{{.Name}} {{.Driver}}'])).stdout;
}

describe.skipIf(!root)('refused before anything is touched (lab)', () => {
  let lab: Lab;
  let dir: string;
  beforeAll(async () => {
    lab = await createLab({ prefix: `aval${randomBytes(3).toString('hex')}`, docker: true, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-validate-'));
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('apply --mode passthru with host access: exit 2, nothing created, the host still reaches its router', async () => {
    const h = lab.host('h1');
    expect(await hostReachesRouter(h), 'router reachable before').toBe(true);
    const before = await hostFingerprint(h);
    const networks = await dockerNetworks(h);
    const r = await macvlanctl(h, ['apply', 'pt', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--mode', 'passthru', '--persist', 'none', '--yes', '--json'], { root: dir });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.json!.error!.code).toBe('CONFIG_INVALID');
    expect(r.json!.error!.message).toMatch(/passthru cannot have host access.*--no-host-access/);
    expect(await hostReachesRouter(h), 'router reachable after').toBe(true);
    expect(await hostFingerprint(h)).toBe(before);
    expect(await dockerNetworks(h)).toBe(networks);
  });

  it('the same from a Compose file (driver_opts.macvlan_mode: passthru)', async () => {
    const h = lab.host('h1');
    const before = await hostFingerprint(h);
    const compose = join(dir, 'compose.yaml');
    writeFileSync(
      compose,
      [
        'networks:',
        '  lan:',
        '    driver: macvlan',
        '    driver_opts:',
        '      parent: eno1',
        '      macvlan_mode: passthru',
        '    ipam:',
        '      config:',
        '        - subnet: 198.51.100.0/24',
        '          gateway: 198.51.100.1',
        '          ip_range: 198.51.100.192/27',
        '',
      ].join('\n'),
    );
    const r = await macvlanctl(h, ['apply', '-f', compose, '--persist', 'none', '--yes', '--json'], { root: dir });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.json!.error!.message).toMatch(/compose\.yaml:6:\d+ networks\.lan\.driver_opts\.macvlan_mode: macvlan mode passthru cannot have host access/);
    expect(await hostFingerprint(h)).toBe(before);
    expect(await hostReachesRouter(h)).toBe(true);
  });

  it('passthru without host access is allowed: the Docker network only, no shim', async () => {
    const h = lab.host('h1');
    const r = await macvlanctl(h, ['apply', 'pt', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--mode', 'passthru', '--no-host-access', '--persist', 'none', '--yes'], { root: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await dockerNetworks(h)).toMatch(/^pt macvlan$/m);
    expect(await hostReachesRouter(h)).toBe(true);
    const d = await macvlanctl(h, ['destroy', 'pt', '--yes'], { root: dir });
    expect(d.code, d.stdout + d.stderr).toBe(0);
  });

  /**
   * Starts containers on `network` until Docker refuses one, and returns the
   * addresses it handed out (then removes them and the network).
   */
  async function handedOut(h: LabHost, network: string, createArgs: string[], family: 4 | 6, max = 6): Promise<{ addresses: string[]; refusal: string }> {
    const made = await h.dockerCli(['network', 'create', '-d', 'macvlan', '-o', 'parent=eno1', ...createArgs, network]);
    expect(made.code, made.stderr).toBe(0);
    const addresses: string[] = [];
    let refusal = '';
    const names: string[] = [];
    try {
      for (let i = 0; i < max; i++) {
        const name = `${network}-c${i}`;
        const r = await h.dockerCli(['run', '-d', '--network', network, '--name', name, LAB_IMAGE, 'sleep', '600']);
        names.push(name);
        if (r.code !== 0) {
          refusal = r.stderr.trim();
          break;
        }
        const field = family === 4 ? '.IPAddress' : '.GlobalIPv6Address';
        const a = await h.dockerCli(['inspect', '-f', `{{range .NetworkSettings.Networks}}{{${field}}}{{end}}`, name]);
        addresses.push(a.stdout.trim());
      }
    } finally {
      if (names.length) await h.dockerCli(['rm', '-f', ...names]);
      await h.dockerCli(['network', 'rm', network]);
    }
    return { addresses, refusal };
  }

  // Issue #10 item 6: which addresses at the ends of a subnet does dockerd 20.10's IPAM hand out?
  // Seen here: a range at the top (.252/30) gives .252-.254, never the broadcast .255; a range at the
  // bottom (.0/30, router elsewhere) gives .1-.3, never the network address .0. IPv6: 2001:db8:9::/126
  // gives ::1-::3, never the subnet's first address ::, and then "no available IPv6 addresses".
  it('Docker 20.10 never hands out the IPv4 network or broadcast address, so a range may hold them', async () => {
    const h = lab.host('h1');
    const top = await handedOut(h, 'top', ['--subnet', '198.51.100.0/24', '--gateway', '198.51.100.1', '--ip-range', '198.51.100.252/30'], 4);
    console.log(`validate e2e: range 198.51.100.252/30 handed out ${top.addresses.join(', ')}; then: ${top.refusal}`);
    expect(top.addresses).toEqual(['198.51.100.252', '198.51.100.253', '198.51.100.254']);
    expect(top.refusal).toMatch(/no available IPv4 addresses/);
    const bottom = await handedOut(h, 'bottom', ['--subnet', '198.51.100.0/24', '--gateway', '198.51.100.254', '--ip-range', '198.51.100.0/30'], 4);
    console.log(`validate e2e: range 198.51.100.0/30 handed out ${bottom.addresses.join(', ')}; then: ${bottom.refusal}`);
    expect(bottom.addresses).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    expect(bottom.refusal).toMatch(/no available IPv4 addresses/);
  });

  it('Docker 20.10 never hands out the IPv6 subnet’s first address (subnet-router anycast) either', async () => {
    const h = lab.host('h1');
    const v6 = await handedOut(
      h,
      'bottom6',
      ['--subnet', '198.51.100.0/24', '--gateway', '198.51.100.1', '--ip-range', '198.51.100.64/27', '--ipv6', '--subnet', '2001:db8:9::/64', '--gateway', '2001:db8:9::ffff', '--ip-range', '2001:db8:9::/126'],
      6,
    );
    console.log(`validate e2e: range 2001:db8:9::/126 handed out ${v6.addresses.join(', ')}; then: ${v6.refusal}`);
    expect(v6.addresses).toEqual(['2001:db8:9::1', '2001:db8:9::2', '2001:db8:9::3']);
    expect(v6.refusal).toMatch(/no available IPv6 addresses/);
  });

  it('apply --ip-range 198.51.100.128/25 on a /24 is accepted: the shim takes .254, a container .128', async () => {
    const h = lab.host('h1');
    const r = await macvlanctl(h, ['apply', 'top', '--parent', 'eno1', '--ip-range', '198.51.100.128/25', '--persist', 'none', '--yes', '--json'], { root: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json!.result.plan.networks[0].shim.address).toBe('198.51.100.254');
    const run = await h.dockerCli(['run', '-d', '--network', 'top', '--name', 'top-web', LAB_IMAGE, 'sleep', '600']);
    expect(run.code, run.stderr).toBe(0);
    const a = await h.dockerCli(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'top-web']);
    expect(a.stdout.trim()).toBe('198.51.100.128');
    await h.dockerCli(['rm', '-f', 'top-web']);
    const d = await macvlanctl(h, ['destroy', 'top', '--yes'], { root: dir });
    expect(d.code, d.stdout + d.stderr).toBe(0);
  });

  it('a blackhole route to the range (IPv4 from ip -json, IPv6 from /proc): apply refuses with exit 2, auto keeps clear', async () => {
    const h = lab.host('h1');
    const v6range = `${lab.cidr6!.split('::')[0]}::ffff:0/112`;
    const added = [
      ['ip', 'route', 'add', 'blackhole', '198.51.100.192/27'],
      ['ip', '-6', 'route', 'add', 'blackhole', v6range],
    ];
    for (const cmd of added) expect((await h.exec(cmd)).code).toBe(0);
    try {
      const before = await hostFingerprint(h);
      const networks = await dockerNetworks(h);
      const r4 = await macvlanctl(h, ['apply', 'bh', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--persist', 'none', '--yes', '--json'], { root: dir });
      expect(r4.code, r4.stdout + r4.stderr).toBe(2);
      expect(r4.json!.error!.message).toMatch(/the blackhole route to 198\.51\.100\.192\/27 already exists/);
      const r6 = await macvlanctl(
        h,
        ['apply', 'bh', '--parent', 'eno1', '--ip-range', '198.51.100.160/27', '--subnet', lab.cidr6!, '--ip-range', v6range, '--persist', 'none', '--yes', '--json'],
        { root: dir },
      );
      expect(r6.code, r6.stdout + r6.stderr).toBe(2);
      expect(r6.json!.error!.message).toMatch(/the reject \(blackhole, unreachable, prohibit or throw\) route to .*::ffff:0\/112 already exists/);
      expect(await hostFingerprint(h)).toBe(before);
      expect(await dockerNetworks(h)).toBe(networks);
      const auto = await macvlanctl(h, ['plan', 'bh', '--parent', 'eno1', '--json'], { root: dir });
      expect(auto.code, auto.stdout + auto.stderr).toBe(0);
      expect(auto.json!.result.networks[0].ipRange).not.toBe('198.51.100.192/27');
    } finally {
      for (const cmd of added) await h.exec(cmd.map((a) => (a === 'add' ? 'del' : a)));
    }
  });

  it('apply --lock-wait -1 / NaN and a malformed Docker endpoint: exit 2, nothing touched', async () => {
    const h = lab.host('h1');
    const before = await hostFingerprint(h);
    const networks = await dockerNetworks(h);
    for (const wait of ['-1', 'NaN']) {
      const r = await macvlanctl(h, ['apply', 'lw', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--persist', 'none', '--lock-wait', wait, '--yes', '--json'], { root: dir });
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.json!.error!.message).toMatch(/^--lock-wait /);
    }
    for (const cmd of [['plan', 'lw', '--parent', 'eno1'], ['apply', 'lw', '--parent', 'eno1', '--persist', 'none', '--yes'], ['status'], ['destroy', 'lw', '--yes']]) {
      const r = await macvlanctl(h, [...cmd, '--docker-host', 'tcp://[::1', '--json'], { root: dir });
      expect(r.code, `${cmd[0]}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.json!.error!.message).toMatch(/'tcp:\/\/\[::1' is not a valid Docker endpoint: an IPv6 address needs its closing '\]'/);
    }
    expect(await hostFingerprint(h)).toBe(before);
    expect(await dockerNetworks(h)).toBe(networks);
  });

  it('issue #14 item 5 declarations: each exits 2 with nothing touched, and the host still reaches its router', async () => {
    const h = lab.host('h1');
    const before = await hostFingerprint(h);
    const networks = await dockerNetworks(h);
    const cases: [string[], RegExp][] = [
      [['--subnet', '198.51.0.0/16', '--gateway', '198.51.0.1', '--ip-range', '198.51.100.0/28'], /holds the router 198\.51\.100\.1/],
      [['--ip-range', '198.51.100.200/32'], /leaves no address for a container/],
      [['--subnet', '224.0.0.0/24', '--gateway', '224.0.0.1'], /multicast block/],
      [['--subnet', '127.0.0.0/24', '--gateway', '127.0.0.1'], /loopback block/],
      [['--subnet', '128.0.0.0/1', '--gateway', '128.0.0.1'], /is not a LAN/],
      [['--gateway', '198.51.100.255'], /broadcast address of 198\.51\.100\.0\/24/],
      [['--shim', 'all'], /interface name 'all' is not valid/],
      [['--shim', 'dev'], /interface name 'dev' is not valid/],
    ];
    for (const [args, message] of cases) {
      const r = await macvlanctl(h, ['apply', 'gap', '--parent', 'eno1', ...args, '--persist', 'none', '--yes', '--json'], { root: dir });
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.json!.error!.message, args.join(' ')).toMatch(message);
    }
    expect(await hostFingerprint(h)).toBe(before);
    expect(await dockerNetworks(h)).toBe(networks);
    expect(await hostReachesRouter(h)).toBe(true);
  });
});

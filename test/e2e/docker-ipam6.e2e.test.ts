/**
 * What dockerd 20.10's IPAM can hold in an IPv6 subnet, asked of the real
 * engine. src/plan/docker-ipam6.ts relies on exactly this; if an engine here
 * ever behaves otherwise, this test says so first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, LAB_IMAGE, createLab } from './lab.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('docker-ipam6 e2e: SKIPPED — needs root to build network namespaces and run dockerd');

interface Outcome {
  /** HTTP status of network create, and the engine's message when it failed */
  create: number;
  error?: string;
  /** per container run: the IPv6 address it got, or the engine's error */
  runs: string[];
}

function engineMessage(body: unknown): string {
  const parsed = typeof body === 'string' ? (JSON.parse(body) as unknown) : body;
  return String((parsed as { message?: string })?.message ?? JSON.stringify(parsed));
}

describe.skipIf(!isRoot)('dockerd 20.10 IPAM and IPv6 addresses', () => {
  let lab: Lab;
  let n = 0;
  beforeAll(async () => {
    lab = await createLab({ prefix: `ipam${process.pid.toString(36).slice(-6)}`, docker: true, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
  });

  /** Creates a dual-stack macvlan network with this IPv6 config, runs containers on it (auto address, or --ip6 each), removes it all. */
  async function attempt(cfg: { Subnet: string; IPRange?: string; Gateway?: string; host?: string }, ips: (string | undefined)[] = []): Promise<Outcome> {
    const h = lab.host('h1');
    const name = `ipam${n++}`;
    const { host, ...v6 } = cfg;
    const r = await h.dockerApi('POST', '/networks/create', {
      Name: name,
      Driver: 'macvlan',
      Options: { parent: 'eno1' },
      EnableIPv6: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: '198.51.100.0/24', IPRange: '198.51.100.192/27' }, { ...v6, ...(host ? { AuxiliaryAddresses: { host } } : {}) }] },
    });
    if (r.status >= 300) return { create: r.status, error: engineMessage(r.body), runs: [] };
    const runs: string[] = [];
    const ids: string[] = [];
    for (const ip of ips) {
      const c = await h.dockerCli(['run', '-d', '--network', name, ...(ip ? ['--ip6', ip] : []), LAB_IMAGE, 'sleep', '600']);
      const id = c.stdout.trim();
      if (id) ids.push(id);
      if (c.code !== 0) {
        runs.push(`error: ${/Error response from daemon: (.*)/.exec(c.stderr)?.[1] ?? c.stderr.trim()}`);
        continue;
      }
      runs.push((await h.dockerCli(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}}{{end}}', id])).stdout.trim());
    }
    if (ids.length) await h.dockerCli(['rm', '-f', ...ids]);
    await h.dockerApi('DELETE', `/networks/${name}`);
    return { create: r.status, runs };
  }

  it('a /64: every address but its own and its last', async () => {
    const last = '2001:db8:1::ffff:ffff:ffff:ffff';
    expect(await attempt({ Subnet: '2001:db8:1::/64', Gateway: '2001:db8:1::1', host: last })).toMatchObject({
      create: 500,
      error: `failed to allocate secondary ip address (host:${last}): bit does not belong to the sequence`,
    });
    expect((await attempt({ Subnet: '2001:db8:1::/64', Gateway: '2001:db8:1::1', host: '2001:db8:1::' })).error).toMatch(/Address already in use/);
    // The one below it is fine, as aux address or container address; the last cannot be asked for either.
    expect(await attempt({ Subnet: '2001:db8:1::/64', IPRange: '2001:db8:1::c000/116', Gateway: '2001:db8:1::1', host: '2001:db8:1::ffff:ffff:ffff:fffe' }, [last, '2001:db8:1::ffff:ffff:ffff:fffd'])).toEqual({
      create: 201,
      runs: ['error: bit does not belong to the sequence', '2001:db8:1:0:ffff:ffff:ffff:fffd'],
    });
    // A range that holds the last address: created, but no container gets an address from it.
    expect(await attempt({ Subnet: '2001:db8:1::/64', IPRange: '2001:db8:1::ffff:ffff:ffff:0/112', Gateway: '2001:db8:1::1' }, [undefined])).toEqual({
      create: 201,
      runs: ['error: invalid bit range [18446744073709486080, 18446744073709551615]'],
    });
    // ... and with no gateway given, Docker takes one from the range and fails at once.
    expect((await attempt({ Subnet: '2001:db8:1::/64', IPRange: '2001:db8:1::ffff:ffff:ffff:0/112' })).error).toMatch(/failed to allocate gateway \(\): invalid bit range/);
    // The /112 just below (what auto carves now) works, its top address as the shim's aux address.
    expect(await attempt({ Subnet: '2001:db8:1::/64', IPRange: '2001:db8:1::ffff:ffff:fffe:0/112', Gateway: '2001:db8:1::1', host: '2001:db8:1::ffff:ffff:fffe:ffff' }, [undefined])).toEqual({
      create: 201,
      runs: ['2001:db8:1:0:ffff:ffff:fffe:0'],
    });
  }, 120_000);

  it('longer than /64: the last address is fine', async () => {
    for (const [Subnet, IPRange, host, first] of [
      ['2001:db8:1::/65', '2001:db8:1::7fff:ffff:ffff:0/112', '2001:db8:1::7fff:ffff:ffff:ffff', '2001:db8:1:0:7fff:ffff:ffff:0'],
      ['2001:db8:1::/80', '2001:db8:1::ffff:0/112', '2001:db8:1::ffff:ffff', '2001:db8:1::ffff:0'],
      ['2001:db8:1::/120', '2001:db8:1::f0/124', '2001:db8:1::ff', '2001:db8:1::f0'],
    ] as const) {
      expect(await attempt({ Subnet, IPRange, Gateway: Subnet.replace(/::.*/, '::1'), host }, [undefined]), Subnet).toEqual({ create: 201, runs: [first] });
    }
  }, 120_000);

  it('shorter than /64: only the first /64 maps; elsewhere Docker hands out a different address', async () => {
    expect(await attempt({ Subnet: '2001:db8::/48', IPRange: '2001:db8:0:5::/112', Gateway: '2001:db8::1' }, [undefined, '2001:db8:0:5::7'])).toEqual({
      create: 201,
      runs: ['2001:db8::2', '2001:db8::7'], // asked for 2001:db8:0:5::/112 and ::7 in it
    });
    expect(await attempt({ Subnet: '2001:db8::/48', IPRange: '2001:db8::c000/116', Gateway: '2001:db8::1' }, [undefined])).toEqual({ create: 201, runs: ['2001:db8::c000'] });
    expect((await attempt({ Subnet: '2001:db8::/48', Gateway: '2001:db8::1', host: '2001:db8::ffff:ffff:ffff:ffff' })).error).toMatch(/bit does not belong to the sequence/);
  }, 120_000);
});

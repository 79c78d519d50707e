/**
 * The planner with a LAN scan: --ip-range auto keeps clear of live hosts and
 * of the estimated DHCP pool (plus a margin); an explicit range or host
 * address over them is refused unless --force; an applied network stays put.
 * Host facts from real `ip -json` output (fresh-host: eno1 198.51.100.24/24,
 * gateway .1; lab-host: also mynet-shim .223 with the route .192/27); offers
 * from a real dnsmasq with the pool .100–.199 (test/fixtures/dhcp).
 */
import { describe, expect, it } from 'vitest';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { MacvlanError } from '../../src/model/errors.js';
import type { DockerNetworkFact, HostFacts, LanFacts } from '../../src/model/facts.js';
import type { DhcpOfferSeen, LanScan, LiveHost } from '../../src/model/lan.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { estimateDhcpPools } from '../../src/plan/dhcp-pool.js';
import { lanView, ownIdentities, poolMargin } from '../../src/plan/lan-view.js';
import { docker, fixture, hostFacts } from '../support/fixture-facts.js';
import { refusalOf } from '../support/refusal.js';

const ROUTER = '198.51.100.1';

function offersFrom(file: string, server = ROUTER): DhcpOfferSeen[] {
  return fixture(`dhcp/${file}`)
    .trim()
    .split('\n')
    .map((line) => {
      const [clientMac, address] = line.split(' ');
      return { address: address!, server, clientMac: clientMac!, leaseSeconds: 43200, subnetMask: '255.255.255.0' };
    });
}

const host = (address: string, mac: string): LiveHost => ({ address, mac });

/** Hosts answering ARP on the lab LAN: the router, a NAS and a printer below the pool, two clients inside it, one static host high up. */
const LIVE: LiveHost[] = [
  host('198.51.100.1', '02:00:c6:33:64:01'),
  host('198.51.100.5', '02:00:00:00:00:05'),
  host('198.51.100.20', '02:00:00:00:00:14'),
  host('198.51.100.116', '02:00:00:00:00:74'),
  host('198.51.100.168', '02:00:00:00:00:a8'),
  host('198.51.100.230', '02:00:00:00:00:e6'),
];

function scan(over: Partial<LanScan> = {}, offers = offersFrom('dnsmasq-hash-12.txt')): LanScan {
  return {
    parent: 'eno1',
    subnet: '198.51.100.0/24',
    scannedAt: '2026-12-01T10:00:00.000Z',
    durationMs: 3900,
    live: LIVE,
    dhcp: { servers: [{ address: ROUTER }], offers },
    ...over,
  };
}

function withLan(lan: LanFacts, base: HostFacts = hostFacts()): HostFacts {
  return { ...base, lan };
}

const scanned = (s: LanScan = scan(), base?: HostFacts) => withLan({ scans: [s], skipped: [] }, base);

function plan(name: string, flags: NetworkFlags, facts: HostFacts, force = false) {
  return computePlan([toDesired(flagsToRaw(name, flags))], facts, { force });
}

function refusal(name: string, flags: NetworkFlags, facts: HostFacts): MacvlanError {
  return refusalOf(() => plan(name, flags, facts));
}

function macvlanNet(over: Partial<DockerNetworkFact> & { name: string }): DockerNetworkFact {
  return {
    id: `id-${over.name}`,
    driver: 'macvlan',
    scope: 'local',
    parent: 'eno1',
    labels: { 'io.macvlanctl.managed': 'true' },
    options: { parent: 'eno1' },
    subnets: [],
    enableIPv6: false,
    containers: [],
    configOnly: false,
    ...over,
  };
}

const P = { parent: 'eno1' };
const value = (a: string) => parseAddress(a).value;

describe('--ip-range auto with a scan', () => {
  it('keeps clear of the estimated pool plus one mean offer spacing, and of every live host', () => {
    const facts = scanned();
    const [pool] = estimateDhcpPools(scan().dhcp!.offers, '198.51.100.0/24');
    const margin = poolMargin(pool!);
    expect(pool!.pool).toMatchObject({ first: '198.51.100.79', last: '198.51.100.220', confidence: 'high' });
    expect(margin).toBe(9n); // (198 − 101) / 11 = 8.8 apart
    const n = plan('lan', P, facts).networks[0]!;
    // .70–.229 is kept clear; above it .231–.254 holds no /27 (.230 is live), below it .32/27 is free.
    expect(n.ipRange).toBe('198.51.100.32/27');
    expect(n.ipRangeSource).toBe('auto');
    const range = { start: value('198.51.100.32'), end: value('198.51.100.63') };
    expect(range.end).toBeLessThan(value(pool!.pool.first) - margin);
    for (const h of LIVE) expect(value(h.address) < range.start || value(h.address) > range.end).toBe(true);
  });

  it('without the scan the same host carves .192/27, right inside the real pool .100–.199', () => {
    expect(plan('lan', P, hostFacts()).networks[0]!.ipRange).toBe('198.51.100.192/27');
  });

  it('says what the scan saw, and does not warn that the pool is unknown', () => {
    const p = plan('lan', P, scanned());
    expect(p.warnings.map((w) => w.code)).not.toContain('DHCP_POOL_UNKNOWN');
    expect(p.unchecked.join('\n')).toMatch(
      /LAN on eno1 as scanned at 2026-12-01T10:00:00\.000Z: 6 other live host\(s\) in 198\.51\.100\.0\/24; DHCP 198\.51\.100\.1: 12 offers spread over 198\.51\.100\.101–198\.51\.100\.198/,
    );
  });

  it('with only six offers the cautious estimate leaves no /27 in a /24: auto keeps clear of the offers seen plus one spacing, and says so', () => {
    const facts = scanned(scan({}, offersFrom('dnsmasq-hash-6.txt')));
    const p = plan('lan', P, facts);
    // The offers span .101–.188 (mean spacing 18): .32/27 is the highest block clear of .83–.206 and of the live hosts.
    expect(p.networks[0]!.ipRange).toBe('198.51.100.32/27');
    const w = p.warnings.find((x) => x.code === 'DHCP_POOL_NARROWED');
    expect(w?.message).toMatch(/198\.51\.100\.53-198\.51\.100\.236/);
    expect(w?.fix).toMatch(/--avoid FIRST-LAST/);
    // A block that does not fit even next to the offers is still refused, with the way out.
    const e = refusal('lan', { ...P, ipRange: ['auto/25'] }, facts);
    expect(e.code).toBe('NO_FREE_RANGE');
    expect(e.message).toMatch(/name the router's real DHCP pool with --avoid FIRST-LAST \(the scan could only estimate it: 198\.51\.100\.1 as estimated, 198\.51\.100\.53-198\.51\.100\.236/);
    // Naming the pool: every offer lies inside --avoid, so the estimate gives way to it
    // (.224/27 holds the live .230 and the broadcast address, .96–.223 the pool).
    const n = plan('lan', { ...P, avoid: ['198.51.100.100-198.51.100.199'] }, facts).networks[0]!;
    expect(n.ipRange).toBe('198.51.100.64/27');
  });

  it('a scan without the DHCP probe (--no-dhcp) still warns that the pool is unknown', () => {
    const p = plan('lan', P, scanned(scan({ dhcp: undefined })));
    expect(p.warnings.map((w) => w.code)).toContain('DHCP_POOL_UNKNOWN');
  });

  it('no DHCP server on the LAN: only live hosts matter', () => {
    const p = plan('lan', P, scanned(scan({ dhcp: { servers: [], offers: [] } })));
    expect(p.networks[0]!.ipRange).toBe('198.51.100.192/27');
    expect(p.unchecked.join('\n')).toMatch(/no DHCP server answered/);
    expect(p.warnings.map((w) => w.code)).not.toContain('DHCP_POOL_UNKNOWN');
  });

  it('warns about a second DHCP server and keeps clear of its pool too', () => {
    const rogue = '198.51.100.66';
    const offers = [...offersFrom('dnsmasq-hash-12.txt'), ...['.20', '.21', '.22'].map((x) => ({ address: `198.51.100${x}`, server: rogue, clientMac: '02:00:00:00:01:01' }))];
    const s = scan({ dhcp: { servers: [{ address: ROUTER }, { address: rogue }], offers } });
    const p = plan('lan', { ...P, ipRange: ['auto/29'] }, scanned(s));
    expect(p.warnings.find((w) => w.code === 'DHCP_SERVERS')?.message).toMatch(/2 DHCP servers answered on eno1 \(198\.51\.100\.1, 198\.51\.100\.66\)/);
    // The rogue's offers in a row are low confidence: a warning, and its assumed pool is still kept clear of.
    expect(p.warnings.find((w) => w.code === 'DHCP_POOL_UNCERTAIN')?.message).toMatch(/DHCP pool of 198\.51\.100\.66 is uncertain: 3 offers in a row/);
    // The rogue's assumed .1–.85 and the router's .70–.229 leave only the top: .248/29 holds the broadcast address.
    expect(p.networks[0]!.ipRange).toBe('198.51.100.240/29');
  });
});

describe('an explicit --ip-range or --host-address over what the scan saw', () => {
  it('refuses a range holding live hosts, naming them with their MACs', () => {
    const e = refusal('lan', { ...P, ipRange: ['198.51.100.224/28'] }, scanned());
    expect(e.code).toBe('RANGE_CONFLICT');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/--ip-range: ip-range 198\.51\.100\.224\/28 holds live host 198\.51\.100\.230 \(02:00:00:00:00:e6\); Docker would hand those addresses to containers\..*, or --force to take it anyway/);
    expect(e.details).toMatchObject({ liveHosts: ['198.51.100.230'] });
  });

  it('refuses a range holding DHCP offers and the estimated pool', () => {
    const e = refusal('lan', { ...P, ipRange: ['198.51.100.128/27'] }, scanned());
    expect(e.message).toMatch(/holds DHCP offers 198\.51\.100\.129 \(from 198\.51\.100\.1\), 198\.51\.100\.135 \(from 198\.51\.100\.1\), 198\.51\.100\.144 \(from 198\.51\.100\.1\), /);
    expect(e.message).toMatch(/the DHCP pool of 198\.51\.100\.1 as estimated, 198\.51\.100\.79-198\.51\.100\.220 \(high confidence: 12 offers spread/);
    expect(e.details).toMatchObject({ dhcpOffers: ['198.51.100.129', '198.51.100.135', '198.51.100.144'] });
  });

  it('refuses a range inside the estimated pool even where no offer landed', () => {
    const e = refusal('lan', { ...P, ipRange: ['198.51.100.80/28'] }, scanned());
    expect(e.message).toMatch(/^network lan: --ip-range: ip-range 198\.51\.100\.80\/28 holds the DHCP pool of 198\.51\.100\.1 as estimated/);
  });

  it('takes it with --force, and says so in warnings', () => {
    const p = plan('lan', { ...P, ipRange: ['198.51.100.224/28'] }, scanned(), true);
    expect(p.networks[0]!.ipRange).toBe('198.51.100.224/28');
    expect(p.warnings.find((w) => w.code === 'RANGE_HOLDS_LIVE_HOSTS')?.message).toBe(
      'ip-range 198.51.100.224/28 holds live host 198.51.100.230 (02:00:00:00:00:e6) (taken anyway: --force)',
    );
    const q = plan('lan', { ...P, ipRange: ['198.51.100.128/27'] }, scanned(), true);
    expect(q.warnings.find((w) => w.code === 'RANGE_IN_DHCP_POOL')?.message).toMatch(/holds DHCP offers .* \(taken anyway: --force\)$/);
  });

  it('--force does not lift the refusals that are not about the scan', () => {
    const e = (() => {
      try {
        plan('lan', { ...P, ipRange: ['198.51.100.0/27'] }, scanned(), true);
      } catch (err) {
        return err as MacvlanError;
      }
      throw new Error('expected a refusal');
    })();
    expect(e.message).toMatch(/holds the gateway 198\.51\.100\.1/);
    expect(e.message).not.toMatch(/--force/);
  });

  it('a range clear of the scan is taken without a word', () => {
    const p = plan('lan', { ...P, ipRange: ['198.51.100.32/27'] }, scanned());
    expect(p.warnings.map((w) => w.code).filter((c) => c.startsWith('RANGE_'))).toEqual([]);
  });

  it('refuses a host address that a live host has, or that lies in the pool; --force takes it with a warning', () => {
    const flags = { ...P, ipRange: ['198.51.100.32/27'] };
    const live = refusal('lan', { ...flags, hostAddress: ['198.51.100.5'] }, scanned());
    expect(live.message).toMatch(/--host-address: host address 198\.51\.100\.5 is live host 198\.51\.100\.5 \(02:00:00:00:00:05\); the shim needs an address nobody else uses.*--force/);
    const inPool = refusal('lan', { ...flags, hostAddress: ['198.51.100.150'] }, scanned());
    expect(inPool.message).toMatch(/host address 198\.51\.100\.150 is inside the DHCP pool of 198\.51\.100\.1 as estimated/);
    const forced = plan('lan', { ...flags, hostAddress: ['198.51.100.5'] }, scanned(), true);
    expect(forced.networks[0]!.shim?.address).toBe('198.51.100.5');
    expect(forced.warnings.find((w) => w.code === 'HOST_ADDRESS_SEEN')?.message).toMatch(/taken anyway: --force/);
  });

  it('a low-confidence pool (offers in a row) only warns about its assumed reach, but still refuses the offers themselves', () => {
    const s = scan({ live: [] }, offersFrom('dnsmasq-sequential-6.txt'));
    const p = plan('lan', { ...P, ipRange: ['198.51.100.128/27'] }, scanned(s));
    expect(p.networks[0]!.ipRange).toBe('198.51.100.128/27');
    expect(p.warnings.find((w) => w.code === 'RANGE_IN_DHCP_POOL')?.message).toMatch(/holds the DHCP pool of 198\.51\.100\.1 as estimated, 198\.51\.100\.37-198\.51\.100\.168 \(low confidence/);
    expect(p.warnings.map((w) => w.code)).toContain('DHCP_POOL_UNCERTAIN');
    const e = refusal('lan', { ...P, ipRange: ['198.51.100.96/27'] }, scanned(s));
    expect(e.message).toMatch(/holds DHCP offers 198\.51\.100\.100 \(from 198\.51\.100\.1\), 198\.51\.100\.101/);
  });

  it('--avoid that holds every offer of a server stands for its pool: no refusal outside it', () => {
    const flags = { ...P, ipRange: ['198.51.100.208/28'], avoid: ['198.51.100.100-198.51.100.199'] };
    expect(plan('lan', flags, scanned()).networks[0]!.ipRange).toBe('198.51.100.208/28');
    expect(plan('lan', flags, scanned()).unchecked.join('\n')).toMatch(/every offer lies inside --avoid, so that is taken as its pool/);
    // An --avoid that misses some offers does not: the scan knows better.
    expect(refusal('lan', { ...flags, avoid: ['198.51.100.100-198.51.100.150'] }, scanned()).code).toBe('RANGE_CONFLICT');
  });
});

describe('what is ours is not in the way', () => {
  const mynet = (containers: DockerNetworkFact['containers'] = []) =>
    macvlanNet({
      name: 'mynet',
      subnets: [
        {
          subnet: parseCidr('198.51.100.0/24'),
          gateway: parseAddress('198.51.100.1'),
          ipRange: parseCidr('198.51.100.192/27'),
          auxAddresses: { host: parseAddress('198.51.100.223') },
          raw: {},
        },
      ],
      containers,
    });
  const web = { id: 'c1', name: 'web', ipv4: parseAddress('198.51.100.192'), mac: '02:42:c6:33:64:c0' };
  // A scan in bridge mode sees our shim (lab-host: mynet-shim .223, MAC 02:6d:76:6c:00:01) and our container.
  // No DHCP server here: these tests are about live hosts.
  const noDhcp = { dhcp: { servers: [], offers: [] } };
  const seenOurs = scan({ ...noDhcp, live: [...LIVE, host('198.51.100.192', '02:42:c6:33:64:c0'), host('198.51.100.223', '02:6d:76:6c:00:01'), host('198.51.100.24', '02:00:c6:33:64:18')] });

  it('leaves out this host, its shims and Docker’s containers (by address or MAC)', () => {
    const facts = scanned(seenOurs, hostFacts('lab-host', { docker: docker([mynet([web])]) }));
    const own = ownIdentities(facts);
    expect(own.macs.has('02:42:c6:33:64:c0')).toBe(true);
    const view = lanView(seenOurs, 4, parseCidr('198.51.100.0/24'), facts, []);
    expect(view.live.map((h) => h.address.value)).toEqual(LIVE.map((h) => value(h.address)));
  });

  it('an applied network is all no-ops with a scan that sees its container and shim', () => {
    const facts = scanned(seenOurs, hostFacts('lab-host', { docker: docker([mynet([web])]) }));
    const p = plan('mynet', { ...P, ipRange: ['198.51.100.192/27'], auxAddress: ['host=198.51.100.223'] }, facts);
    expect(p.changes.find((c) => c.kind === 'docker-network')?.action).toBe('noop');
    expect(p.warnings.map((w) => w.code).filter((c) => c.startsWith('RANGE_') || c.startsWith('HOST_'))).toEqual([]);
  });

  it('an applied range stays put even with a stranger inside: a warning, not a refusal (doctor names it)', () => {
    const squatter = scan({ ...noDhcp, live: [...LIVE, host('198.51.100.200', '02:99:00:00:00:c8')] });
    const facts = scanned(squatter, hostFacts('lab-host', { docker: docker([mynet([web])]) }));
    for (const flags of [P, { ...P, ipRange: ['198.51.100.192/27'] }]) {
      const p = plan('mynet', flags, facts);
      expect(p.networks[0]!.ipRange).toBe('198.51.100.192/27');
      expect(p.warnings.find((w) => w.code === 'RANGE_HOLDS_LIVE_HOSTS')?.message).toBe(
        'ip-range 198.51.100.192/27 holds live host 198.51.100.200 (02:99:00:00:00:c8) (the range is already applied, so it stays)',
      );
    }
  });

  it('a new range over a stranger is refused on the same host', () => {
    const squatter = scan({ live: [...LIVE, host('198.51.100.200', '02:99:00:00:00:c8')] });
    const e = refusal('other', { ...P, ipRange: ['198.51.100.192/28'] }, scanned(squatter, hostFacts('fresh-host', { docker: docker([], '27.3.1') })));
    expect(e.message).toMatch(/holds live host 198\.51\.100\.200 \(02:99:00:00:00:c8\)/);
  });
});

describe('when the scan was skipped', () => {
  const skipped: LanFacts = { scans: [], skipped: [{ parent: 'eno1', subnet: '198.51.100.0/24', reason: 'not running as root', fix: 'run as root to check the LAN' }] };

  it('a new network is planned as before, with a warning that says why nothing was checked', () => {
    const p = plan('lan', P, withLan(skipped));
    expect(p.networks[0]!.ipRange).toBe('198.51.100.192/27');
    expect(p.warnings.find((w) => w.code === 'LAN_NOT_SCANNED')).toEqual({
      code: 'LAN_NOT_SCANNED',
      message: 'the LAN on eno1 was not scanned (not running as root), so live hosts and the DHCP pool were not checked',
      fix: 'run as root to check the LAN',
    });
  });

  it('an applied network needs no scan and gets no such warning', () => {
    const applied = macvlanNet({
      name: 'lan',
      subnets: [{ subnet: parseCidr('198.51.100.0/24'), gateway: parseAddress('198.51.100.1'), ipRange: parseCidr('198.51.100.192/27'), auxAddresses: { host: parseAddress('198.51.100.223') }, raw: {} }],
    });
    const p = plan('lan', P, withLan(skipped, hostFacts('fresh-host', { docker: docker([applied]) })));
    expect(p.changes.find((c) => c.kind === 'docker-network')?.action).toBe('noop');
    expect(p.warnings.map((w) => w.code)).not.toContain('LAN_NOT_SCANNED');
  });
});

/**
 * The planner with the IPv6 neighbours of a scan: the IPv6 auto ip-range keeps
 * clear of them, an explicit IPv6 range or host address holding one is
 * refused with its address and MAC unless --force, and our own shims and
 * containers do not count — the IPv4 path, fed with live6. Host facts from
 * real `ip -json` output (fresh-host: eno1 198.51.100.24/24 and
 * 2001:db8:1::24/64, IPv6 default route via 2001:db8:1::1); the IPv6
 * neighbours from the real capture in test/fixtures/scan.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ScanRequest, lanForPlan } from '../../src/gather/lan-for-plan.js';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { MacvlanError } from '../../src/model/errors.js';
import type { DockerNetworkFact, HostFacts } from '../../src/model/facts.js';
import type { LanScan, LiveHost } from '../../src/model/lan.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { lanView } from '../../src/plan/lan-view.js';
import { scanTargets } from '../../src/gather/scan-targets.js';
import { answeredNeighbours6 } from '../../src/probe/neighbours6.js';
import { classifyNeighbours6 } from '../../src/probe/probe-address6.js';
import { writeScanCache } from '../../src/gather/scan-cache.js';
import { docker, fixture, hostFacts } from '../support/fixture-facts.js';
import { refusalOf } from '../support/refusal.js';

/** Where IPv6 auto carves by default: the highest /112 of the /64 that Docker can hold (not the top one: src/plan/docker-ipam6.ts). */
const TOP = '2001:db8:1:0:ffff:ffff:fffe:0/112';
/** A static host sitting right in it (as people give servers easy-to-type high addresses). */
const SQUATTER: LiveHost = { address: '2001:db8:1:0:ffff:ffff:fffe:10', mac: '02:99:00:00:00:10' };

const captured = classifyNeighbours6(answeredNeighbours6(fixture('scan/neigh6-after-echo.json')), parseCidr('2001:db8:1::/64'), '2001:db8:1:0:9d4b:2e17:c0a5:38f1');

function scan(live6: LiveHost[] = [...captured.live6, SQUATTER]): LanScan {
  return {
    parent: 'eno1',
    subnet: '198.51.100.0/24',
    scannedAt: '2026-12-01T10:00:00.000Z',
    durationMs: 400,
    live: [{ address: '198.51.100.1', mac: '26:3b:c2:0f:6a:2b' }],
    dhcp: { servers: [], offers: [] },
    subnet6: '2001:db8:1::/64',
    live6,
    others6: captured.others6,
  };
}

const scanned = (s: LanScan = scan(), base: HostFacts = hostFacts()): HostFacts => ({ ...base, lan: { scans: [s], skipped: [] } });
const plan = (flags: NetworkFlags, facts: HostFacts, force = false) => computePlan([toDesired(flagsToRaw('lan', flags))], facts, { force });
const DUAL = { parent: 'eno1', subnet: ['2001:db8:1::/64'], ipRange: ['198.51.100.192/27'] };

function refusal(flags: NetworkFlags, facts: HostFacts): MacvlanError {
  return refusalOf(() => plan(flags, facts));
}

describe('IPv6 --ip-range auto with the scan’s IPv6 neighbours', () => {
  it('without them auto takes the top /112; with a host there it takes the next block down', () => {
    expect(plan(DUAL, hostFacts()).networks[0]!.ipv6!.ipRange).toBe(TOP);
    const n = plan(DUAL, scanned()).networks[0]!;
    expect(n.ipv6!.ipRange).toBe('2001:db8:1:0:ffff:ffff:fffd:0/112');
    expect(n.shim?.address6).toBe('2001:db8:1:0:ffff:ffff:fffd:ffff');
  });

  it('the plan says how many IPv6 hosts the scan saw', () => {
    expect(plan(DUAL, scanned()).unchecked.join('\n')).toMatch(/4 other IPv6 host\(s\) in 2001:db8:1::\/64/);
  });

  it('hosts that answered from outside the subnet (link-local, another prefix) are no obstacle', () => {
    const view = lanView(scan(), 6, parseCidr('2001:db8:1::/64'), hostFacts(), []);
    expect(view.live.map((h) => h.mac)).not.toContain('02:11:c6:33:64:78');
    expect(view.live.map((h) => h.mac)).not.toContain('02:11:00:00:00:03');
  });

  it('a failed IPv6 probe leaves the range unchecked, and the plan says so', () => {
    const failed: LanScan = { ...scan(), ipv6Failure: 'no ping program could send the echo to ff02::1' };
    delete failed.live6;
    const p = plan(DUAL, scanned(failed));
    expect(p.networks[0]!.ipv6!.ipRange).toBe(TOP);
    expect(p.warnings.find((w) => w.code === 'LAN_IPV6_NOT_SCANNED')?.message).toMatch(/not asked \(no ping program/);
  });
});

describe('an explicit IPv6 range or host address over a live IPv6 host', () => {
  it('is refused with the address and MAC named (exit 2: RANGE_CONFLICT), and --force takes it with a warning', () => {
    const flags = { ...DUAL, ipRange: ['198.51.100.192/27', TOP] };
    const e = refusal(flags, scanned());
    expect(e.code).toBe('RANGE_CONFLICT');
    expect(e.message).toContain(`ip-range ${TOP} holds live host ${SQUATTER.address} (${SQUATTER.mac})`);
    expect(e.message).toMatch(/--force to take it anyway/);
    expect(e.details).toMatchObject({ liveHosts: [SQUATTER.address] });
    const forced = plan(flags, scanned(), true);
    expect(forced.networks[0]!.ipv6!.ipRange).toBe(TOP);
    expect(forced.warnings.find((w) => w.code === 'RANGE_HOLDS_LIVE_HOSTS')?.message).toMatch(/taken anyway: --force/);
  });

  it('a host address on a live IPv6 host is refused; one on nobody is taken', () => {
    const e = refusal({ ...DUAL, hostAddress: ['2001:db8:1::7'] }, scanned());
    expect(e.message).toMatch(/host address 2001:db8:1::7 is live host 2001:db8:1::7 \(02:11:c6:33:64:07\)/);
    expect(plan({ ...DUAL, hostAddress: ['2001:db8:1::77'] }, scanned()).networks[0]!.shim?.address6).toBe('2001:db8:1::77');
  });

  it('a range clear of every IPv6 host is taken without a word', () => {
    const p = plan({ ...DUAL, ipRange: ['198.51.100.192/27', '2001:db8:1::c000/116'] }, scanned());
    expect(p.networks[0]!.ipv6!.ipRange).toBe('2001:db8:1::c000/116');
    expect(p.warnings.map((w) => w.code).filter((c) => c.startsWith('RANGE_'))).toEqual([]);
  });
});

describe('what is ours is not in the way (IPv6)', () => {
  it('this host’s address, its shim (by address or MAC) and Docker’s containers answer the echo but do not count', () => {
    const ctr = { id: 'c1', name: 'web', ipv4: parseAddress('198.51.100.192'), ipv6: parseAddress('2001:db8:1:0:ffff:ffff:fffe:2'), mac: '02:42:c6:33:64:c0' };
    const other: DockerNetworkFact = {
      id: 'id-other',
      name: 'other',
      driver: 'bridge',
      scope: 'local',
      labels: {},
      options: {},
      subnets: [],
      enableIPv6: true,
      containers: [ctr],
      configOnly: false,
    };
    const facts = hostFacts('fresh-host', { docker: docker([other]) });
    const eno1 = facts.interfaces.find((i) => i.name === 'eno1')!;
    const ours: LiveHost[] = [
      { address: '2001:db8:1::24', mac: '02:00:00:00:99:99' }, // this host's address
      { address: '2001:db8:1:0:ffff:ffff:fffe:ffff', mac: eno1.mac! }, // a MAC of this host
      { address: '2001:db8:1:0:ffff:ffff:fffe:2', mac: '02:00:00:00:98:98' }, // the container's address
      { address: '2001:db8:1:0:ffff:ffff:fffe:3', mac: '02:42:c6:33:64:c0' }, // the container's MAC
    ];
    const p = plan(DUAL, scanned(scan([...captured.live6, ...ours]), facts));
    expect(p.networks[0]!.ipv6!.ipRange).toBe(TOP);
  });
});

/** The gateway's MAC as the (stand-in) neighbour table has it: the same LAN as the cached scans'. */
const GATEWAY_MAC = '26:3b:c2:0f:6a:2b';

describe('plan and apply ask for the IPv6 neighbours of a dual-stack network', () => {
  let root: string;
  let requests: ScanRequest[];
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'macvlanctl-lan6-'));
    requests = [];
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const opts = () => ({
    root,
    scanLan: async (req: ScanRequest) => {
      requests.push(req);
      return { ...scan(), parent: req.parent, subnet: req.subnet, subnet6: req.subnet6 ?? 'none', scannedAt: '2026-12-01T10:00:05.000Z' };
    },
    now: () => new Date('2026-12-01T10:00:10.000Z'),
    privileged: () => true,
    neighbourMac: async () => GATEWAY_MAC,
    log: () => undefined,
  });
  const desired = (flags: NetworkFlags) => [toDesired(flagsToRaw('lan', flags))];

  it('the scan target carries the network’s IPv6 subnet; an IPv4-only network’s does not', () => {
    expect(scanTargets(desired(DUAL), hostFacts())).toEqual([{ parent: 'eno1', subnet: '198.51.100.0/24', gateway: '198.51.100.1', subnet6: '2001:db8:1::/64', networks: ['lan'] }]);
    expect(scanTargets(desired({ parent: 'eno1' }), hostFacts())).toEqual([{ parent: 'eno1', subnet: '198.51.100.0/24', gateway: '198.51.100.1', networks: ['lan'] }]);
  });

  it('the request asks for them, and a cached scan from before the IPv6 probe is not enough for them', async () => {
    const old: LanScan = { ...scan(), scannedAt: '2026-12-01T10:00:05.000Z' };
    delete old.subnet6;
    delete old.live6;
    delete old.others6;
    writeScanCache(root, old, { subnet: old.subnet, gateway: '198.51.100.1', gatewayMac: GATEWAY_MAC });
    // An IPv4-only network uses the old cache as it is.
    await lanForPlan(desired({ parent: 'eno1' }), hostFacts(), opts());
    expect(requests).toEqual([]);
    // A dual-stack one scans again, IPv6 included.
    const facts = await lanForPlan(desired(DUAL), hostFacts(), opts());
    expect(requests).toEqual([{ parent: 'eno1', subnet: '198.51.100.0/24', subnet6: '2001:db8:1::/64', rate: 2000, live: true, dhcp: true, dhcpWaitMs: 3500 }]);
    expect(facts.lan?.scans[0]?.live6).toContainEqual(SQUATTER);
    // …and that scan, now cached, serves the next plan.
    await lanForPlan(desired(DUAL), hostFacts(), opts());
    expect(requests).toHaveLength(1);
  });
});

describe('an IPv6 subnet the scan cannot ask', () => {
  // Not on eno1 (the fixture host has 2001:db8:1::/64): a routed or ULA-style subnet for the containers only.
  const ELSEWHERE = { parent: 'eno1', subnet: ['2001:db8:9::/64'], gateway: ['2001:db8:9::1'], ipRange: ['198.51.100.192/27'] };

  it('is left out of the scan request, so the IPv4 checks still happen', () => {
    const targets = scanTargets([toDesired(flagsToRaw('lan', ELSEWHERE))], hostFacts());
    expect(targets).toEqual([{ parent: 'eno1', subnet: '198.51.100.0/24', gateway: '198.51.100.1', networks: ['lan'] }]);
    expect(scanTargets([toDesired(flagsToRaw('lan', DUAL))], hostFacts())[0]!.subnet6).toBe('2001:db8:1::/64');
  });

  it('makes the plan warn LAN_IPV6_NOT_SCANNED, not count 0 IPv6 hosts as if it had looked', () => {
    const p = plan(ELSEWHERE, scanned(scan([])));
    const w = p.warnings.find((x) => x.code === 'LAN_IPV6_NOT_SCANNED');
    expect(w?.message).toBe('the IPv6 neighbours in 2001:db8:9::/64 were not asked (the scan of eno1 asked those of 2001:db8:1::/64), so live IPv6 hosts were not checked');
    expect(p.unchecked.join('\n')).not.toMatch(/IPv6 host\(s\)/);
    const none = plan(ELSEWHERE, scanned({ ...scan([]), subnet6: undefined, live6: undefined }));
    expect(none.warnings.find((x) => x.code === 'LAN_IPV6_NOT_SCANNED')?.message).toMatch(/it is not an IPv6 subnet of eno1, or is longer than a \/112/);
    // Asked for this very subnet: no warning, and the count is in the notes.
    const asked = plan(DUAL, scanned(scan([])));
    expect(asked.warnings.map((x) => x.code)).not.toContain('LAN_IPV6_NOT_SCANNED');
    expect(asked.unchecked.join('\n')).toMatch(/0 other IPv6 host\(s\) in 2001:db8:1::\/64/);
  });
});

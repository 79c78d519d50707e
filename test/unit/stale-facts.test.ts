/**
 * No decision on stale facts (issue #10, items 4 and 5): a refusal that rests
 * on a cached scan is re-probed live first, DHCP facts of a cached scan are
 * confirmed by a new scan, a cache never speaks for another LAN, and the plan
 * says where its LAN facts came from and how old they are. The scanner and
 * the re-probe are stand-ins that record their requests (the real ones need
 * root and a LAN: see test/e2e/stale-scan.e2e.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { type PlanOnLanOptions, planOnLan } from '../../src/cli/confirm-refusals.js';
import type { ScanRequest } from '../../src/gather/lan-for-plan.js';
import { describeLanSource, presentPlan } from '../../src/present/plan.js';
import { AggregateMacvlanError, MacvlanError } from '../../src/model/errors.js';
import type { LanIdentity, LanScan } from '../../src/model/lan.js';
import { scanFactsNamed, withoutHosts } from '../../src/plan/lan-view.js';
import type { ReprobeOptions } from '../../src/gather/lan-scan.js';
import { probeLinkLocal, reprobeLines, reprobeProgress, reprobeSysctls } from '../../src/probe/reprobe.js';
import { resolvedMac } from '../../src/gather/neighbour-table.js';
import { lanIdentityOf, otherLan, readCachedScan, writeScanCache } from '../../src/gather/scan-cache.js';
import { hostFacts } from '../support/fixture-facts.js';

const T0 = new Date('2026-12-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const GATEWAY_MAC = '02:00:c6:33:64:01';
const OTHER_GATEWAY_MAC = '0a:bb:cc:dd:ee:01';
const LAN_A = { subnet: '198.51.100.0/24', gateway: '198.51.100.1', gatewayMac: GATEWAY_MAC };
const SQUATTER = { address: '198.51.100.200', mac: '02:11:c6:33:64:c8' };

function lanScan(over: Partial<LanScan> = {}): LanScan {
  return {
    parent: 'eno1',
    subnet: '198.51.100.0/24',
    scannedAt: T0.toISOString(),
    durationMs: 3800,
    live: [{ address: '198.51.100.1', mac: GATEWAY_MAC }, SQUATTER],
    dhcp: { servers: [{ address: '198.51.100.1' }], offers: [] },
    ...over,
  };
}

let root: string;
let scans: ScanRequest[];
let reprobes: ReprobeOptions[];
let logs: string[];
/** What the stand-in scanner sees on the LAN now. */
let lanNow: LanScan;
/** The addresses that answer a re-probe now. */
let answering: Set<string>;
/** The gateway's MAC in the stand-in host neighbour table now. */
let neighbour: string | undefined;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'macvlanctl-stale-'));
  scans = [];
  reprobes = [];
  logs = [];
  lanNow = lanScan({ live: [{ address: '198.51.100.1', mac: GATEWAY_MAC }], scannedAt: at(60_000).toISOString() });
  answering = new Set();
  neighbour = GATEWAY_MAC;
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function opts(over: Partial<PlanOnLanOptions> = {}): PlanOnLanOptions {
  return {
    root,
    scanLan: async (req) => {
      scans.push(req);
      return { ...lanNow, parent: req.parent, subnet: req.subnet };
    },
    reprobeLan: async (req) => {
      reprobes.push(req);
      return { at: at(61_000).toISOString(), durationMs: 40, answered: req.addresses.filter((a) => answering.has(a)).map((address) => ({ address, mac: SQUATTER.mac })) };
    },
    neighbourMac: async () => neighbour,
    now: () => at(60_000),
    privileged: () => true,
    log: (l) => logs.push(l),
    ...over,
  };
}

const desired = (flags: NetworkFlags) => [toDesired(flagsToRaw('lan', flags))];
const EXPLICIT = desired({ parent: 'eno1', ipRange: ['198.51.100.192/27'] });

async function refusal(p: Promise<unknown>): Promise<MacvlanError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MacvlanError);
    return e as MacvlanError;
  }
  throw new Error('expected a refusal');
}

describe('a refusal on a cached scan is confirmed live', () => {
  it('the squatter is gone: it is re-probed, dropped from the facts and the cache, and the range is taken', async () => {
    writeScanCache(root, lanScan(), LAN_A);
    const { plan } = await planOnLan(EXPLICIT, hostFacts(), opts());
    expect(plan.networks[0]!.ipRange).toBe('198.51.100.192/27');
    expect(scans).toEqual([]); // no new scan: just the one address asked again
    expect(reprobes).toEqual([{ parent: 'eno1', subnet: '198.51.100.0/24', addresses: ['198.51.100.200'] }]);
    expect(plan.lan).toEqual([
      { parent: 'eno1', subnet: '198.51.100.0/24', origin: 'cache', scannedAt: T0.toISOString(), ageSeconds: 56, reprobed: { at: at(61_000).toISOString(), answered: [], gone: ['198.51.100.200'] } },
    ]);
    // The cache no longer holds it, and still says which LAN it saw.
    expect(readCachedScan(root, 'eno1')).toEqual({ scan: { ...lanScan(), live: [{ address: '198.51.100.1', mac: GATEWAY_MAC }] }, lan: LAN_A });
    expect(presentPlan(plan)).toMatch(/^ {2}lan {7}from the scan cached 56 s ago \(taken 2026-12-01T10:00:00\.000Z\); re-probed just now: 198\.51\.100\.200 no longer answers \(dropped\)$/m);
  });

  it('the squatter still answers: the refusal stands, once asked, and says it was re-probed', async () => {
    writeScanCache(root, lanScan(), LAN_A);
    answering.add('198.51.100.200');
    const e = await refusal(planOnLan(EXPLICIT, hostFacts(), opts()));
    expect(e.code).toBe('RANGE_CONFLICT');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/holds live host 198\.51\.100\.200 \(02:11:c6:33:64:c8\)/);
    expect(e.message).toMatch(/\[from a scan of eno1 cached 56 s ago; re-probed just now: 198\.51\.100\.200 still answers; --rescan scans afresh\]$/);
    expect(e.details).toMatchObject({ liveHosts: ['198.51.100.200'], lanParent: 'eno1', lan: [{ origin: 'cache', ageSeconds: 56, reprobed: { answered: ['198.51.100.200'], gone: [] } }] });
    expect(reprobes).toHaveLength(1);
    expect(readCachedScan(root, 'eno1')!.scan.live).toContainEqual(SQUATTER);
  });

  it('a refusal from a scan taken just now stands without a re-probe', async () => {
    lanNow = lanScan();
    const e = await refusal(planOnLan(EXPLICIT, hostFacts(), opts()));
    expect(e.message).toMatch(/\[the LAN on eno1 was scanned just now; --rescan scans afresh\]$/);
    expect(scans).toHaveLength(1);
    expect(reprobes).toEqual([]);
  });

  it('without root nothing can be re-probed: the refusal stands and says so (apply re-checks)', async () => {
    writeScanCache(root, lanScan(), LAN_A);
    const e = await refusal(planOnLan(EXPLICIT, hostFacts(), opts({ privileged: () => false })));
    expect(e.message).toMatch(/from a scan of eno1 cached 56 s ago; not re-checked: re-probing needs root; apply re-checks them before it refuses/);
    expect(reprobes).toEqual([]);
  });

  it('a re-probe that fails leaves the refusal standing, and says why', async () => {
    writeScanCache(root, lanScan(), LAN_A);
    const reprobeLan = async () => {
      throw new MacvlanError('SYSTEM_ERROR', 'eno1 vanished');
    };
    const e = await refusal(planOnLan(EXPLICIT, hostFacts(), opts({ reprobeLan })));
    expect(e.message).toMatch(/not re-checked: re-probing them failed: eno1 vanished/);
  });

  it('a host address on a cached squatter is re-probed the same way', async () => {
    writeScanCache(root, lanScan(), LAN_A);
    const d = desired({ parent: 'eno1', ipRange: ['198.51.100.160/27'], hostAddress: ['198.51.100.200'] });
    const { plan } = await planOnLan(d, hostFacts(), opts());
    expect(plan.networks[0]!.shim?.address).toBe('198.51.100.200');
    expect(reprobes.map((r) => r.addresses)).toEqual([['198.51.100.200']]);
  });

  it('IPv6 squatters of a cached scan are re-probed too, with the IPv6 subnet to solicit from', async () => {
    const six = { address: '2001:db8:1::ffff:ffff:fffe:10', mac: '02:11:00:00:00:10' };
    writeScanCache(root, lanScan({ live: [{ address: '198.51.100.1', mac: GATEWAY_MAC }], subnet6: '2001:db8:1::/64', live6: [six] }), LAN_A);
    const d = desired({ parent: 'eno1', subnet: ['198.51.100.0/24', '2001:db8:1::/64'], gateway: ['198.51.100.1', '2001:db8:1::1'], ipRange: ['198.51.100.192/27', '2001:db8:1::ffff:ffff:fffe:0/112'] });
    const { plan } = await planOnLan(d, hostFacts(), opts());
    expect(plan.networks[0]!.ipv6?.ipRange).toBe('2001:db8:1:0:ffff:ffff:fffe:0/112');
    expect(reprobes).toEqual([{ parent: 'eno1', subnet: '198.51.100.0/24', subnet6: '2001:db8:1::/64', addresses: ['2001:db8:1:0:ffff:ffff:fffe:10'] }]);
  });

  it('DHCP facts of a cached scan are confirmed by a new scan (a new round of offers), whose offers decide', async () => {
    const offer = (address: string) => ({ address, server: '198.51.100.1', clientMac: '02:aa:00:00:00:01' });
    writeScanCache(root, lanScan({ live: [{ address: '198.51.100.1', mac: GATEWAY_MAC }], dhcp: { servers: [{ address: '198.51.100.1' }], offers: [offer('198.51.100.201')] } }), LAN_A);
    // The server was moved to another pool meanwhile: its offers now land far from the range.
    lanNow = lanScan({ live: [{ address: '198.51.100.1', mac: GATEWAY_MAC }], scannedAt: at(60_000).toISOString(), dhcp: { servers: [{ address: '198.51.100.1' }], offers: [offer('198.51.100.20')] } });
    const { plan } = await planOnLan(EXPLICIT, hostFacts(), opts());
    expect(plan.networks[0]!.ipRange).toBe('198.51.100.192/27');
    expect(scans).toHaveLength(1);
    expect(plan.lan?.[0]).toMatchObject({ origin: 'scan', rescanReason: expect.stringMatching(/DHCP offers or the DHCP pool of a cached scan/) });
    // Still offering inside the range: refused, on the new scan.
    lanNow = lanScan({ live: [{ address: '198.51.100.1', mac: GATEWAY_MAC }], scannedAt: at(60_000).toISOString(), dhcp: { servers: [{ address: '198.51.100.1' }], offers: [offer('198.51.100.201')] } });
    writeScanCache(root, lanScan({ live: [{ address: '198.51.100.1', mac: GATEWAY_MAC }], dhcp: { servers: [{ address: '198.51.100.1' }], offers: [offer('198.51.100.201')] } }), LAN_A);
    const e = await refusal(planOnLan(EXPLICIT, hostFacts(), opts()));
    expect(e.message).toMatch(/holds DHCP offer 198\.51\.100\.201.*\[the LAN on eno1 was scanned just now \(a refusal named DHCP offers/);
    expect(scans).toHaveLength(2);
  });

  it('--force refuses nothing on scan facts, so nothing is re-probed', async () => {
    writeScanCache(root, lanScan(), LAN_A);
    const { plan } = await planOnLan(EXPLICIT, hostFacts(), opts({ force: true }));
    expect(plan.warnings.map((w) => w.code)).toContain('RANGE_HOLDS_LIVE_HOSTS');
    expect(reprobes).toEqual([]);
  });
});

describe('a cache never vouches for a LAN it was not taken on', () => {
  it('another gateway MAC (same subnet, same gateway address): the cache is not used, the LAN is scanned and the range refused', async () => {
    // LAN A was clear in .192/27; on LAN B a host sits at .200.
    writeScanCache(root, lanScan({ live: [{ address: '198.51.100.1', mac: GATEWAY_MAC }] }), LAN_A);
    neighbour = OTHER_GATEWAY_MAC;
    lanNow = lanScan({ live: [{ address: '198.51.100.1', mac: OTHER_GATEWAY_MAC }, SQUATTER], scannedAt: at(60_000).toISOString() });
    const e = await refusal(planOnLan(EXPLICIT, hostFacts(), opts()));
    expect(e.message).toMatch(/holds live host 198\.51\.100\.200/);
    expect(e.message).toMatch(/scanned just now \(it was taken on another LAN: the gateway 198\.51\.100\.1 was 02:00:c6:33:64:01 then and is 0a:bb:cc:dd:ee:01 now\)/);
    expect(scans).toHaveLength(1);
    expect(logs.join('\n')).toMatch(/not the cached scan: it was taken on another LAN/);
    // The new scan replaces it, marked with LAN B.
    expect(readCachedScan(root, 'eno1')!.lan).toEqual({ ...LAN_A, gatewayMac: OTHER_GATEWAY_MAC });
  });

  it('no MAC for the gateway in the neighbour table: the cache cannot tell the LAN, and is not used', async () => {
    writeScanCache(root, lanScan({ live: [{ address: '198.51.100.1', mac: GATEWAY_MAC }] }), LAN_A);
    neighbour = undefined;
    const { plan } = await planOnLan(EXPLICIT, hostFacts(), opts());
    expect(scans).toHaveLength(1);
    expect(plan.lan?.[0]?.rescanReason).toMatch(/neighbour table has no MAC for the gateway 198\.51\.100\.1 and it did not answer an ARP probe/);
    expect(reprobes).toEqual([{ parent: 'eno1', subnet: '198.51.100.0/24', addresses: ['198.51.100.1'] }]);
    // Without root it cannot scan either: the LAN is reported unchecked, with the reason.
    scans = [];
    const p2 = (await planOnLan(EXPLICIT, hostFacts(), opts({ privileged: () => false }))).plan;
    expect(scans).toEqual([]);
    expect(p2.warnings.find((w) => w.code === 'LAN_NOT_SCANNED')?.message).toMatch(/the cached scan was not used: the host's neighbour table has no MAC/);
  });

  it('no MAC for the gateway in the neighbour table, but root: the gateway is asked by one ARP probe, and its answer decides', async () => {
    writeScanCache(root, lanScan({ live: [{ address: '198.51.100.1', mac: GATEWAY_MAC }] }), LAN_A);
    neighbour = undefined;
    let gatewayAnswers = GATEWAY_MAC;
    const asked: ReprobeOptions[] = [];
    const ask = opts({
      reprobeLan: async (req) => {
        asked.push(req);
        return { at: at(61_000).toISOString(), durationMs: 30, answered: req.addresses.filter((a) => a === '198.51.100.1').map((address) => ({ address, mac: gatewayAnswers })) };
      },
    });
    const same = (await planOnLan(EXPLICIT, hostFacts(), ask)).plan;
    expect(asked).toEqual([{ parent: 'eno1', subnet: '198.51.100.0/24', addresses: ['198.51.100.1'] }]);
    expect(scans).toEqual([]); // the same LAN: the cached scan serves
    expect(same.lan?.[0]).toMatchObject({ origin: 'cache' });
    gatewayAnswers = OTHER_GATEWAY_MAC;
    const other = (await planOnLan(EXPLICIT, hostFacts(), ask)).plan;
    expect(scans).toHaveLength(1); // another LAN: scanned anew
    expect(other.lan?.[0]?.rescanReason).toMatch(/taken on another LAN/);
  });

  it('no MAC in the neighbour table and a cache no answer could make serve (too old, another gateway address, no gateway MAC): nothing is sent, the LAN is scanned', async () => {
    const asked: ReprobeOptions[] = [];
    const ask = opts({
      reprobeLan: async (req) => {
        asked.push(req);
        return { at: at(61_000).toISOString(), durationMs: 30, answered: [{ address: '198.51.100.1', mac: GATEWAY_MAC }] };
      },
    });
    neighbour = undefined;
    const cases: [LanScan, LanIdentity, RegExp][] = [
      [lanScan({ scannedAt: at(-10 * 60_000).toISOString() }), LAN_A, /s old/],
      [lanScan(), { ...LAN_A, gateway: '198.51.100.254' }, /taken with gateway 198\.51\.100\.254/],
      [lanScan({ live: [SQUATTER] }), { subnet: LAN_A.subnet, gateway: LAN_A.gateway }, /neighbour table has no MAC/],
    ];
    for (const [scan, lan, why] of cases) {
      writeScanCache(root, scan, lan);
      scans = [];
      const { plan } = await planOnLan(EXPLICIT, hostFacts(), ask);
      expect(scans).toHaveLength(1);
      expect(plan.lan?.[0]?.rescanReason).toMatch(why);
    }
    expect(asked).toEqual([]);
  });

  it('--rescan never reads the cache', async () => {
    writeScanCache(root, lanScan(), LAN_A);
    const { plan } = await planOnLan(EXPLICIT, hostFacts(), opts({ rescan: true }));
    expect(scans).toHaveLength(1);
    expect(plan.lan?.[0]).toMatchObject({ origin: 'scan', rescanReason: '--rescan' });
    expect(describeLanSource(plan.lan![0]!)).toBe('scanned just now (not the cached scan: --rescan)');
  });

  it('otherLan: same LAN only when subnet, gateway and a known gateway MAC all match', () => {
    expect(otherLan(LAN_A, { ...LAN_A, gatewayMac: GATEWAY_MAC.toUpperCase() })).toBeUndefined();
    expect(otherLan(LAN_A, { ...LAN_A, gatewayMac: OTHER_GATEWAY_MAC })).toMatch(/another LAN/);
    expect(otherLan(LAN_A, { ...LAN_A, gateway: '198.51.100.254' })).toMatch(/gateway is now 198\.51\.100\.254/);
    expect(otherLan(LAN_A, { subnet: '198.51.100.0/24', gateway: '198.51.100.1' })).toMatch(/no MAC for the gateway/);
    expect(otherLan({ subnet: '198.51.100.0/24', gateway: '198.51.100.1' }, LAN_A)).toMatch(/did not record the gateway's MAC/);
  });

  it('lanIdentityOf takes the MAC the scan heard from the gateway, else the host’s', () => {
    expect(lanIdentityOf(lanScan(), '198.51.100.1', OTHER_GATEWAY_MAC)).toEqual(LAN_A);
    expect(lanIdentityOf(lanScan({ live: [] }), '198.51.100.1', '0A:BB:CC:DD:EE:01')).toEqual({ ...LAN_A, gatewayMac: OTHER_GATEWAY_MAC });
    expect(lanIdentityOf(lanScan({ live: [] }), '198.51.100.1')).toEqual({ subnet: '198.51.100.0/24', gateway: '198.51.100.1' });
  });

  it('a cache file of version 1 (no LAN identity) is not read', () => {
    mkdirSync(join(root, 'var/lib/macvlanctl/scan'), { recursive: true });
    writeFileSync(join(root, 'var/lib/macvlanctl/scan/eno1.json'), JSON.stringify({ schemaVersion: 1, scan: lanScan() }));
    expect(readCachedScan(root, 'eno1')).toBeUndefined();
    writeScanCache(root, lanScan(), LAN_A);
    expect(JSON.parse(readFileSync(join(root, 'var/lib/macvlanctl/scan/eno1.json'), 'utf8'))).toMatchObject({ schemaVersion: 2, lan: LAN_A });
  });

  it('resolvedMac reads a resolved entry of the host neighbour table, not a failed one', () => {
    expect(resolvedMac('[{"dst":"198.51.100.1","dev":"eno1","lladdr":"02:00:C6:33:64:01","state":["STALE"]}]', '198.51.100.1')).toBe(GATEWAY_MAC);
    expect(resolvedMac('[{"dst":"198.51.100.1","dev":"eno1","state":["FAILED"]}]', '198.51.100.1')).toBeUndefined();
    expect(resolvedMac('[{"dst":"198.51.100.1","dev":"eno1","lladdr":"02:00:c6:33:64:01","state":["INCOMPLETE"]}]', '198.51.100.1')).toBeUndefined();
    expect(resolvedMac('', '198.51.100.1')).toBeUndefined();
  });
});

describe('the pure parts', () => {
  it('scanFactsNamed finds the parent, live hosts and DHCP facts a refusal names, through aggregates', () => {
    const a = new MacvlanError('RANGE_CONFLICT', 'x', { lanParent: 'eno1', liveHosts: ['198.51.100.200'] });
    const b = new MacvlanError('RANGE_CONFLICT', 'y', { lanParent: 'eno1', liveHosts: ['2001:db8:1::10'], dhcpOffers: ['198.51.100.201'] });
    const c = new MacvlanError('RANGE_CONFLICT', 'the gateway', {});
    expect(scanFactsNamed(new AggregateMacvlanError('RANGE_CONFLICT', 'n', [a, b, c]))).toEqual([{ parent: 'eno1', addresses: ['198.51.100.200', '2001:db8:1::10'], dhcp: true }]);
    expect(scanFactsNamed(c)).toEqual([]);
    expect(scanFactsNamed(new Error('x'))).toEqual([]);
  });

  it('withoutHosts drops addresses of either family, however written', () => {
    const s = lanScan({ live6: [{ address: '2001:db8:1::10', mac: '02:11:00:00:00:10' }] });
    const w = withoutHosts(s, ['198.51.100.200', '2001:DB8:1:0::10']);
    expect(w.live).toEqual([{ address: '198.51.100.1', mac: GATEWAY_MAC }]);
    expect(w.live6).toEqual([]);
    expect(s.live).toHaveLength(2); // the original is left as it was
  });

  it('the re-probe asks each address through the kernel, three times, and knows when it is done', () => {
    expect(reprobeLines(['198.51.100.200', '2001:db8:1::10'], 'mvlscan0')).toEqual(['neigh replace 198.51.100.200 dev mvlscan0 use', 'neigh replace 2001:db8:1::10 dev mvlscan0 use']);
    expect(reprobeSysctls('mvlscan0', false)).toEqual([
      ['net/ipv4/neigh/mvlscan0/mcast_solicit', '3'],
      ['net/ipv4/neigh/mvlscan0/retrans_time_ms', '150'],
    ]);
    expect(reprobeSysctls('mvlscan0', true)).toHaveLength(4);
    const json = JSON.stringify([
      { dst: '198.51.100.200', dev: 'mvlscan0', lladdr: '02:11:C6:33:64:C8', state: ['REACHABLE'] },
      { dst: '198.51.100.201', dev: 'mvlscan0', state: ['INCOMPLETE'] },
      { dst: '198.51.100.202', dev: 'mvlscan0', state: ['FAILED'] },
      { dst: '198.51.100.9', dev: 'mvlscan0', lladdr: '02:11:00:00:00:09', state: ['REACHABLE'] },
    ]);
    expect(reprobeProgress(json, ['198.51.100.200', '198.51.100.201', '198.51.100.202'])).toEqual({
      answered: [{ address: '198.51.100.200', mac: '02:11:c6:33:64:c8' }],
      pending: ['198.51.100.201'],
    });
    expect(reprobeProgress('', ['198.51.100.200'])).toEqual({ answered: [], pending: ['198.51.100.200'] });
    // IPv6 solicitations need a link-local source: a random one, 64 bits.
    expect(probeLinkLocal(Uint8Array.from([0x12, 0x34, 0, 5, 0xab, 0xcd, 0xff, 0xff]))).toBe('fe80::1234:5:abcd:ffff');
    expect(() => probeLinkLocal(new Uint8Array(4))).toThrow(RangeError);
  });
});

/**
 * When plan/apply scan the LAN, and the scan cache. The scanner is a stand-in
 * that records its requests (the real one needs root and a LAN: see the e2e
 * tests of `scan`); the cache is written to a temporary --root.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { type ScanRequest, lanForPlan, type LanForPlanOptions } from '../../src/gather/lan-for-plan.js';
import { MacvlanError } from '../../src/model/errors.js';
import type { DockerNetworkFact, HostFacts } from '../../src/model/facts.js';
import type { LanScan } from '../../src/model/lan.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { scanTargets } from '../../src/gather/scan-targets.js';
import { freshScan, isFresh, readScanCache, scanCachePath, writeScanCache } from '../../src/gather/scan-cache.js';
import { docker, hostFacts } from '../support/fixture-facts.js';

const T0 = new Date('2026-12-01T10:00:00.000Z');
/** The gateway's MAC in the (stand-in) host neighbour table: the LAN the cached scans were taken on. */
const GATEWAY_MAC = '02:00:c6:33:64:01';
const SAME_LAN = { subnet: '198.51.100.0/24', gateway: '198.51.100.1', gatewayMac: GATEWAY_MAC };
const at = (ms: number) => new Date(T0.getTime() + ms);

function lanScan(over: Partial<LanScan> = {}): LanScan {
  return {
    parent: 'eno1',
    subnet: '198.51.100.0/24',
    scannedAt: T0.toISOString(),
    durationMs: 3800,
    live: [{ address: '198.51.100.200', mac: '02:99:00:00:00:c8' }],
    dhcp: { servers: [{ address: '198.51.100.1' }], offers: [] },
    ...over,
  };
}

let root: string;
let requests: ScanRequest[];
let logs: string[];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'macvlanctl-lan-'));
  requests = [];
  logs = [];
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function opts(over: Partial<LanForPlanOptions> = {}): LanForPlanOptions {
  return {
    root,
    scanLan: async (req) => {
      requests.push(req);
      return lanScan({ parent: req.parent, subnet: req.subnet });
    },
    now: () => at(10_000),
    privileged: () => true,
    neighbourMac: async () => GATEWAY_MAC,
    log: (l) => logs.push(l),
    ...over,
  };
}

const desired = (name: string, flags: NetworkFlags) => [toDesired(flagsToRaw(name, flags))];
const P = { parent: 'eno1' };

const applied: DockerNetworkFact = {
  id: 'id-lan',
  name: 'lan',
  driver: 'macvlan',
  scope: 'local',
  parent: 'eno1',
  labels: { 'io.macvlanctl.managed': 'true' },
  options: { parent: 'eno1' },
  subnets: [{ subnet: parseCidr('198.51.100.0/24'), gateway: parseAddress('198.51.100.1'), ipRange: parseCidr('198.51.100.192/27'), auxAddresses: { host: parseAddress('198.51.100.223') }, raw: {} }],
  enableIPv6: false,
  containers: [],
  configOnly: false,
};
const appliedFacts = (): HostFacts => hostFacts('fresh-host', { docker: docker([applied]) });

describe('scanTargets', () => {
  it('a new network (auto or explicit) needs its parent and subnet scanned', () => {
    expect(scanTargets(desired('lan', P), hostFacts())).toEqual([{ parent: 'eno1', subnet: '198.51.100.0/24', gateway: '198.51.100.1', networks: ['lan'] }]);
    expect(scanTargets(desired('lan', { ...P, ipRange: ['198.51.100.64/27'] }), hostFacts())).toHaveLength(1);
  });

  it('an applied network needs none, with an auto or the same explicit range', () => {
    expect(scanTargets(desired('lan', P), appliedFacts())).toEqual([]);
    expect(scanTargets(desired('lan', { ...P, ipRange: ['198.51.100.192/27'] }), appliedFacts())).toEqual([]);
  });

  it('an applied network given a new range needs one', () => {
    expect(scanTargets(desired('lan', { ...P, ipRange: ['198.51.100.64/27'] }), appliedFacts())).toHaveLength(1);
  });

  it('a declaration the planner refuses anyway needs none', () => {
    expect(scanTargets(desired('lan', { ...P, ipRange: ['198.51.100.0/27'] }), hostFacts())).toEqual([]);
  });

  it('two new networks on one parent share one scan (engine 26+)', () => {
    const d = [...desired('a', P), ...desired('b', P)];
    expect(scanTargets(d, hostFacts('fresh-host', { docker: docker([], '27.0.0') }))).toEqual([{ parent: 'eno1', subnet: '198.51.100.0/24', gateway: '198.51.100.1', networks: ['a', 'b'] }]);
  });
});

describe('lanForPlan', () => {
  it('--no-scan: the facts as they are, no scan and no cache read', async () => {
    writeScanCache(root, lanScan(), SAME_LAN);
    const f = hostFacts();
    expect(await lanForPlan(desired('lan', P), f, opts({ scan: false }))).toBe(f);
    expect(requests).toEqual([]);
  });

  it('scans once for a new network, caches it, and plan then apply does not scan twice', async () => {
    const first = await lanForPlan(desired('lan', P), hostFacts(), opts());
    expect(requests).toEqual([{ parent: 'eno1', subnet: '198.51.100.0/24', rate: 2000, live: true, dhcp: true, dhcpWaitMs: 3500 }]);
    expect(first.lan?.scans).toHaveLength(1);
    expect(logs[0]).toMatch(/^Scanning eno1 \(198\.51\.100\.0\/24\) for live hosts and DHCP servers before placing lan/);
    const path = join(root, 'var/lib/macvlanctl/scan/eno1.json');
    expect(scanCachePath(root, 'eno1')).toBe(path);
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ schemaVersion: 2, lan: SAME_LAN, scan: { parent: 'eno1', subnet: '198.51.100.0/24' } });
    // apply, two minutes later, even without the scanner's privileges
    const second = await lanForPlan(desired('lan', P), hostFacts(), opts({ now: () => at(120_000), privileged: () => false }));
    expect(requests).toHaveLength(1);
    expect(second.lan?.scans).toEqual(first.lan?.scans);
    // Each says where its facts came from, and how old they are.
    expect(first.lan?.sources).toEqual([{ parent: 'eno1', subnet: '198.51.100.0/24', origin: 'scan', scannedAt: T0.toISOString(), ageSeconds: 0 }]);
    expect(second.lan?.sources).toEqual([{ parent: 'eno1', subnet: '198.51.100.0/24', origin: 'cache', scannedAt: T0.toISOString(), ageSeconds: 116 }]);
  });

  it('the planner then sees what the scan saw', async () => {
    const f = await lanForPlan(desired('lan', { ...P, ipRange: ['198.51.100.192/27'] }), hostFacts(), opts());
    expect(() => computePlan(desired('lan', { ...P, ipRange: ['198.51.100.192/27'] }), f)).toThrow(/holds live host 198\.51\.100\.200 \(02:99:00:00:00:c8\)/);
    expect(computePlan(desired('lan', { ...P, ipRange: ['198.51.100.192/27'] }), f, { force: true }).networks[0]!.ipRange).toBe('198.51.100.192/27');
  });

  it('an applied network needs no scan (and works without root)', async () => {
    const f = appliedFacts();
    expect(await lanForPlan(desired('lan', P), f, opts({ privileged: () => false }))).toBe(f);
    expect(requests).toEqual([]);
  });

  it('scans again when the cache is stale, for another subnet, or incomplete', async () => {
    writeScanCache(root, lanScan({ scannedAt: at(-6 * 60_000).toISOString() }), SAME_LAN);
    await lanForPlan(desired('lan', P), hostFacts(), opts());
    writeScanCache(root, lanScan({ subnet: '198.51.100.0/25' }), { ...SAME_LAN, subnet: '198.51.100.0/25' });
    await lanForPlan(desired('lan', P), hostFacts(), opts());
    writeScanCache(root, lanScan({ dhcp: undefined }), SAME_LAN);
    await lanForPlan(desired('lan', P), hostFacts(), opts());
    expect(requests).toHaveLength(3);
  });

  it('without root: no scan, a LAN_NOT_SCANNED warning in the plan, and plan keeps working', async () => {
    const f = await lanForPlan(desired('lan', P), hostFacts(), opts({ privileged: () => false }));
    expect(requests).toEqual([]);
    expect(f.lan?.skipped[0]).toMatchObject({ parent: 'eno1', reason: 'scanning needs root (CAP_NET_ADMIN), and this process does not have it' });
    const plan = computePlan(desired('lan', P), f);
    expect(plan.networks[0]!.ipRange).toBe('198.51.100.192/27');
    expect(plan.warnings.find((w) => w.code === 'LAN_NOT_SCANNED')?.fix).toMatch(/sudo/);
  });

  it('a scanner that says NOT_PERMITTED is a skip, not a failure', async () => {
    const scanLan = async () => {
      throw new MacvlanError('NOT_PERMITTED', 'creating a namespace needs CAP_SYS_ADMIN');
    };
    const f = await lanForPlan(desired('lan', P), hostFacts(), opts({ scanLan, strict: true }));
    expect(f.lan?.skipped[0]?.reason).toBe('creating a namespace needs CAP_SYS_ADMIN');
  });

  it('a failed scan is a warning for plan and stops apply (strict), naming --no-scan', async () => {
    const scanLan = async () => {
      throw new MacvlanError('SYSTEM_ERROR', 'eno1 is down');
    };
    const f = await lanForPlan(desired('lan', P), hostFacts(), opts({ scanLan }));
    expect(f.lan?.skipped[0]?.reason).toBe('the scan failed: eno1 is down');
    await expect(lanForPlan(desired('lan', P), hostFacts(), opts({ scanLan, strict: true }))).rejects.toThrow(
      /^scan of the LAN on eno1 failed: eno1 is down\. Nothing was changed; run with --no-scan/,
    );
  });

  it('a cache that cannot be written is a logged warning, not a failure', async () => {
    writeFileSync(join(root, 'var'), 'not a directory');
    const f = await lanForPlan(desired('lan', P), hostFacts(), opts());
    expect(f.lan?.scans).toHaveLength(1);
    expect(logs.join('\n')).toMatch(/warning: could not cache the scan of eno1/);
  });
});

describe('scan cache', () => {
  it('is fresh for five minutes after the scan ended, not from the future', () => {
    const s = lanScan();
    expect(isFresh(s, at(3800 + 5 * 60_000))).toBe(true);
    expect(isFresh(s, at(3801 + 5 * 60_000))).toBe(false);
    expect(isFresh(s, at(-5 * 60_000))).toBe(false);
    expect(isFresh({ ...s, scannedAt: 'yesterday' }, T0)).toBe(false);
  });

  it('refuses names that are not interface names, and ignores files that are not its own', () => {
    expect(() => scanCachePath(root, '../etc')).toThrow(/is not an interface name/);
    expect(readScanCache(root, '..')).toBeUndefined();
    mkdirSync(join(root, 'var/lib/macvlanctl/scan'), { recursive: true });
    writeFileSync(join(root, 'var/lib/macvlanctl/scan/eno1.json'), JSON.stringify({ schemaVersion: 1, scan: { ...lanScan(), parent: 'eno2' } }));
    expect(readScanCache(root, 'eno1')).toBeUndefined();
    writeFileSync(join(root, 'var/lib/macvlanctl/scan/eno1.json'), '{ half');
    expect(freshScan(root, 'eno1', T0)).toBeUndefined();
  });
});

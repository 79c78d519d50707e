/**
 * The address map, compared with golden files in test/golden/address-map/
 * (UPDATE_GOLDEN=1 rewrites them: review the diff before committing). The
 * lab scenario uses the fresh-host/lab-host addresses and the offers of a
 * real dnsmasq (test/fixtures/dhcp); the large subnets are made up to show
 * the two ways a big subnet stays compact.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AddressMapInput, type AddressMapOptions, CELL_CHAR, renderAddressMap } from '../../src/present/address-map.js';
import { estimateDhcpPool } from '../../src/plan/dhcp-pool.js';
import { fixture } from '../support/fixture-facts.js';

const GOLDEN = join(import.meta.dirname, '..', 'golden', 'address-map');
const update = process.env.UPDATE_GOLDEN === '1';

const offers = fixture('dhcp/dnsmasq-hash-12.txt')
  .trim()
  .split('\n')
  .map((l) => l.split(' ')[1]!);
const pool = estimateDhcpPool(
  offers.map((address) => ({ address, server: '198.51.100.1', clientMac: '02:00:00:00:00:01' })),
  '198.51.100.0/24',
)!;

/** A /24 as status draws it: one applied network (.192/27, shim .223, container .192) and a scan. */
const LAB: AddressMapInput = {
  subnet: '198.51.100.0/24',
  gateway: '198.51.100.1',
  host: ['198.51.100.24'],
  shims: ['198.51.100.223'],
  containers: ['198.51.100.192', '198.51.100.193'],
  // The scan sees the router, a NAS, a printer, two DHCP clients, our shim and container, and a squatter at .200.
  live: ['198.51.100.1', '198.51.100.5', '198.51.100.20', '198.51.100.116', '198.51.100.168', '198.51.100.223', '198.51.100.192', '198.51.100.200'],
  offers,
  pools: [pool],
  dockerRanges: ['198.51.100.192/27'],
};

/** Made-up /16 with a handful of hosts: empty rows collapse, cells stay one address each. */
const SPARSE16: AddressMapInput = {
  subnet: '203.0.0.0/16',
  gateway: '203.0.0.1',
  host: ['203.0.0.10'],
  live: ['203.0.0.1', '203.0.0.2', '203.0.7.77', '203.0.200.5'],
  dockerRanges: ['203.0.255.0/26'],
  shims: ['203.0.255.63'],
  containers: ['203.0.255.0'],
};

/** Made-up /16 with 300 live hosts spread over it and a big pool: cells widen. */
const BUSY16: AddressMapInput = {
  subnet: '203.0.0.0/16',
  gateway: '203.0.0.1',
  host: ['203.0.0.10'],
  live: Array.from({ length: 300 }, (_, i) => `203.0.${(i * 37) % 256}.${(i * 101) % 254 + 1}`),
  pools: [{ first: '203.0.16.0', last: '203.0.63.255' }],
  offers: ['203.0.20.7', '203.0.40.9', '203.0.61.200'],
  dockerRanges: ['203.0.240.0/20'],
  containers: ['203.0.240.1', '203.0.240.2'],
  shims: ['203.0.255.254'],
};

const SCENARIOS: [string, AddressMapInput, AddressMapOptions][] = [
  ['lab-24', LAB, {}],
  ['lab-24-color', LAB, { color: true }],
  ['lab-24-width32', LAB, { width: 32 }],
  ['small-28', { subnet: '198.51.100.16/28', gateway: '198.51.100.17', live: ['198.51.100.20'], host: ['198.51.100.18'] }, {}],
  ['sparse-16', SPARSE16, {}],
  ['busy-16', BUSY16, {}],
  ['ipv6', { subnet: '2001:db8:1::/64' }, {}],
];

describe('golden address maps', () => {
  it.each(SCENARIOS)('%s', (name, input, options) => {
    const text = renderAddressMap(input, options);
    const file = join(GOLDEN, `${name}.txt`);
    if (update) writeFileSync(file, text);
    expect(existsSync(file), `${file} is missing: run UPDATE_GOLDEN=1 npx vitest run test/unit/address-map.test.ts`).toBe(true);
    expect(text).toBe(readFileSync(file, 'utf8'));
  });
});

const grid = (text: string) => text.split('\n').filter((l) => /^\d/.test(l) && !l.includes('/'));

describe('address map rules', () => {
  it('one cell per address: the gateway, this host, shim, containers, a squatter and an offer in the Docker range', () => {
    const rows = grid(renderAddressMap(LAB));
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(['198.51.100.0', '198.51.100.64', '198.51.100.128', '198.51.100.192']);
    const cells = rows.map((r) => r.split(/\s+/)[1]).join('');
    expect(cells).toHaveLength(256);
    expect(cells[0]).toBe(CELL_CHAR.reserved);
    expect(cells[1]).toBe(CELL_CHAR.gateway);
    expect(cells[24]).toBe(CELL_CHAR.host);
    expect(cells[5]).toBe(CELL_CHAR.live);
    expect(cells[116]).toBe(CELL_CHAR.live); // a live host inside the pool shows as live
    expect(cells[101]).toBe(CELL_CHAR.offer);
    expect(cells[150]).toBe(CELL_CHAR.pool);
    expect(cells[192]).toBe(CELL_CHAR.container); // ours, although the scan saw it
    expect(cells[223]).toBe(CELL_CHAR.shim);
    expect(cells[200]).toBe(CELL_CHAR.conflict);
    expect(cells[197]).toBe(CELL_CHAR.conflict); // offered by the DHCP server, inside the Docker range
    expect(cells[210]).toBe(CELL_CHAR.docker);
    expect(cells[230]).toBe(CELL_CHAR.free);
    expect(cells[255]).toBe(CELL_CHAR.reserved);
  });

  it('every kind has its own character, so the map reads without colour', () => {
    expect(new Set(Object.values(CELL_CHAR)).size).toBe(Object.keys(CELL_CHAR).length);
    expect(renderAddressMap(LAB)).not.toMatch(/\x1b\[/); // eslint-disable-line no-control-regex
    expect(renderAddressMap(LAB, { color: true })).toMatch(/\x1b\[/); // eslint-disable-line no-control-regex
    expect(renderAddressMap(LAB, { color: true }).replace(/\x1b\[[0-9;]*m/g, '')).toBe(renderAddressMap(LAB)); // eslint-disable-line no-control-regex
  });

  it('fits 80 columns with 64 cells per row', () => {
    for (const [, input] of SCENARIOS) {
      for (const line of renderAddressMap(input).split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    }
  });

  it('a sparse /16 keeps one cell per address and collapses the empty rows', () => {
    const text = renderAddressMap(SPARSE16);
    expect(text).toMatch(/1 cell = 1 address/);
    expect(text).toMatch(/\.\.\. 28 empty rows \(203\.0\.0\.64-203\.0\.7\.63\)/);
    expect(grid(text).length).toBeLessThanOrEqual(16);
  });

  it('a busy /16 widens the cells and still shows every kind that is there', () => {
    const text = renderAddressMap(BUSY16);
    expect(text).toMatch(/1 cell = 64 addresses \(shows the most important\)/);
    const cells = grid(text).map((r) => r.split(/\s+/)[1]).join('');
    expect(cells).toHaveLength(1024);
    for (const k of ['gateway', 'live', 'offer', 'pool', 'docker', 'conflict'] as const) expect(cells).toContain(CELL_CHAR[k]);
    expect(grid(text).length).toBeLessThanOrEqual(16);
  });

  it('honours maxRows', () => {
    expect(grid(renderAddressMap(LAB, { maxRows: 2 })).length).toBeLessThanOrEqual(2);
    expect(renderAddressMap(LAB, { maxRows: 2 })).toMatch(/1 cell = 2 addresses/);
  });

  it('ignores what lies outside the subnet or cannot be read', () => {
    const text = renderAddressMap({ subnet: '198.51.100.0/28', live: ['203.0.113.5', 'nonsense', '2001:db8::1'], pools: [{ first: '198.51.100.200', last: '198.51.100.100' }] });
    expect(text).toBe(renderAddressMap({ subnet: '198.51.100.0/28' }));
  });
});

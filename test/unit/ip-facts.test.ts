import { describe, expect, it } from 'vitest';
import { formatCidr } from '../../src/net/address.js';
import { parseInterfaces, parseProcIpv6Routes, parseRoutes } from '../../src/gather/ip-facts.js';
import { fixture } from '../support/fixture-facts.js';

describe('ip -json parsing (real output from a lab namespace)', () => {
  it('reads kinds, masters, macvlan parents, aliases and addresses', () => {
    const ifs = parseInterfaces(fixture('ip/lab-host.addr.json'));
    const by = Object.fromEntries(ifs.map((i) => [i.name, i]));
    expect(by.lo!.kind).toBe('loopback');
    expect(by['br-lan']!.kind).toBe('bridge');
    expect(by.brp0).toMatchObject({ master: 'br-lan', masterKind: 'bridge' });
    expect(by['mynet-shim']).toMatchObject({ kind: 'macvlan', link: 'eno1', macvlanMode: 'bridge', alias: 'macvlanctl:mynet', up: true });
    expect(by.down1).toMatchObject({ up: false, operState: 'DOWN' });
    expect(by.eno1!.addresses.map((a) => a.prefix)).toEqual([24, 64, 64]);
  });
});

describe('IPv6 routes from /proc/net/ipv6_route', () => {
  it('gives the same routes as `ip -6 -json route show table main` in the same namespace', () => {
    const fromProc = parseProcIpv6Routes(fixture('ip/lab-host.proc-ipv6-route.txt'));
    const fromIp = parseRoutes(fixture('ip/lab-host.proc-ipv6-route.ip-json.json'), 6);
    const key = (r: { destination?: Parameters<typeof formatCidr>[0]; gateway?: { value: bigint }; device?: string; metric?: number }) =>
      `${r.destination ? formatCidr(r.destination) : 'default'} via ${r.gateway?.value.toString(16) ?? '-'} dev ${r.device} metric ${r.metric}`;
    expect(fromProc.map(key).sort()).toEqual(fromIp.map(key).sort());
    expect(fromProc.find((r) => r.destination === undefined)?.gateway?.value).toBe(0x20010db8000100000000000000000001n);
  });
});

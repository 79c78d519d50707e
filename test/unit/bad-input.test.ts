/**
 * Every bad input: exit code 2 and a message that says what is wrong and
 * how to fix it. Facts come from real `ip -json` output (fresh-host fixture:
 * eno1 at 198.51.100.24/24, gateway .1, 2001:db8:1::24/64).
 */
import { describe, expect, it } from 'vitest';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { MacvlanError } from '../../src/model/errors.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { hostFacts, liveHosts } from '../support/fixture-facts.js';

function refuse(name: string, flags: NetworkFlags, facts = hostFacts()): MacvlanError {
  try {
    computePlan([toDesired(flagsToRaw(name, flags))], facts);
  } catch (e) {
    if (e instanceof MacvlanError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const P = { parent: 'eno1' };

const cases: [string, string, NetworkFlags, RegExp][] = [
  ['prefix /33', 'lan', { ...P, subnet: ['198.51.100.0/33'] }, /--subnet: '198\.51\.100\.0\/33' .*\/33 is longer than the 32 bits/],
  ['IPv4 with two parts', 'lan', { ...P, subnet: ['10.1/8'] }, /four dot-separated numbers, it has 2/],
  ['octet over 255', 'lan', { ...P, gateway: ['198.51.100.300'] }, /--gateway: .*300 is more than 255/],
  ['leading dot', 'lan', { ...P, gateway: ['.300'] }, /--gateway: '\.300' is not a valid IPv4 address/],
  ['prefix not a number', 'lan', { ...P, subnet: ['198.51.100.0/x'] }, /prefix length '\/x' is not a number/],
  ['subnet without prefix', 'lan', { ...P, subnet: ['198.51.100.0'] }, /needs a prefix length/],
  ['host bits in subnet', 'lan', { ...P, subnet: ['198.51.100.7/24'] }, /host bits set; the network address of that subnet is 198\.51\.100\.0\/24/],
  ['host bits in ip-range', 'lan', { ...P, ipRange: ['198.51.100.200/27'] }, /--ip-range: .*network address of that subnet is 198\.51\.100\.192\/27/],
  ['gateway outside subnet', 'lan', { ...P, gateway: ['203.0.113.1'] }, /--gateway: gateway 203\.0\.113\.1 is outside the subnet 198\.51\.100\.0\/24/],
  ['ip-range outside subnet', 'lan', { ...P, ipRange: ['203.0.113.0/27'] }, /--ip-range: ip-range 203\.0\.113\.0\/27 is outside the subnet/],
  ['ip-range bigger than subnet', 'lan', { ...P, subnet: ['198.51.100.0/25'], ipRange: ['198.51.100.0/24'] }, /outside the subnet 198\.51\.100\.0\/25/],
  ['ip-range holds the gateway', 'lan', { ...P, ipRange: ['198.51.100.0/27'] }, /holds the gateway 198\.51\.100\.1/],
  ['ip-range holds the host', 'lan', { ...P, ipRange: ['198.51.100.16/28'] }, /holds this host's address 198\.51\.100\.24 on eno1/],
  ['ip-range holds an avoided range', 'lan', { ...P, ipRange: ['198.51.100.128/26'], avoid: ['198.51.100.100-198.51.100.150'] }, /holds 198\.51\.100\.100-198\.51\.100\.150 \(avoid 198\.51\.100\.100-198\.51\.100\.150\)/],
  ['ip-range holds a live host', 'lan', { ...P, ipRange: ['198.51.100.192/27'] }, /holds live host 198\.51\.100\.200/],
  ['ip-range is the whole subnet', 'lan', { ...P, ipRange: ['198.51.100.0/24'] }, /whole subnet; its route through the shim would cut this host off the LAN/],
  ['aux address outside subnet', 'lan', { ...P, ipRange: ['198.51.100.192/27'], auxAddress: ['nas=203.0.113.9'] }, /--aux-address nas=203\.0\.113\.9: aux address nas=203\.0\.113\.9 is outside the subnet/],
  ['aux address duplicated', 'lan', { ...P, ipRange: ['198.51.100.192/27'], auxAddress: ['a=198.51.100.50', 'b=198.51.100.50'] }, /aux address 198\.51\.100\.50 is given twice \(as 'a' and 'b'\)/],
  ['aux address equal to gateway', 'lan', { ...P, ipRange: ['198.51.100.192/27'], auxAddress: ['router=198.51.100.1'] }, /is the gateway; Docker reserves the gateway already/],
  ['aux name given twice', 'lan', { ...P, auxAddress: ['a=198.51.100.50', 'a=198.51.100.51'] }, /--aux-address a was given twice/],
  ['--aux-address without =IP', 'lan', { ...P, auxAddress: ['dns'] }, /--aux-address 'dns' must be NAME=IP, for example/],
  ['--aux-address with empty IP', 'lan', { ...P, auxAddress: ['dns='] }, /must be NAME=IP/],
  ['host address equal to gateway', 'lan', { ...P, ipRange: ['198.51.100.192/27'], hostAddress: ['198.51.100.1'] }, /host address 198\.51\.100\.1 is the gateway's address/],
  ['host address in an avoid range', 'lan', { ...P, ipRange: ['198.51.100.192/27'], hostAddress: ['198.51.100.120'], avoid: ['198.51.100.100-198.51.100.150'] }, /--host-address: host address 198\.51\.100\.120 is 198\.51\.100\.100-198\.51\.100\.150 \(avoid/],
  ['host address is this host', 'lan', { ...P, ipRange: ['198.51.100.192/27'], hostAddress: ['198.51.100.24'] }, /host address 198\.51\.100\.24 is this host's address/],
  ['host address outside subnet', 'lan', { ...P, ipRange: ['198.51.100.192/27'], hostAddress: ['203.0.113.5'] }, /host address 203\.0\.113\.5 is outside the subnet/],
  ['reversed avoid range', 'lan', { ...P, avoid: ['198.51.100.150-198.51.100.100'] }, /range '198\.51\.100\.150-198\.51\.100\.100' is reversed .*did you mean 198\.51\.100\.100-198\.51\.100\.150/],
  ['avoid mixing families', 'lan', { ...P, avoid: ['198.51.100.10-2001:db8::5'] }, /mixes IPv4 and IPv6/],
  ['host address given twice for IPv6', 'lan', { ...P, subnet: ['2001:db8:1::/64'], hostAddress: ['2001:db8:1::5', '2001:db8:1::6'] }, /--host-address was given twice for IPv6/],
  ['IPv6 aux address without an IPv6 subnet', 'lan', { ...P, ipRange: ['198.51.100.192/27'], auxAddress: ['nas=2001:db8:1::9'] }, /aux address nas is IPv6 but the network has no IPv6 subnet/],
  ['subnet given twice for IPv4', 'lan', { ...P, subnet: ['198.51.100.0/24', '203.0.113.0/24'] }, /--subnet was given twice for IPv4/],
  ['missing parent lists interfaces', 'lan', { parent: 'eth0' }, /interface 'eth0' does not exist on this host\. Interfaces here: eno1/],
  ['near-miss parent suggests', 'lan', { parent: 'eno2' }, /Did you mean 'eno1'\?/],
  ['loopback parent', 'lan', { parent: 'lo' }, /'lo' is the loopback interface/],
  ['parent name too long', 'lan', { parent: 'averyveryverylongname' }, /--parent: interface name 'averyveryverylongname' is not valid: it is 21 bytes long; Linux allows at most 15/],
  ['parent name with a slash', 'lan', { parent: 'eno/1' }, /contains '\/', ':' or white space/],
  ['parent name with a space', 'lan', { parent: 'eno 1' }, /white space/],
  ['shim name too long', 'lan', { ...P, shim: 'this-is-a-long-shim' }, /--shim: interface name .* 19 bytes long/],
  ['network name Docker would reject', '-lan', { ...P }, /network name '-lan' is not valid: it must start with a letter or digit/],
  ['network name with a slash', 'my/lan', { ...P }, /network name 'my\/lan' is not valid/],
  ['unknown persist backend', 'lan', { ...P, persist: 'netplan' }, /unknown persist backend 'netplan'; choose one of auto, networkd, networkmanager, ifupdown, systemd, none/],
  ['unknown mode', 'lan', { ...P, mode: 'bridged' }, /unknown macvlan mode 'bridged'; choose one of bridge, private, vepa, passthru/],
  ['ip-range auto with bad size', 'lan', { ...P, ipRange: ['auto/40'] }, /block size \/40 must be between \/1 and \/32/],
  ['ip-range auto typo', 'lan', { ...P, ipRange: ['automatic'] }, /'automatic' is not understood; write 'auto', 'auto\/N'/],
  ['ip-range auto not smaller than subnet', 'lan', { ...P, ipRange: ['auto/24'] }, /auto\/24 is not smaller than the subnet/],
  ['no free block names the largest free ones', 'lan', { ...P, avoid: ['198.51.100.2-198.51.100.250'] }, /no free \/27 block is left in 198\.51\.100\.0\/24\. The largest free blocks are 198\.51\.100\.252\/31.*shrink the router's DHCP pool/],
  ['IPv6 zone index', 'lan', { ...P, gateway: ['fe80::1%eno1'] }, /zone indexes/],
];

describe('bad input is refused with exit code 2 and a specific message', () => {
  // The control: every case changes one field of P, so P itself must plan. Were it refused, each case
  // below could pass on P's refusal (whose message then need only happen to match), not its own.
  it('the flags every case starts from are accepted', () => {
    expect(computePlan([toDesired(flagsToRaw('lan', P))], hostFacts()).networks[0]!.parent).toBe('eno1');
  });

  for (const [title, name, flags, message] of cases) {
    it(title, () => {
      const facts = title === 'ip-range holds a live host' ? hostFacts('fresh-host', liveHosts('198.51.100.200')) : hostFacts();
      const err = refuse(name, flags, facts);
      expect(err.message).toMatch(message);
      expect(err.exitCode).toBe(2);
    });
  }

  it('refuses IPv4 and IPv6 mixed in one field', () => {
    const raw = { name: 'lan', parent: 'eno1', ipv6: { subnet: '198.51.100.0/24' }, origins: { 'ipv6.subnet': 'macvlanctl.yaml:5:15 networks.lan.ipv6.subnet' } };
    expect(() => toDesired(raw)).toThrow(/macvlanctl\.yaml:5:15 networks\.lan\.ipv6\.subnet: '198\.51\.100\.0\/24' is an IPv4 value in an IPv6 field/);
    const raw2 = { name: 'lan', subnet: '2001:db8::/64', gateway: '198.51.100.1', origins: {} };
    expect(() => toDesired(raw2)).toThrow(/is an IPv6 value in an IPv4 field/);
  });

  it('reports several problems at once', () => {
    const e = refuse('lan', { ...P, gateway: ['198.51.100.300'], persist: 'nope', mode: 'x' });
    expect(e.message).toMatch(/3 problems/);
    expect(e.message).toMatch(/300 is more than 255/);
    expect(e.message).toMatch(/unknown persist backend/);
    expect(e.message).toMatch(/unknown macvlan mode/);
    expect(e.exitCode).toBe(2);
  });
});

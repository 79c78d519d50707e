/**
 * The planner never picks an IPv6 address Docker 20.10's IPAM cannot hold
 * (src/plan/docker-ipam6.ts; the engine's behaviour is pinned by
 * test/e2e/docker-ipam6.e2e.test.ts), and refuses an explicit one with the reason.
 */
import { describe, expect, it } from 'vitest';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { parseCidr } from '../../src/net/address.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { dockerUnholdable6, whyDockerCannotHold6 } from '../../src/plan/docker-ipam6.js';
import { hostFacts } from '../support/fixture-facts.js';
import { refusalOf } from '../support/refusal.js';

const V4: NetworkFlags = { parent: 'eno1', ipRange: ['198.51.100.192/27'] };
const plan = (flags: NetworkFlags) => computePlan([toDesired(flagsToRaw('v6net', { ...V4, ...flags, ipRange: [...(V4.ipRange ?? []), ...(flags.ipRange ?? [])] }))], hostFacts());
const refusal = (flags: NetworkFlags) => refusalOf(() => plan(flags));

describe('what Docker can hold in an IPv6 subnet', () => {
  it('a /64 loses its last address; longer prefixes lose nothing; shorter ones all but their first /64', () => {
    expect(dockerUnholdable6(parseCidr('2001:db8:1::/64'))).toEqual({ start: parseCidr('2001:db8:1::ffff:ffff:ffff:ffff/128').base, end: parseCidr('2001:db8:1::ffff:ffff:ffff:ffff/128').base });
    expect(dockerUnholdable6(parseCidr('2001:db8:1::/65'))).toBeUndefined();
    expect(dockerUnholdable6(parseCidr('2001:db8:1::/112'))).toBeUndefined();
    const short = dockerUnholdable6(parseCidr('2001:db8::/48'))!;
    expect(short.start).toBe(parseCidr('2001:db8::ffff:ffff:ffff:ffff/128').base);
    expect(short.end).toBe(parseCidr('2001:db8:0:ffff:ffff:ffff:ffff:ffff/128').base);
    expect(whyDockerCannotHold6(parseCidr('2001:db8::/48'), parseCidr('2001:db8:0:5::7/128').base)).toMatch(/would hand out 2001:db8::7 instead/);
  });
});

describe('the planner and Docker IPv6 limits', () => {
  it('auto on a /64 carves the highest /112 below the last address, and the shim takes its top', () => {
    const n = plan({ subnet: ['2001:db8:1::/64'] }).networks[0]!;
    expect(n.ipv6?.ipRange).toBe('2001:db8:1:0:ffff:ffff:fffe:0/112');
    expect(n.ipv6?.auxAddresses.host).toBe('2001:db8:1:0:ffff:ffff:fffe:ffff');
  });

  it('auto on a /48 stays inside its first /64', () => {
    const n = plan({ subnet: ['2001:db8::/48'], gateway: ['2001:db8::1'] }).networks[0]!;
    expect(n.ipv6?.ipRange).toBe('2001:db8::ffff:ffff:fffe:0/112');
  });

  it('auto on a /104 may use its last address (Docker holds it)', () => {
    const n = plan({ subnet: ['2001:db8:1::/104'], gateway: ['2001:db8:1::1'] }).networks[0]!;
    expect(n.ipv6?.ipRange).toBe('2001:db8:1::ff:0/112');
    expect(n.ipv6?.auxAddresses.host).toBe('2001:db8:1::ff:ffff');
  });

  it('refuses an explicit range holding the last address of a /64, exit 2, with the reason', () => {
    const e = refusal({ subnet: ['2001:db8:1::/64'], ipRange: ['2001:db8:1::ffff:ffff:ffff:0/112'] });
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/ip-range 2001:db8:1:0:ffff:ffff:ffff:0\/112 holds an address Docker cannot use: 2001:db8:1:0:ffff:ffff:ffff:ffff is the last address of the \/64 2001:db8:1::\/64, which Docker's IPAM cannot hold/);
    expect(e.message).not.toMatch(/problems/);
  });

  it('refuses an explicit host address that Docker cannot hold', () => {
    const e = refusal({ subnet: ['2001:db8:1::/64'], ipRange: ['2001:db8:1::c000/116'], hostAddress: ['2001:db8:1::ffff:ffff:ffff:ffff'] });
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/host address 2001:db8:1:0:ffff:ffff:ffff:ffff is not usable/);
  });

  it('refuses a range outside the first /64 of a shorter subnet: Docker would hand out other addresses', () => {
    const e = refusal({ subnet: ['2001:db8::/48'], gateway: ['2001:db8::1'], ipRange: ['2001:db8:0:5::/112'] });
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/lies outside the first \/64 of 2001:db8::\/48 \(2001:db8::\/64\).*would hand out 2001:db8::/);
  });

  it('accepts a range just below the last address', () => {
    const n = plan({ subnet: ['2001:db8:1::/64'], ipRange: ['2001:db8:1::ffff:ffff:fffe:0/112'] }).networks[0]!;
    expect(n.ipv6?.ipRange).toBe('2001:db8:1:0:ffff:ffff:fffe:0/112');
  });
});

/** What the LAN checks share: the skip when the LAN was not probed, and the network's subnet and range as parsed values. */
import { type Cidr, parseCidr } from '../../net/address.js';
import { ipRange, ipRange6, subnet, subnet6 } from '../expected.js';
import type { CheckResult, DoctorNetworkFacts, LanProbeFacts } from '../types.js';

export type LanDone = Extract<LanProbeFacts, { done: true }>;

/** The probe's facts, or the skip result to return when the LAN was not probed. */
export function lanOrSkip(f: DoctorNetworkFacts, id: string, title: string): { lan: LanDone } | { skip: CheckResult } {
  if (f.lan.done) return { lan: f.lan };
  return { skip: { id, title, verdict: 'skip', detail: `the LAN was not probed: ${f.lan.reason}`, ...(f.lan.fix ? { fix: f.lan.fix } : {}) } };
}

function cidr(text: string | undefined): Cidr | undefined {
  if (!text) return undefined;
  try {
    return parseCidr(text);
  } catch {
    return undefined;
  }
}

export function subnetCidr(f: DoctorNetworkFacts): Cidr | undefined {
  return cidr(subnet(f));
}

/** The IPv4 ip-range, or the whole subnet when Docker has none (then it hands out any address of it). */
export function rangeCidr(f: DoctorNetworkFacts): Cidr | undefined {
  return cidr(ipRange(f)) ?? subnetCidr(f);
}

/** The IPv6 ip-range (or subnet), for a dual-stack network. */
export function range6Cidr(f: DoctorNetworkFacts): Cidr | undefined {
  return cidr(ipRange6(f)) ?? cidr(subnet6(f));
}

/**
 * The host shim: exists, is ours, has its fixed MAC, its address, is up, and
 * routes the ip-range. What is missing is what the planner would change on
 * the host side (hostSideChanges), so doctor's findings and `up`/`apply`'s
 * repair are the same list.
 */
import { MacvlanError } from '../../model/errors.js';
import type { Change } from '../../model/plan.js';
import { hostSideChanges } from '../../plan/plan-network.js';
import { expectedNetwork } from '../expected.js';
import type { Check } from '../types.js';

function finding(c: Change): string {
  switch (c.kind) {
    case 'shim-link':
      return c.action === 'create' ? `${c.interface} does not exist` : `${c.interface} must be re-created (${(c.differences ?? []).join('; ')})`;
    case 'shim-address':
      return c.action === 'delete' ? `${c.interface} still holds the stale address ${c.address}` : `${c.interface} lacks its address ${c.address}`;
    case 'shim-mtu':
      return `${c.interface} has MTU ${c.before.mtu}, its parent's is ${c.after.mtu}`;
    case 'shim-arp-notify':
      return `${c.interface} has arp_notify off (it is not announced by gratuitous ARP when it comes up)`;
    case 'shim-up':
      return `${c.interface} is down`;
    case 'shim-route':
      return c.action === 'delete' ? `${c.interface} still routes ${c.destination}, not this network's range` : `the route ${c.destination} dev ${c.interface} is missing`;
    case 'shim-proxy-ndp':
      return c.action === 'delete' ? `${c.interface} still answers for ${c.address}, which the parent no longer has` : `${c.interface} does not answer for the host's address ${c.address} (proxy NDP)`;
    default:
      return c.summary;
  }
}

export const shimCheck: Check = (f) => {
  const id = 'shim';
  const expected = expectedNetwork(f);
  if (!expected) return { id, title: 'host shim', verdict: 'skip', detail: 'nothing says what the shim should be (no record of apply, no Docker labels, no -f)' };
  const n = expected.network;
  if (!n.shim) {
    return { id, title: 'host shim', verdict: 'skip', detail: 'the network has no host access (no shim): by design, the host and its containers cannot reach each other' };
  }
  const s = n.shim;
  const title = `host shim ${s.interface}`;
  const repair = f.record ? f.commands.up : f.commands.apply;
  let pending: Change[];
  try {
    pending = hostSideChanges(n, f.host).filter((c) => c.action !== 'noop');
  } catch (e) {
    if (!(e instanceof MacvlanError)) throw e;
    return { id, title, verdict: 'fail', detail: e.message, fix: e.code === 'PLAN_UNSAFE' ? `rename or remove that interface, then ${repair}` : `fix the parent first (see the parent check), then ${repair}` };
  }
  if (pending.length > 0) {
    // A missing link takes its address, state and route with it: name the cause only.
    const link = pending.find((c) => c.kind === 'shim-link');
    const findings = link ? [finding(link)] : pending.map(finding);
    return {
      id,
      title,
      verdict: 'fail',
      detail: `${findings.join('; ')}: the host ${link ? 'cannot reach' : 'may not reach'} its containers, nor they the host`,
      fix: repair,
      data: { pending: pending.map((c) => c.summary) },
    };
  }
  const routes = s.routes.join(', ');
  return { id, title, verdict: 'pass', detail: `${s.interface} up, ${s.address}/32${s.address6 ? ` and ${s.address6}/128` : ''}, MAC ${s.mac}, route ${routes}` };
};

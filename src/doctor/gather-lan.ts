/**
 * The LAN probe behind doctor's LAN checks (I/O):
 *
 * - one scan of the network's subnet (live hosts and DHCP offers) with the
 *   scan engine (src/gather/lan-scan.ts): a macvlan child of the parent in a
 *   throwaway namespace, ARP probes with sender 0.0.0.0 — the host's own
 *   neighbour table and addresses are never used;
 * - when the sweep did not hear the gateway, the gateway alone is asked again
 *   (one ARP request per sweep, and one lost frame must not read as "the LAN
 *   drops macvlan frames");
 * - meanwhile the host asks the gateway itself, through the parent's own MAC
 *   (one ping: the host talks to its gateway anyway), and its neighbour entry
 *   for the gateway on the parent is read.
 *
 * Every failure becomes `done: false` with the reason: doctor reports it as a
 * skipped check and goes on.
 */
import { MacvlanError } from '../model/errors.js';
import type { HostFacts } from '../model/facts.js';
import type { LanScan } from '../model/lan.js';
import { formatCidr, parseCidr } from '../net/address.js';
import { MAX_SCAN_PREFIX, ipv6NotAskable } from '../probe/scan-request.js';
import { reachable } from '../probe/reachability.js';
import { hasNetAdmin } from '../system/capabilities.js';
import { run } from '../system/exec.js';
import { lanIdentityOf, writeScanCache } from '../gather/scan-cache.js';
import type { LanProbeFacts, NeighbourFact } from './types.js';

export interface LanProbeRequest {
  parent: string;
  subnet: string;
  /** A dual-stack network's IPv6 subnet: its neighbours are asked too (all-nodes echo). */
  subnet6?: string;
  gateway: string;
}

export interface LanProbeDeps {
  scanLan: (o: { parent: string; subnet: string; subnet6?: string; rate: number; live: boolean; dhcp: boolean; dhcpWaitMs: number; ipFacts?: Pick<HostFacts, 'interfaces' | 'routes'> }) => Promise<LanScan>;
  /** Under --root: where the scan is cached for status and plan. */
  root: string;
  log: (line: string) => void;
}

/** The same pace and DHCP wait as `macvlanctl scan` and plan's scan. */
const RATE = 2000;
const DHCP_WAIT_MS = 3500;
/** The gateway is asked this many times more when the sweep did not hear it. */
const GATEWAY_RETRIES = 2;

const NOT_ROOT_FIX = 'run doctor as root (sudo) to probe the LAN; --no-scan skips these checks';

/** The entry for `address` in `ip -json neigh show …` output (pure); undefined when there is none. */
export function parseNeighbour(json: string, address: string): NeighbourFact | undefined {
  const entries = JSON.parse(json.trim() || '[]') as { dst?: string; lladdr?: string; state?: string[] }[];
  const e = entries.find((x) => x.dst === undefined || x.dst === address);
  if (!e) return undefined;
  return { state: e.state ?? [], ...(e.lladdr ? { mac: e.lladdr.toLowerCase() } : {}) };
}

/** The host's neighbour entry for `address` on `device`. */
export async function neighbourEntry(address: string, device: string): Promise<NeighbourFact | undefined> {
  const { stdout } = await run('ip', ['-json', 'neigh', 'show', 'to', address, 'dev', device]);
  return parseNeighbour(stdout, address);
}

/** The host asks the gateway itself, then its neighbour table says whether the gateway answered the parent's own MAC. */
async function parentNeighbour(req: LanProbeRequest): Promise<NeighbourFact | undefined> {
  try {
    await reachable(req.gateway, 1);
    return await neighbourEntry(req.gateway, req.parent);
  } catch {
    return undefined;
  }
}

function reason(e: unknown): string {
  return e instanceof MacvlanError || e instanceof Error ? e.message : String(e);
}

/**
 * The subnet the sweep covers: the network's, or — when that is larger than
 * the /16 one scan takes — the /16 that holds the ip-range (where squatters
 * matter); the gateway is asked on its own anyway.
 */
export function sweepSubnet(subnet: string, ipRange: string | undefined): string {
  const s = parseCidr(subnet);
  if (s.prefix >= MAX_SCAN_PREFIX || !ipRange) return subnet;
  const r = parseCidr(ipRange);
  if (r.prefix < MAX_SCAN_PREFIX) return subnet; // the scan refuses it, and says so
  const size = 1n << BigInt(32 - MAX_SCAN_PREFIX);
  return formatCidr({ family: 4, base: r.base - (r.base % size), prefix: MAX_SCAN_PREFIX });
}

/**
 * The IPv6 subnet to ask the neighbours of, when the scan can (the parent has
 * an address or route in it); else none, with a note: the IPv4 checks must not
 * be lost to an IPv6 subnet that is not on the parent.
 */
function askable6(req: LanProbeRequest, sweep: string, ipFacts: Pick<HostFacts, 'interfaces' | 'routes'>, log: (line: string) => void): string | undefined {
  if (!req.subnet6) return undefined;
  const why = ipv6NotAskable(ipFacts.interfaces, ipFacts.routes, { parent: req.parent, subnet: sweep, subnet6: req.subnet6 });
  if (why) log(`note: IPv6 neighbours are not asked: ${why}`);
  return why ? undefined : req.subnet6;
}

export async function probeLan(req: LanProbeRequest & { ipRange?: string }, facts: HostFacts, deps: LanProbeDeps): Promise<LanProbeFacts> {
  if (!hasNetAdmin()) {
    return { done: false, reason: 'probing the LAN needs root (CAP_NET_ADMIN: a namespace and a macvlan), and this process does not have it', fix: NOT_ROOT_FIX };
  }
  const ipFacts = { interfaces: facts.interfaces, routes: facts.routes };
  const subnet = sweepSubnet(req.subnet, req.ipRange);
  deps.log(`Probing the LAN on ${req.parent} (${subnet}) for live hosts and DHCP servers (a few seconds; --no-scan skips it)…`);
  const neighbour = parentNeighbour(req);
  let scan: LanScan;
  try {
    const subnet6 = askable6(req, subnet, ipFacts, deps.log);
    scan = await deps.scanLan({ parent: req.parent, subnet, ...(subnet6 ? { subnet6 } : {}), rate: RATE, live: true, dhcp: true, dhcpWaitMs: DHCP_WAIT_MS, ipFacts });
  } catch (e) {
    await neighbour;
    const notRoot = e instanceof MacvlanError && e.code === 'NOT_PERMITTED';
    return { done: false, reason: `the scan failed: ${reason(e)}`, fix: notRoot ? NOT_ROOT_FIX : `see sudo macvlanctl scan --parent ${req.parent} --subnet ${subnet}; --no-scan skips these checks` };
  }
  let asked = 1;
  let answer = scan.live?.find((h) => h.address === req.gateway);
  for (let i = 0; !answer && i < GATEWAY_RETRIES; i++) {
    asked++;
    try {
      const again = await deps.scanLan({ parent: req.parent, subnet: `${req.gateway}/32`, rate: 10, live: true, dhcp: false, dhcpWaitMs: DHCP_WAIT_MS, ipFacts });
      answer = again.live?.find((h) => h.address === req.gateway);
    } catch (e) {
      deps.log(`warning: asking the gateway ${req.gateway} again failed: ${reason(e)}`);
      break;
    }
  }
  const pn = await neighbour;
  if (subnet === req.subnet) {
    try {
      // Marked with the LAN it saw (the gateway's MAC), so plan and apply never take it for another LAN's.
      writeScanCache(deps.root, scan, lanIdentityOf(scan, req.gateway, pn?.mac));
    } catch (e) {
      deps.log(`warning: could not cache the scan of ${req.parent}: ${reason(e)}`);
    }
  }
  return {
    done: true,
    scan,
    gateway: req.gateway,
    gatewayAsked: asked,
    ...(answer ? { gatewayAnswer: { mac: answer.mac } } : {}),
    ...(pn ? { parentNeighbour: pn } : {}),
  };
}

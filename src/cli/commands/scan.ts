/**
 * `macvlanctl scan`: live hosts and DHCP servers on the parent's LAN, the
 * address map, and the ip-range `apply --ip-range auto` would take now.
 * gather → scan (src/gather/lan-scan.ts) → pure summary → present.
 */
import { flagsToRaw } from '../../config/flags.js';
import { toDesired } from '../../config/to-desired.js';
import { MacvlanError } from '../../model/errors.js';
import type { HostFacts } from '../../model/facts.js';
import type { LanScan } from '../../model/lan.js';
import { type IpAddress, cidrContains, formatAddress, formatCidr, parseCidr } from '../../net/address.js';
import { computePlan } from '../../plan/compute-plan.js';
import { type ScanProgress, scanLan } from '../../gather/lan-scan.js';
import { checkScanNumbers, numberFlag, parentSubnet6, resolveScanTarget, splitScanSubnets } from '../../probe/scan-request.js';
import { type AddressMapInput, renderAddressMap } from '../../present/address-map.js';
import { gatherHostFacts } from '../../gather/gather-facts.js';
import { gatherIpFacts } from '../../gather/host-facts.js';
import { cacheScan } from '../../gather/lan-for-plan.js';
import { colors as c } from '../../present/colors.js';
import { jsonEnvelope, log } from '../output.js';
import { requireNetAdmin } from '../preflight.js';

export interface ScanOptions {
  parent?: string;
  /** --subnet, once per family (commander collects them). */
  subnet?: string[] | string;
  /** Commander gives flag values as text. */
  rate?: string | number;
  /** false with --no-dhcp */
  dhcp?: boolean;
  /** false with --no-live */
  live?: boolean;
  /** Seconds, as text. */
  dhcpWait?: string | number;
  root?: string;
  dockerHost?: string;
  json?: boolean;
}

/** What `scan --json` prints as `result`: the scan, plus what follows from it. */
export interface ScanResult extends LanScan {
  /** The ip-range `apply --ip-range auto` would take on this LAN now; absent when none could be found (see suggestedIpRangeNote). */
  suggestedIpRange?: string;
  suggestedIpRangeNote?: string;
  warnings: string[];
  /** What the results cannot show (e.g. only one address per IPv6 host); always there in `scan --json`. */
  notes?: string[];
}

/** Name of the trial network whose auto range is the suggestion (never created). */
const TRIAL_NETWORK = 'macvlanctl-scan';

/** The auto ip-range the planner would carve with this scan, or why there is none. Pure. */
export function suggestIpRange(scan: LanScan, facts: HostFacts): { range?: string; note?: string } {
  try {
    const desired = toDesired(flagsToRaw(TRIAL_NETWORK, { parent: scan.parent, subnet: [scan.subnet], ipRange: ['auto'] }));
    const plan = computePlan([desired], { ...facts, lan: { scans: [scan], skipped: [] } });
    const range = plan.networks[0]?.ipRange;
    if (!range) return { note: 'the planner placed no IPv4 range' };
    const partial = scan.live === undefined ? ' (live hosts were not scanned)' : scan.dhcp === undefined ? ' (DHCP was not probed)' : '';
    return { range, note: `what apply --ip-range auto would take now: clear of the gateway, this host, live hosts, DHCP offers and pool, other Docker ranges${partial}` };
  } catch (e) {
    return { note: e instanceof MacvlanError ? e.message : String(e) };
  }
}

export function scanWarnings(scan: LanScan, dhcpWaitMs: number): string[] {
  const w: string[] = [];
  const servers = scan.dhcp?.servers ?? [];
  if (servers.length > 1) {
    w.push(
      `${servers.length} DHCP servers answered (${servers.map((s) => s.address).join(', ')}): a LAN normally has one, so one of them is probably a rogue server (a second router, a misconfigured Pi-hole or VM); clients get addresses from whichever answers first`,
    );
  }
  if (scan.subnet6 && scan.ipv6Failure) w.push(`IPv6 neighbours in ${scan.subnet6} were not asked: ${scan.ipv6Failure}`);
  const offers = scan.dhcp?.offers.length ?? 0;
  if (scan.dhcp?.pool?.confidence === 'low' && offers > 0 && offers < 3) {
    // dnsmasq (and so Pi-hole, OpenWrt) ping-checks each address for 3 s before offering it, one client at a time.
    w.push(
      `only ${offers} DHCP offer(s) within ${dhcpWaitMs / 1000} s, so the pool is a rough guess: a server that ping-checks each address before offering it answers one client every 3 s or so; for a surer estimate run the scan again with --dhcp-wait 20 (plan and apply use the newest scan for 5 minutes), or give the pool with --avoid`,
    );
  }
  if (scan.dhcp && servers.length === 0) {
    w.push(`no DHCP server answered within ${dhcpWaitMs / 1000} s: either there is none on this LAN, or it is slow (try --dhcp-wait 8), or the network drops frames from the scan's own MAC addresses`);
  }
  return w;
}

/** What a reader of the IPv6 results must know about them. */
export function scanNotes(scan: LanScan): string[] {
  if (scan.live6 === undefined) return [];
  return [
    `IPv6: a host answers the all-nodes echo from one address only, the one it would use to reach the probe; its other addresses in ${scan.subnet6} (further static or privacy addresses) are not seen`,
  ];
}

/** The address map's input: this host, the gateway, what the scan saw, Docker's ranges and containers on the parent. Pure. */
export function scanMapInput(scan: LanScan, facts: HostFacts | undefined): AddressMapInput {
  const subnet = parseCidr(scan.subnet);
  const inSubnet = (a: IpAddress) => a.family === 4 && cidrContains(subnet, a);
  const input: AddressMapInput = { subnet: scan.subnet };
  if (scan.live) input.live = scan.live.map((h) => h.address);
  if (scan.dhcp) {
    input.offers = scan.dhcp.offers.map((o) => o.address);
    if (scan.dhcp.pool) input.pools = [scan.dhcp.pool];
  }
  if (!facts) return input;
  const host: string[] = [];
  const shims: string[] = [];
  for (const i of facts.interfaces) {
    const isShim = i.kind === 'macvlan' && i.link === scan.parent;
    for (const a of i.addresses) if (inSubnet(a.address)) (isShim ? shims : host).push(formatAddress(a.address));
  }
  input.host = host;
  input.shims = shims;
  const gw = facts.routes.find((r) => r.family === 4 && r.destination === undefined && r.gateway && inSubnet(r.gateway));
  if (gw?.gateway) input.gateway = formatAddress(gw.gateway);
  if (facts.docker.available) {
    const ranges: string[] = [];
    const containers: string[] = [];
    for (const d of facts.docker.networks) {
      if (d.driver !== 'macvlan' || d.configOnly || d.parent !== scan.parent) continue;
      for (const s of d.subnets) if (s.ipRange?.family === 4) ranges.push(formatCidr(s.ipRange));
      for (const ct of d.containers) if (ct.ipv4 && inSubnet(ct.ipv4)) containers.push(formatAddress(ct.ipv4));
    }
    input.dockerRanges = ranges;
    input.containers = containers;
  }
  return input;
}

/** The IPv4 default route's gateway when it lies in the scanned subnet (through the parent, if one does). */
function scanGateway(routes: HostFacts['routes'], scan: LanScan): string | undefined {
  const subnet = parseCidr(scan.subnet);
  const gws = routes.filter((r) => r.family === 4 && r.destination === undefined && r.gateway && cidrContains(subnet, r.gateway));
  const gw = gws.find((r) => r.device === scan.parent) ?? gws[0];
  return gw?.gateway ? formatAddress(gw.gateway) : undefined;
}

/** The IPv6 default route's gateway when it lies in the probed subnet (a router known only by its link-local address is not). */
function gateway6Of(facts: HostFacts, scan: LanScan): string | undefined {
  if (!scan.subnet6) return undefined;
  const subnet6 = parseCidr(scan.subnet6);
  const gw = facts.routes.find((r) => r.family === 6 && r.destination === undefined && r.gateway && cidrContains(subnet6, r.gateway));
  return gw?.gateway ? formatAddress(gw.gateway) : undefined;
}

function duration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** The human presentation of a scan. Pure (colour through `c`, which is off without a terminal). */
export function presentScan(r: ScanResult, map: string | undefined, gateway?: string, gateway6?: string): string {
  const out: string[] = [];
  out.push(`${c.bold(`LAN scan of ${r.parent}`)} ${r.subnet}   ${(r.durationMs / 1000).toFixed(2)} s`);
  if (r.live) {
    out.push('', `${c.bold('Live hosts')} (${r.live.length}, answered ARP)`);
    if (r.live.length === 0) out.push('  none');
    const server = new Set(r.dhcp?.servers.map((s) => s.address) ?? []);
    for (const h of r.live) {
      const notes = [h.address === gateway ? 'gateway' : '', server.has(h.address) ? 'DHCP server' : ''].filter(Boolean);
      out.push(`  ${h.address.padEnd(16)} ${h.mac}${notes.length ? `  ${c.dim(notes.join(', '))}` : ''}`);
    }
  }
  if (r.live6) {
    out.push('', `${c.bold(`IPv6 neighbours in ${r.subnet6}`)} (${r.live6.length}, answered an all-nodes echo)`);
    if (r.live6.length === 0) out.push('  none');
    const v4ByMac = new Map((r.live ?? []).map((h) => [h.mac, h.address]));
    const width = Math.max(16, ...r.live6.map((h) => h.address.length), ...(r.others6 ?? []).map((h) => h.address.length));
    const row = (h: { address: string; mac: string }, extra: string[]) => {
      const notes = [...extra, v4ByMac.has(h.mac) ? `also ${v4ByMac.get(h.mac)}` : ''].filter(Boolean);
      return `  ${h.address.padEnd(width)} ${h.mac}${notes.length ? `  ${c.dim(notes.join(', '))}` : ''}`;
    };
    for (const h of r.live6) out.push(row(h, [h.address === gateway6 ? 'gateway' : '']));
    if (r.others6?.length) {
      out.push(`  ${c.dim(`answered from outside ${r.subnet6} (link-local or another prefix; not in the way of a range):`)}`);
      for (const h of r.others6) out.push(row(h, []));
    }
  }
  if (r.dhcp) {
    out.push('', `${c.bold('DHCP servers')} (${r.dhcp.servers.length})`);
    for (const s of r.dhcp.servers) {
      const offers = r.dhcp.offers.filter((o) => o.server === s.address);
      out.push(`  ${s.address.padEnd(16)} ${s.mac ?? ''}`.trimEnd());
      out.push(`    offered  ${offers.map((o) => o.address).join(', ') || 'nothing to our clients'}`);
      const o = offers[0];
      if (o) {
        const facts = [
          o.leaseSeconds !== undefined ? `lease ${duration(o.leaseSeconds)}` : '',
          o.subnetMask ? `mask ${o.subnetMask}` : '',
          o.routers?.length ? `router ${o.routers.join(', ')}` : '',
          o.dns?.length ? `DNS ${o.dns.join(', ')}` : '',
        ].filter(Boolean);
        if (facts.length) out.push(`    ${facts.join('   ')}`);
      }
    }
    if (r.dhcp.pool) out.push(`  pool     ${r.dhcp.pool.first}–${r.dhcp.pool.last} (${r.dhcp.pool.confidence} confidence): ${r.dhcp.pool.explanation}`);
  }
  if (map) out.push('', map.trimEnd());
  out.push('');
  if (r.suggestedIpRange) out.push(`${c.bold('Suggested ip-range')} ${c.green(r.suggestedIpRange)}  ${c.dim(r.suggestedIpRangeNote ?? '')}`);
  else out.push(`${c.bold('Suggested ip-range')} none: ${r.suggestedIpRangeNote ?? 'unknown'}`);
  for (const w of r.warnings) out.push(c.yellow(`warning: ${w}`));
  for (const n of r.notes ?? []) out.push(c.dim(`note: ${n}`));
  return `${out.join('\n')}\n`;
}

/** A one-line progress bar on stderr, only on a terminal; then, while DHCP offers are awaited, says so. */
function progressBar(dhcpWaitMs: number | undefined): { start: () => void; update: (p: ScanProgress) => void; done: () => void } {
  if (!process.stderr.isTTY) return { start: () => undefined, update: () => undefined, done: () => undefined };
  let shown = false;
  const show = (text: string) => {
    process.stderr.write(`\r\x1b[K${text}`);
    shown = true;
  };
  const waiting = dhcpWaitMs === undefined ? '' : `waiting ${dhcpWaitMs / 1000} s for DHCP offers`;
  return {
    start() {
      if (waiting) show(`  ${waiting}…`);
    },
    update(p) {
      const width = 30;
      const filled = Math.round((p.sent / Math.max(1, p.total)) * width);
      const bar = `  sweeping [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.sent}/${p.total}  ${p.found} live`;
      show(p.sent >= p.total && waiting ? `  swept ${p.total} addresses: ${p.found} live; ${waiting}…` : bar);
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

export async function runScan(opts: ScanOptions): Promise<void> {
  const root = opts.root ?? '/';
  const rate = numberFlag(opts.rate, 2000, '--rate');
  const dhcpWaitMs = numberFlag(opts.dhcpWait, 3.5, '--dhcp-wait') * 1000;
  const live = opts.live !== false;
  const dhcp = opts.dhcp !== false;
  // Bad input fails here, before anything runs.
  checkScanNumbers({ rate, dhcpWaitMs, live, dhcp });
  const ipFacts = await gatherIpFacts();
  const wanted = splitScanSubnets(opts.subnet);
  const target = resolveScanTarget(ipFacts.interfaces, ipFacts.routes, { parent: opts.parent, ...wanted });
  // Each family not given comes from the parent: IPv6 neighbours are asked whenever the parent has an IPv6 subnet.
  const subnet6 = target.subnet6 ?? parentSubnet6(target.parent, ipFacts.routes);
  requireNetAdmin('scan');
  if (target.parentFrom === 'default-route' && !opts.json) log(`Scanning ${target.parent.name}, the interface of the IPv4 default route (--parent chooses another).`);

  const bar = progressBar(dhcp ? dhcpWaitMs : undefined);
  bar.start();
  // Docker and the host's files are read while the LAN is scanned: they only feed the map and the suggestion.
  const [scan, facts] = await Promise.all([
    scanLan({
      parent: target.parent.name,
      subnet: formatCidr(target.subnet),
      ...(subnet6 ? { subnet6: formatCidr(subnet6) } : {}),
      rate,
      live,
      dhcp,
      dhcpWaitMs,
      onProgress: bar.update,
      ipFacts,
    }).finally(bar.done),
    gatherHostFacts({ root, dockerHost: opts.dockerHost, planning: [] }).catch(() => undefined),
  ]);
  // Kept for plan and apply, marked with the LAN it saw (the gateway and its MAC); without a gateway it never vouches for a LAN.
  await cacheScan(root, scan, scanGateway(ipFacts.routes, scan) ?? '', { log });
  const result: ScanResult = { ...scan, warnings: scanWarnings(scan, dhcpWaitMs), notes: scanNotes(scan) };
  if (facts) {
    const s = suggestIpRange(scan, facts);
    if (s.range) result.suggestedIpRange = s.range;
    if (s.note) result.suggestedIpRangeNote = s.note;
  } else {
    result.suggestedIpRangeNote = "the host's facts could not be read";
  }
  if (opts.json) {
    process.stdout.write(jsonEnvelope('scan', result));
    return;
  }
  const input = scanMapInput(scan, facts);
  const map = renderAddressMap(input, { color: c.isColorSupported });
  process.stdout.write(presentScan(result, map, input.gateway, facts ? gateway6Of(facts, scan) : undefined));
}

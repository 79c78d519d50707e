/**
 * `macvlanctl scan`: live hosts and DHCP servers on the parent's LAN, the
 * address map, and the ip-range `apply --ip-range auto` would take now.
 * gather → scan (src/gather/lan-scan.ts) → pure summary → present.
 */
import type { HostFacts } from '../../model/facts.js';
import type { LanScan } from '../../model/lan.js';
import { cidrContains, formatAddress, formatCidr, parseCidr } from '../../net/address.js';
import { suggestIpRange } from '../../plan/suggest-ip-range.js';
import { type ScanProgress, scanLan } from '../../gather/lan-scan.js';
import { checkScanNumbers, numberFlag, parentSubnet6, resolveScanTarget, splitScanSubnets } from '../../probe/scan-request.js';
import { renderAddressMap } from '../../present/address-map.js';
import { addressMapInput } from '../../present/address-map-input.js';
import { type ScanResult, presentScan, scanNotes, scanWarnings } from '../../present/scan.js';
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
  const gateway = scanGateway(ipFacts.routes, scan);
  await cacheScan(root, scan, gateway ?? '', { log });
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
  const input = addressMapInput({ subnet: scan.subnet, parent: scan.parent, gateway }, facts, scan);
  const map = renderAddressMap(input, { color: c.isColorSupported });
  process.stdout.write(presentScan(result, map, gateway, facts ? gateway6Of(facts, scan) : undefined));
}

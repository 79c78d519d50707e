/**
 * `macvlanctl scan` for people: what it saw, what follows from it (warnings,
 * what the results cannot show) and the suggestion. Pure: text out; colour
 * through `c`, which is off without a terminal.
 */
import type { LanScan } from '../model/lan.js';
import { colors as c } from './colors.js';

/** What `scan --json` prints as `result`: the scan, plus what follows from it. */
export interface ScanResult extends LanScan {
  /** The ip-range `apply --ip-range auto` would take on this LAN now; absent when none could be found (see suggestedIpRangeNote). */
  suggestedIpRange?: string;
  suggestedIpRangeNote?: string;
  warnings: string[];
  /** What the results cannot show (e.g. only one address per IPv6 host); always there in `scan --json`. */
  notes?: string[];
}

/** What a reader of the scan should know: several DHCP servers, a rough pool guess, no DHCP answer, IPv6 not asked. */
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

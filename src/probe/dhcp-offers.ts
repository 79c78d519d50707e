/**
 * The pure half of the DHCP probe: random client identities, which received
 * messages are offers to us, and the summary (servers, offers) the scan
 * reports. The socket work is in scan-worker.ts.
 */
import type { DhcpOfferSeen, DhcpServerSeen, LiveHost } from '../model/lan.js';
import { BOOTREPLY, MessageType, bytesToMac, tryDecodeDhcpMessage } from './dhcp-packet.js';
import { parseIpv4 } from './sweep.js';

export interface DhcpClient {
  xid: number;
  mac: string;
}

/**
 * A client identity from 10 random bytes (4 for the xid, 6 for the MAC):
 * the MAC is made locally administered and unicast, so it can be no real
 * NIC's address.
 */
export function clientFromRandom(random: Uint8Array): DhcpClient {
  if (random.length < 10) throw new RangeError('a DHCP client needs 10 random bytes');
  const mac = Buffer.from(random.subarray(4, 10));
  mac[0] = (mac[0]! & 0xfc) | 0x02;
  return { xid: Buffer.from(random.subarray(0, 4)).readUInt32BE(0), mac: bytesToMac(mac) };
}

/**
 * The offer a datagram carries to one of `clients`, or undefined for anything
 * else: garbage, our own DISCOVERs (they come back to us: they are
 * broadcasts), other clients' traffic, ACKs and NAKs.
 */
export function offerFrom(datagram: Buffer, sourceAddress: string, clients: readonly DhcpClient[]): DhcpOfferSeen | undefined {
  const m = tryDecodeDhcpMessage(datagram);
  if (!m || m.op !== BOOTREPLY || m.messageType !== MessageType.OFFER) return undefined;
  const client = clients.find((c) => c.xid === m.xid && c.mac === m.chaddr);
  if (!client) return undefined;
  if (m.yiaddr === '0.0.0.0') return undefined;
  const offer: DhcpOfferSeen = { address: m.yiaddr, server: m.serverId ?? sourceAddress, clientMac: client.mac };
  if (m.leaseSeconds !== undefined) offer.leaseSeconds = m.leaseSeconds;
  if (m.subnetMask !== undefined) offer.subnetMask = m.subnetMask;
  if (m.routers !== undefined) offer.routers = m.routers;
  if (m.dns !== undefined) offer.dns = m.dns;
  return offer;
}

/**
 * Servers and offers as the scan reports them: one offer per (server,
 * client) — a server that answers a DISCOVER twice offers the same thing —
 * sorted by server and address. A server's MAC is filled in when the sweep
 * saw its address.
 */
export function summarizeOffers(offers: readonly DhcpOfferSeen[], live: readonly LiveHost[] = []): { servers: DhcpServerSeen[]; offers: DhcpOfferSeen[] } {
  const seen = new Map<string, DhcpOfferSeen>();
  for (const o of offers) {
    const key = `${o.server} ${o.clientMac}`;
    if (!seen.has(key)) seen.set(key, o);
  }
  const order = (a: string, b: string) => safeIpv4(a) - safeIpv4(b);
  const unique = [...seen.values()].sort((a, b) => order(a.server, b.server) || order(a.address, b.address));
  const servers: DhcpServerSeen[] = [...new Set(unique.map((o) => o.server))].sort(order).map((address) => {
    const s: DhcpServerSeen = { address };
    const mac = live.find((h) => h.address === address)?.mac;
    if (mac) s.mac = mac;
    return s;
  });
  return { servers, offers: unique };
}

function safeIpv4(text: string): number {
  try {
    return parseIpv4(text);
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}

/**
 * When to send the next DISCOVER (ms after the first), or undefined: none
 * now. One DISCOVER is outstanding at a time, and the next goes only once
 * the previous one was answered, at least `spacingMs` after it, and only
 * when an answer as slow as the last would still arrive within `waitMs`.
 *
 * Why not a burst: a server that ping-checks an address before offering it
 * does so one client at a time (dnsmasq 2.90: 3 s each, measured in the lab:
 * six DISCOVERs 0.2 s apart were answered at 3, 6, 9, 12, 15 and 18 s). A
 * burst would get one offer within the wait and leave the server busy with
 * phantom clients for a quarter of a minute, delaying real clients and making
 * a second scan see no server at all. A server that answers at once still
 * gets all `clients` DISCOVERs, and gives as many offers for the pool estimate.
 */
export function nextDiscoverAt(sentAt: readonly number[], firstOfferAt: readonly (number | undefined)[], o: { clients: number; spacingMs: number; waitMs: number }): number | undefined {
  const k = sentAt.length;
  if (k === 0) return 0;
  if (k >= o.clients) return undefined;
  const answered = firstOfferAt[k - 1];
  if (answered === undefined) return undefined;
  const latency = answered - sentAt[k - 1]!;
  const at = Math.max(answered, sentAt[k - 1]! + o.spacingMs);
  return at + latency <= o.waitMs ? at : undefined;
}

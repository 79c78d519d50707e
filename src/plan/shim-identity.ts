/**
 * The shim's name and MAC address, both derived deterministically so that a
 * re-created shim (after drift or a reboot) is the same interface to the rest
 * of the LAN: neighbours' ARP caches stay right.
 */
import type { InterfaceFact } from '../model/facts.js';
import { IFNAME_MAX_BYTES } from '../config/names.js';
import { hex, sha256 } from '../net/digest.js';
import { shimAlias } from '../model/labels.js';

function hashHex(...parts: string[]): string {
  return hex(sha256(parts.join('\0')));
}

/**
 * `NAME-shim` when it fits Linux's 15-byte limit. Otherwise the first 9
 * characters of the name, `-`, and 5 hex digits of SHA-256(name): for
 * `homeassistant-lan` that is `homeassis-` + 5 hex digits. Deterministic, and
 * two long names that share a prefix still get different shims.
 */
export function defaultShimName(network: string): string {
  const plain = `${network}-shim`;
  if (Buffer.byteLength(plain) <= IFNAME_MAX_BYTES) return plain;
  return `${network.slice(0, 9)}-${hashHex(network).slice(0, 5)}`;
}

/**
 * A locally administered unicast MAC (first octet: bit 1 set, bit 0 clear),
 * from the host identity, the parent's own MAC (unique on the LAN even when
 * hosts were cloned with the same machine-id) and the network name.
 */
export function deriveShimMac(hostId: string, parentMac: string | undefined, network: string): string {
  const h = hashHex('macvlanctl-shim', hostId, (parentMac ?? '').toLowerCase(), network);
  const bytes = [0, 1, 2, 3, 4, 5].map((i) => parseInt(h.slice(i * 2, i * 2 + 2), 16));
  bytes[0] = (bytes[0]! & 0xfc) | 0x02;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const UNICAST_MAC = /^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/;

/**
 * The MAC of a network's shim: once the network is applied, the one apply
 * recorded (else the one its Docker network's label names), never derived
 * again — the parent it was derived from may have been replaced by one with
 * another MAC, and neighbours and containers still know the old one. Derived
 * only for a network that was never applied. A malformed recorded MAC (not
 * unicast, not six octets) is ignored.
 */
export function lifelongShimMac(kept: { recorded?: string | undefined; label?: string | undefined }, derive: () => string): string {
  for (const mac of [kept.recorded, kept.label]) {
    const m = mac?.toLowerCase();
    if (m && UNICAST_MAC.test(m) && m !== '00:00:00:00:00:00') return m;
  }
  return derive();
}


/**
 * Our shim for `network` among the host's interfaces: a macvlan with the MAC
 * we gave it (as apply's record or the Docker network's labels say), carrying
 * our alias or — when networkd or NetworkManager re-created it at boot, which
 * cannot set an ifalias — the expected name. The alias alone is no proof of
 * ownership: anyone can set it (`ip link set X alias macvlanctl:NAME`), and
 * destroy must never delete an interface on that word. Without a recorded
 * MAC there is no proof at all, so nothing is ours.
 */
export function findOwnShim(
  network: string,
  interfaces: readonly InterfaceFact[],
  expected?: { interface?: string | undefined; mac?: string | undefined },
): InterfaceFact | undefined {
  const mac = expected?.mac?.toLowerCase();
  if (!mac) return undefined;
  const proven = (i: InterfaceFact) => i.kind === 'macvlan' && i.mac?.toLowerCase() === mac;
  return (
    interfaces.find((i) => i.alias === shimAlias(network) && proven(i)) ??
    interfaces.find((i) => expected?.interface !== undefined && i.name === expected.interface && proven(i))
  );
}

/**
 * Why an interface carrying our alias for `network` is not taken as our shim
 * (for destroy and status to say), or undefined when there is none such.
 */
export function unprovenAliasHolder(
  network: string,
  interfaces: readonly InterfaceFact[],
  own: InterfaceFact | undefined,
  expected?: { mac?: string | undefined },
): { interface: string; why: string } | undefined {
  const holder = interfaces.find((i) => i.alias === shimAlias(network) && i !== own);
  if (!holder) return undefined;
  const why = !expected?.mac
    ? `there is no record of ${network} and no Docker network labelled as macvlanctl's naming its shim`
    : holder.kind !== 'macvlan'
      ? `it is a ${holder.kind} interface, not a macvlan`
      : `its MAC ${holder.mac ?? '?'} is not the shim's ${expected.mac}`;
  return { interface: holder.name, why };
}

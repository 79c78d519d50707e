/**
 * The shim's name and MAC address, both derived deterministically so that a
 * re-created shim (after drift or a reboot) is the same interface to the rest
 * of the LAN: neighbours' ARP caches stay right.
 */
import type { InterfaceFact } from '../model/facts.js';
import { IFNAME_MAX_BYTES } from '../config/names.js';
import { hex, sha256 } from '../net/digest.js';

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

/** The ifalias we put on shims: how `status` and `destroy` recognise what is ours. */
export const SHIM_ALIAS_PREFIX = 'macvlanctl:';

export function shimAlias(network: string): string {
  return `${SHIM_ALIAS_PREFIX}${network}`;
}

/** The network a shim alias names, or undefined when the alias is not ours. */
export function networkOfShimAlias(alias: string | undefined): string | undefined {
  return alias?.startsWith(SHIM_ALIAS_PREFIX) ? alias.slice(SHIM_ALIAS_PREFIX.length) : undefined;
}

/**
 * Our shim for `network` among the host's interfaces: the one carrying our
 * alias, or — when networkd or NetworkManager re-created it at boot, which
 * cannot set an ifalias — the macvlan with the expected name and the MAC we
 * derived for it (unique to this host, parent and network).
 */
export function findOwnShim(
  network: string,
  interfaces: readonly InterfaceFact[],
  expected?: { interface?: string | undefined; mac?: string | undefined },
): InterfaceFact | undefined {
  const byAlias = interfaces.find((i) => i.alias === shimAlias(network));
  if (byAlias || !expected?.interface || !expected.mac) return byAlias;
  const i = interfaces.find((x) => x.name === expected.interface);
  return i && i.kind === 'macvlan' && i.mac?.toLowerCase() === expected.mac.toLowerCase() ? i : undefined;
}

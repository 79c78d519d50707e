/**
 * The shim's name and MAC address, both derived deterministically so that a
 * re-created shim (after drift or a reboot) is the same interface to the rest
 * of the LAN: neighbours' ARP caches stay right.
 */
import type { DockerNetworkFact, InterfaceFact } from '../model/facts.js';
import type { PlannedShim } from '../model/plan.js';
import { IFNAME_MAX_BYTES } from '../config/names.js';
import { hex, sha256 } from '../net/digest.js';
import { LABEL_HOST_ADDRESS, LABEL_HOST_ADDRESS6, LABEL_SHIM, LABEL_SHIM_MAC, isManagedNetwork, shimAlias } from '../model/labels.js';

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


/** The shim as apply left it (see shimOnRecord); a field is undefined when neither source has it. */
export interface ShimOnRecord {
  interface: string | undefined;
  /** Lower case. */
  mac: string | undefined;
  address: string | undefined;
  address6: string | undefined;
}

/**
 * The shim as apply left it, field by field: apply's record, else the labels
 * apply put on the Docker network (a record lost, or a network applied by a
 * version that kept none). Only a Docker network labelled as macvlanctl's
 * counts: anyone can put our label keys on a network of theirs. The one
 * record → labels fallback, for status, destroy, up/down and doctor. Pure.
 */
export function shimOnRecord(recorded: PlannedShim | undefined, docker: DockerNetworkFact | undefined): ShimOnRecord {
  const labels: Record<string, string> = docker && isManagedNetwork(docker.labels) ? docker.labels : {};
  return {
    interface: recorded?.interface ?? labels[LABEL_SHIM],
    mac: (recorded?.mac ?? labels[LABEL_SHIM_MAC])?.toLowerCase(),
    address: recorded?.address ?? labels[LABEL_HOST_ADDRESS],
    address6: recorded?.address6 ?? labels[LABEL_HOST_ADDRESS6],
  };
}

/** What says which interface is a network's shim, from apply's record or our Docker network's labels (or, for the planner, what it will create). */
export interface ShimEvidence {
  /** The shim's name. */
  interface?: string | undefined;
  /** The MAC we gave it: the proof of ownership. Without it only `repairByAlias` can vouch. */
  mac?: string | undefined;
  /** The parent it must sit on, when known (the planner knows it; destroy and down do not need it). */
  parent?: string | undefined;
  /**
   * The network was applied here (a record, or our labelled Docker network),
   * and the caller repairs what it finds (apply, `up`): our alias then vouches
   * for a shim whose MAC drifted, so it is re-created rather than refused.
   * Destroy, down and status never pass it: they act on MAC proof alone.
   */
  repairByAlias?: boolean;
}

/**
 * Whether `iface` is our shim for `network` — the one test of ownership, for
 * the planner, destroy, up/down and status. Only a macvlan can be a shim we
 * made: a veth or bridge carrying our alias is someone else's. The MAC we gave
 * it proves it when it also carries our alias or the expected name (and sits
 * on the expected parent, when one is given). The alias alone is no proof:
 * anyone can set it (`ip link set X alias macvlanctl:NAME`), and nothing may
 * be deleted on that word — except that a network applied here vouches for
 * its own drifted shim (`repairByAlias`). Without a MAC there is no proof.
 */
export function isOwnShim(iface: InterfaceFact, network: string, evidence: ShimEvidence): boolean {
  if (iface.kind !== 'macvlan') return false;
  const aliased = iface.alias === shimAlias(network);
  if (evidence.repairByAlias && aliased) return true;
  const mac = evidence.mac?.toLowerCase();
  if (!mac || iface.mac?.toLowerCase() !== mac) return false;
  if (evidence.parent !== undefined && iface.link !== evidence.parent) return false;
  return aliased || (evidence.interface !== undefined && iface.name === evidence.interface);
}

/**
 * Our shim for `network` among the host's interfaces (see isOwnShim): the
 * one carrying our alias first, else the one with the expected name — when
 * networkd or NetworkManager re-created it at boot, which cannot set an
 * ifalias.
 */
export function findOwnShim(network: string, interfaces: readonly InterfaceFact[], evidence: ShimEvidence = {}): InterfaceFact | undefined {
  const own = (i: InterfaceFact) => isOwnShim(i, network, evidence);
  return interfaces.find((i) => i.alias === shimAlias(network) && own(i)) ?? interfaces.find((i) => i.name === evidence.interface && own(i));
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

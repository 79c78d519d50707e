/**
 * Kernel neighbour-table states (`ip -json neigh` prints them as `state: [...]`),
 * in the two sets the tool asks about. One definition, so the scan, the gateway
 * MAC lookup, reachability and doctor cannot disagree on what an entry means.
 *
 * - answered: the kernel resolved the entry from a reply on the wire (REACHABLE
 *   now; STALE, DELAY and PROBE once were and still hold that MAC). Only these
 *   prove that somebody answered: reachability and doctor's "did the gateway
 *   answer the host" ask this.
 * - holds a MAC: answered, or set by hand (PERMANENT) or on a link without ARP
 *   (NOARP). The MAC is what the host uses, but nobody had to answer for it:
 *   good for "which MAC is at this address" (the sweep's results, the scan
 *   cache's gateway MAC), not for "is it up". INCOMPLETE and FAILED entries
 *   hold no MAC worth trusting and are in neither set.
 */

const ANSWERED_STATES: ReadonlySet<string> = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE']);
const HOLDS_MAC_STATES: ReadonlySet<string> = new Set([...ANSWERED_STATES, 'PERMANENT', 'NOARP']);

/** Whether an entry in these states was resolved from an answer on the wire. */
export function neighbourAnswered(states: readonly string[] | undefined): boolean {
  return (states ?? []).some((s) => ANSWERED_STATES.has(s));
}

/** Whether an entry in these states holds a MAC the host uses (answered, PERMANENT or NOARP). */
export function neighbourHoldsMac(states: readonly string[] | undefined): boolean {
  return (states ?? []).some((s) => HOLDS_MAC_STATES.has(s));
}

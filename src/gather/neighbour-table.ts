/**
 * The host's own neighbour table, read (never written): which MAC the host
 * last resolved an address to on a link. The scan cache asks it for the
 * gateway's MAC to tell one LAN from another with the same subnet; reading it
 * costs one `ip` run and sends nothing on the wire.
 */
import { neighbourHoldsMac } from '../model/neighbour-states.js';
import { run } from '../system/exec.js';


/** The resolved MAC (lower case) for `address` in `ip -json neigh show to ADDRESS dev DEVICE` output; pure. */
export function resolvedMac(json: string, address: string): string | undefined {
  const trimmed = json.trim();
  if (!trimmed) return undefined;
  const entries = JSON.parse(trimmed) as { dst?: string; lladdr?: string; state?: string[] }[];
  const e = entries.find((x) => (x.dst === undefined || x.dst === address) && x.lladdr && neighbourHoldsMac(x.state));
  return e?.lladdr?.toLowerCase();
}

/** The MAC the host's neighbour table holds for `address` on `device`; undefined when it has none (or `ip` fails). */
export async function neighbourMac(address: string, device: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('ip', ['-json', 'neigh', 'show', 'to', address, 'dev', device], { timeoutMs: 5_000 });
    return resolvedMac(stdout, address);
  } catch {
    return undefined;
  }
}

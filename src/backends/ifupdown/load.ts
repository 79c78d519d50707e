/**
 * ifupdown has no daemon: what it knows is its record of the interfaces it
 * brought up, <root>/run/network/ifstate. A shim apply made is not in it, so
 * `ifdown SHIM` would say it is not configured. apply therefore runs ifup on
 * the written stanza (with --no-scripts, so no if-up.d hook is started for
 * it): the stanza skips every step that is already done (src/backends/ifupdown/render.ts),
 * so the kernel is left as it is and ifupdown records the shim. This also
 * holds under --root, where ifup reads its files and records only inside
 * that root (the stanza's commands act on this host's kernel, as apply just
 * did, and find everything done); nothing happens where ifupdown has not run
 * since boot (no run/network). When the stanza is removed, ifupdown's record
 * of the shim is dropped the same way.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadRequest } from '../backend.js';
import { tryRun } from '../load-common.js';
import { INTERFACES_D } from './render.js';

/** ifupdown's own record of the shim, so that ifdown and `systemctl restart networking` handle it. */
export async function loadIfupdown(req: LoadRequest): Promise<string[]> {
  const stanza = req.written.find((p) => p.startsWith(`${INTERFACES_D}/`));
  const removed = req.removed.some((p) => p.startsWith(`${INTERFACES_D}/`));
  if ((!stanza && !removed) || !req.shim) return [];
  const stateDir = join(req.root, 'run', 'network');
  if (!existsSync(stateDir)) return stanza ? [`ifupdown has not run here since boot (no ${stateDir}); ifup -a brings the shim up at the next boot`] : [];
  if (!stanza) {
    // The stanza is gone (destroy, or another backend now): ifdown with no definition of the shim
    // only drops it from ifupdown's record ("ignoring unknown interface") and runs nothing.
    const err = await tryRun('ifdown', ['--no-scripts', '--state-dir', stateDir, '-i', '/dev/null', req.shim]);
    return [err ? `ifdown could not drop ${req.shim} from ifupdown's record (${err})` : `ifupdown no longer counts ${req.shim} as up`];
  }
  const err = await tryRun('ifup', ['--no-scripts', '--state-dir', stateDir, '-i', join(req.root, stanza), req.shim]);
  if (err) return [`ifup could not record ${req.shim} as up (${err}); ifup -a still brings it up at the next boot`];
  return [`ifupdown counts ${req.shim} as up (ifup found it made), so ifdown and systemctl restart networking handle it`];
}

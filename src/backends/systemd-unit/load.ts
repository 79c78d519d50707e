/** Tells a running systemd that our unit (and its enabling symlink) changed: `systemctl daemon-reload`. */
import { existsSync } from 'node:fs';
import type { LoadRequest } from '../backend.js';
import { tryRun, underOtherRoot } from '../load-common.js';

export async function loadSystemdUnit(req: LoadRequest): Promise<string[]> {
  const elsewhere = underOtherRoot(req);
  if (elsewhere) return [elsewhere];
  if (!existsSync('/run/systemd/system')) return ['systemd is not running here; the unit is enabled for the next boot'];
  const err = await tryRun('systemctl', ['daemon-reload']);
  return [err ? `systemctl daemon-reload failed (${err})` : 'systemd reloaded; the unit is enabled and runs at the next boot'];
}

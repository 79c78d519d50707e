/**
 * After apply or destroy changed persistence files: tell the running network
 * manager, where that is safe. Best effort and never fatal — the files are
 * what matters at the next boot, and the shim itself was already made (or
 * removed) by apply with `ip`. What each manager is told, and what is
 * deliberately not done, is in the backend's own load.ts (networkd/,
 * networkmanager/, ifupdown/, systemd-unit/).
 */
import type { LoadRequest } from './backend.js';
import { backendNamed } from './registry.js';

export type { LoadRequest } from './backend.js';

/** Lines for the user: what was loaded, or why not. */
export async function loadPersistence(req: LoadRequest): Promise<string[]> {
  if (req.backend === 'none' || (req.written.length === 0 && req.removed.length === 0)) return [];
  return backendNamed(req.backend).load(req);
}

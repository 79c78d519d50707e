/**
 * One entry point for every backend: the files that persist a planned
 * network's host side. Pure; nothing is written here.
 */
import type { PlannedNetwork } from '../model/plan.js';
import { backendNamed } from './registry.js';
import type { RenderBackend, RenderContext, RenderedFile } from './rendered-file.js';

/** Files for `backend`, or none when the network has no host access (no shim to persist). */
export function renderPersistence(backend: RenderBackend, n: PlannedNetwork, ctx: RenderContext = {}): RenderedFile[] {
  return backendNamed(backend).render(n, ctx);
}

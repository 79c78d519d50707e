/**
 * One entry point for every backend: the files that persist a planned
 * network's host side. Pure; nothing is written here.
 */
import { MacvlanError } from '../model/errors.js';
import type { PlannedNetwork } from '../model/plan.js';
import { renderIfupdown } from './ifupdown/render.js';
import { renderNetworkd } from './networkd/render.js';
import { renderNetworkManager } from './networkmanager/render.js';
import { renderSystemdUnit } from './systemd-unit/render.js';
import type { RenderBackend, RenderContext, RenderedFile } from './rendered-file.js';

/** Files for `backend`, or none when the network has no host access (no shim to persist). */
export function renderPersistence(backend: RenderBackend, n: PlannedNetwork, ctx: RenderContext = {}): RenderedFile[] {
  switch (backend) {
    case 'networkd':
      if (!ctx.networkd) throw missing(backend, "the parent's .network file (networkd must manage the parent)");
      return renderNetworkd(n, ctx.networkd);
    case 'networkmanager':
      return renderNetworkManager(n);
    case 'ifupdown':
      return renderIfupdown(n);
    case 'systemd':
      if (!ctx.systemd) throw missing(backend, 'the path of the installed macvlanctl');
      return renderSystemdUnit(n, ctx.systemd);
  }
}

function missing(backend: RenderBackend, what: string): MacvlanError {
  return new MacvlanError('SYSTEM_ERROR', `render ${backend}: ${what} is not known`, { backend });
}

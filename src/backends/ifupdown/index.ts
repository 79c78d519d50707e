/** ifupdown (/etc/network/interfaces) as a persistence backend (see ../backend.ts). */
import type { PersistenceBackend } from '../backend.js';
import { ifupdownAcceptsUnclaimed, ifupdownClaims, ifupdownWarnings } from './claims.js';
import { INTERFACES_FILE } from './interfaces-file.js';
import { INTERFACES_D, renderIfupdown } from './render.js';

export const ifupdown: PersistenceBackend = {
  name: 'ifupdown',
  label: 'ifupdown',
  claimVerb: 'configures',
  loadsAtBoot: 'ifup -a creates the shim at boot',
  evidence: { files: [INTERFACES_FILE], dirs: [INTERFACES_D] },
  ownFiles: { dirs: [{ dir: INTERFACES_D }] },
  owns: (path) => path.startsWith('/etc/network/'),
  render: (n) => renderIfupdown(n),
  renderAgain: (n) => renderIfupdown(n),
  claims: ifupdownClaims,
  warningsWhenChosen: ifupdownWarnings,
  acceptUnclaimed: ifupdownAcceptsUnclaimed,
  load: async (req) => (await import('./load.js')).loadIfupdown(req),
};

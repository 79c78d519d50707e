/** NetworkManager as a persistence backend (see ../backend.ts). */
import type { PersistenceBackend } from '../backend.js';
import { networkManagerClaims } from './claims.js';
import { NM_CONF } from './profiles.js';
import { NM_CONNECTIONS_DIR, NM_DISPATCHER_DIR, renderNetworkManager } from './render.js';

export const networkManager: PersistenceBackend = {
  name: 'networkmanager',
  label: 'NetworkManager',
  loadsAtBoot: 'NetworkManager creates the shim at boot',
  // Not /usr/lib: the distribution's defaults, which change with packages, not with the admin's choice.
  evidence: { files: [NM_CONF], dirs: ['/etc/NetworkManager/conf.d', NM_CONNECTIONS_DIR, '/run/NetworkManager/system-connections'] },
  ownFiles: { dirs: [{ dir: NM_CONNECTIONS_DIR }, { dir: NM_DISPATCHER_DIR }] },
  owns: (path) => path.startsWith('/etc/NetworkManager/'),
  render: (n) => renderNetworkManager(n),
  renderAgain: (n) => renderNetworkManager(n),
  claims: networkManagerClaims,
  load: async (req) => (await import('./load.js')).loadNetworkManager(req),
};

/** systemd-networkd as a persistence backend (see ../backend.ts). */
import type { PersistenceBackend } from '../backend.js';
import { missingContext } from '../render-common.js';
import { networkdClaims } from './claims.js';
import { NETWORKD_DIR, SYSCTL_D, networkdFileNames, renderNetworkd } from './render.js';

export const networkd: PersistenceBackend = {
  name: 'networkd',
  label: 'networkd',
  loadsAtBoot: 'systemd-networkd creates the shim at boot',
  evidence: { files: [], dirs: [NETWORKD_DIR, '/run/systemd/network'] },
  // The sysctl file (proxy NDP forwarding) is ours too, but systemd-sysctl reads it, not networkd.
  ownFiles: { dirs: [{ dir: NETWORKD_DIR, dropInFolders: true }, { dir: SYSCTL_D }] },
  owns: (path) => path.startsWith(`${NETWORKD_DIR}/`),
  render(n, ctx) {
    if (!ctx.networkd) throw missingContext('networkd', "the parent's .network file (networkd must manage the parent)");
    return renderNetworkd(n, ctx.networkd);
  },
  renderAgain(n, recorded) {
    // The drop-in sits in <parent's .network>.d/: its directory names the parent's file.
    const dropIn = recorded.find((f) => f.path.endsWith(`/${networkdFileNames(n.name).dropIn}`));
    const dir = dropIn?.path.slice(0, dropIn.path.lastIndexOf('/'));
    if (!dir?.endsWith('.d')) return undefined;
    return renderNetworkd(n, { parentNetworkFile: `${NETWORKD_DIR}/${dir.slice(dir.lastIndexOf('/') + 1, -2)}` });
  },
  claims: networkdClaims,
  load: async (req) => (await import('./load.js')).loadNetworkd(req),
};

/**
 * The systemd unit as a persistence backend (see ../backend.ts): the one
 * used when no network manager claims the parent, so it claims nothing itself.
 */
import type { PersistenceBackend } from '../backend.js';
import { missingContext } from '../render-common.js';
import { SYSTEMD_UNIT_DIR, UNIT_WANTS_DIR, renderSystemdUnit, systemdUnitName, systemdUnitPath } from './render.js';

export const systemdUnit: PersistenceBackend = {
  name: 'systemd',
  label: 'the systemd unit',
  loadsAtBoot: 'the unit runs macvlanctl up at boot',
  // Which managers' units are enabled (networkd, NetworkManager, networking) is evidence of who manages the parent.
  evidence: { files: [], dirs: [UNIT_WANTS_DIR, `${SYSTEMD_UNIT_DIR}/network-online.target.wants`] },
  ownFiles: {
    dirs: [{ dir: SYSTEMD_UNIT_DIR }],
    // `systemctl enable` for WantedBy=multi-user.target: ours when it points at our unit.
    enableLinks: {
      dir: UNIT_WANTS_DIR,
      networkOf: (name) => /^macvlanctl-(.+)\.service$/.exec(name)?.[1],
      target: (name) => `${SYSTEMD_UNIT_DIR}/${name}`,
    },
  },
  owns: (path) => path.startsWith(`${SYSTEMD_UNIT_DIR}/`),
  render(n, ctx) {
    if (!ctx.systemd) throw missingContext('systemd', 'the path of the installed macvlanctl');
    return renderSystemdUnit(n, ctx.systemd);
  },
  enableLink: (network) => ({ path: `${UNIT_WANTS_DIR}/${systemdUnitName(network)}`, target: systemdUnitPath(network) }),
  // Its command line is that of whichever macvlanctl ran apply, which need not be this one.
  renderAgain: () => undefined,
  fallback: {
    reason: (parent) => `no network manager configures ${parent}: a systemd unit brings the shim up at boot`,
    explicitReason: '--persist systemd: a systemd unit brings the shim up at boot',
  },
  load: async (req) => (await import('./load.js')).loadSystemdUnit(req),
};

/**
 * netplan is not a persistence backend: it generates networkd's or
 * NetworkManager's configuration and runs nothing at boot, so the shim is
 * persisted through one of those (their claims read netplan's facts, see
 * ../networkd/claims.ts and ../networkmanager/claims.ts). What it adds is
 * evidence: its files decide who manages the parent.
 */
import type { ConfigurationSource } from '../backend.js';

export const netplan: ConfigurationSource = {
  name: 'netplan',
  evidence: { files: [], dirs: ['/etc/netplan'] },
};

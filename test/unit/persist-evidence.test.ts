/**
 * The fingerprint of the network managers' configuration that a kept
 * persistence backend rests on (src/gather/persist-evidence.ts), on a
 * temporary root: what changes it and what must not.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { persistEvidence } from '../../src/gather/persist-evidence.js';

let root: string;
const write = (path: string, text: string) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
};
const OURS = '/etc/systemd/network/10-macvlanctl-mynet.netdev';
const fingerprint = () => persistEvidence(root, new Set([OURS]));

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mvl-evidence-'));
  write('/etc/systemd/network/20-wired.network', '[Match]\nName=en*\n[Network]\nDHCP=yes\n');
  write('/etc/network/interfaces', 'source /etc/network/interfaces.d/*\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the managers’ evidence fingerprint', () => {
  it('ignores our own files and drop-in folders, times, and a second reading', () => {
    const before = fingerprint();
    expect(before).toMatch(/^[0-9a-f]{16}$/);
    write(OURS, '# Managed by macvlanctl for network mynet.\n');
    write('/etc/systemd/network/20-wired.network.d/macvlanctl-mynet.conf', '[Network]\nMACVLAN=mynet-shim\n');
    utimesSync(join(root, '/etc/network/interfaces'), new Date(0), new Date(0));
    expect(fingerprint()).toBe(before);
  });

  it('changes when the parent’s .network is renamed or edited, a source line goes, netplan or NetworkManager appear, or a unit is enabled', () => {
    const seen = new Set([fingerprint()]);
    const changed = (what: () => void) => {
      what();
      const f = fingerprint();
      expect(seen.has(f)).toBe(false);
      seen.add(f);
    };
    changed(() => renameSync(join(root, '/etc/systemd/network/20-wired.network'), join(root, '/etc/systemd/network/30-wired.network')));
    changed(() => write('/etc/systemd/network/30-wired.network', '[Match]\nName=eno1\n'));
    changed(() => write('/etc/network/interfaces', 'auto lo\n'));
    changed(() => write('/etc/netplan/01-netcfg.yaml', 'network:\n  renderer: NetworkManager\n'));
    changed(() => write('/etc/NetworkManager/system-connections/eno1.nmconnection', '[connection]\nid=eno1\n'));
    changed(() => {
      mkdirSync(join(root, '/etc/systemd/system/multi-user.target.wants'), { recursive: true });
      symlinkSync('/lib/systemd/system/NetworkManager.service', join(root, '/etc/systemd/system/multi-user.target.wants/NetworkManager.service'));
    });
  });
});

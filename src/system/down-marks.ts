/**
 * Which networks were taken down on purpose (`macvlanctl down`, and the
 * systemd unit's stop at shutdown), so that `watch` leaves them down instead
 * of repairing what someone meant to remove. One empty file per network
 * beside the host lock (/run/macvlanctl/net-DEV-INODE.down/NAME): per
 * network namespace, like the kernel side it speaks of, and gone at reboot
 * with /run, as the shim is. `up`, `apply` and `destroy` clear it.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostLockPath } from './lock.js';

function marksDir(): string {
  return hostLockPath().replace(/\.lock$/, '.down');
}

export function markDown(network: string): void {
  const dir = marksDir();
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, network), '', { mode: 0o644 });
}

export function clearDown(network: string): void {
  rmSync(join(marksDir(), network), { force: true });
}

export function isDown(network: string): boolean {
  return existsSync(join(marksDir(), network));
}

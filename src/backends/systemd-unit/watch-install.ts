/**
 * Writes (and removes) the watch unit under --root, and enables it the way
 * `systemctl enable` does (the symlink in multi-user.target.wants). On the
 * live root with systemd running, systemd is reloaded and the service started
 * (stopped before removal). A file at the unit's path that is not ours is
 * never overwritten or removed.
 */
import { existsSync, lstatSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MacvlanError } from '../../model/errors.js';
import { writeFileAtomic } from '../../system/atomic-write.js';
import { run } from '../../system/exec.js';
import { makeDirs } from '../../system/make-dirs.js';
import { WATCH_UNIT_LINK, WATCH_UNIT_NAME, WATCH_UNIT_PATH, isWatchUnit, renderWatchUnit, type WatchUnitOptions } from './watch-unit.js';

const onRoot = (root: string, path: string) => join(root, path);

function liveSystemd(root: string): boolean {
  return resolve(root) === '/' && existsSync('/run/systemd/system');
}

async function systemctl(args: string[]): Promise<string | undefined> {
  try {
    await run('systemctl', args, { timeoutMs: 30_000 });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function refuseForeign(root: string): void {
  const p = onRoot(root, WATCH_UNIT_PATH);
  if (!existsSync(p)) return;
  if (!isWatchUnit(readFileSync(p, 'utf8'))) {
    throw new MacvlanError('PLAN_UNSAFE', `${p} exists and was not written by macvlanctl watch --install; it is left alone`, { path: p });
  }
}

/** Lines for the user: what was written and done. */
export async function installWatchUnit(root: string, o: WatchUnitOptions): Promise<string[]> {
  const unit = renderWatchUnit(o);
  refuseForeign(root);
  const out: string[] = [];
  const path = onRoot(root, unit.path);
  makeDirs(dirname(path), 0o755);
  writeFileAtomic(path, unit.content, unit.mode);
  out.push(`wrote ${path}`);
  const link = onRoot(root, WATCH_UNIT_LINK.path);
  makeDirs(dirname(link), 0o755);
  let linked = false;
  try {
    linked = lstatSync(link).isSymbolicLink() && readlinkSync(link) === WATCH_UNIT_LINK.target;
    if (!linked) throw new MacvlanError('PLAN_UNSAFE', `${link} exists and is not the enable link of ${WATCH_UNIT_NAME}; it is left alone`, { path: link });
  } catch (e) {
    if (e instanceof MacvlanError) throw e;
  }
  if (!linked) symlinkSync(WATCH_UNIT_LINK.target, link);
  out.push(`enabled ${WATCH_UNIT_NAME} (${link} → ${WATCH_UNIT_LINK.target})`);
  if (liveSystemd(root)) {
    const err = (await systemctl(['daemon-reload'])) ?? (await systemctl(['restart', WATCH_UNIT_NAME]));
    out.push(err ? `systemd could not start it now (${err}); it starts at the next boot` : `systemd reloaded; ${WATCH_UNIT_NAME} is running`);
  } else {
    out.push(`systemd is not running on ${root}: the unit starts at the next boot`);
  }
  return out;
}

export async function uninstallWatchUnit(root: string): Promise<string[]> {
  refuseForeign(root);
  const out: string[] = [];
  const path = onRoot(root, WATCH_UNIT_PATH);
  const link = onRoot(root, WATCH_UNIT_LINK.path);
  const present = existsSync(path);
  if (present && liveSystemd(root)) {
    const err = await systemctl(['stop', WATCH_UNIT_NAME]);
    if (err) out.push(`systemctl stop ${WATCH_UNIT_NAME} failed (${err})`);
  }
  try {
    if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === WATCH_UNIT_LINK.target) {
      rmSync(link);
      out.push(`removed ${link}`);
    }
  } catch {
    // no link
  }
  if (present) {
    rmSync(path);
    out.push(`removed ${path}`);
    if (liveSystemd(root)) {
      const err = await systemctl(['daemon-reload']);
      if (err) out.push(`systemctl daemon-reload failed (${err})`);
    }
  } else {
    out.push(`no ${WATCH_UNIT_NAME} under ${root}: nothing to remove`);
  }
  return out;
}

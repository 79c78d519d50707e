/**
 * `macvlanctl watch --install` / `--uninstall` under a temporary --root:
 * the unit's content (Restart=on-failure, after the network and Docker), the
 * enable symlink, a foreign file at the unit's path left alone, and removal.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMainCaptured } from '../support/run-main.js';
import { renderWatchUnit, WATCH_UNIT_LINK, WATCH_UNIT_PATH } from '../../src/backends/systemd-unit/watch-unit.js';
import { installWatchUnit, uninstallWatchUnit } from '../../src/backends/systemd-unit/watch-install.js';

describe('the watch unit', () => {
  it('runs the watcher after the network and Docker, restarted on failure', () => {
    const u = renderWatchUnit({ command: ['/usr/bin/node', '/opt/macvlanctl/bin/macvlanctl'], names: [], restartContainers: true });
    expect(u.path).toBe('/etc/systemd/system/macvlanctl-watch.service');
    expect(u.content).toContain('After=network-online.target docker.service\n');
    // node's memory flags (bench/watch.mjs: peak RSS within 60 MB only with them) go between node and the launcher
    expect(u.content).toContain('ExecStart=/usr/bin/node --lite-mode --no-expose-wasm --max-semi-space-size=1 /opt/macvlanctl/bin/macvlanctl watch\n');
    expect(u.content).toContain('Restart=on-failure\n');
    expect(u.content).toContain('WantedBy=multi-user.target\n');
    // Not a network's file: status and destroy never take it for one.
    expect(u.content).not.toMatch(/^# Managed by macvlanctl for network/);
  });

  it('carries the names, --no-restart-containers and --docker-host it was installed with', () => {
    const u = renderWatchUnit({ command: ['/usr/local/bin/macvlanctl'], names: ['mynet'], restartContainers: false, dockerHost: 'unix:///run/user docker.sock' });
    expect(u.content).toContain('ExecStart=/usr/local/bin/macvlanctl watch mynet --no-restart-containers --docker-host "unix:///run/user docker.sock"\n');
  });

  it('gives node its flags only when the command is node and a script', () => {
    const versioned = renderWatchUnit({ command: ['/usr/local/bin/node20', '/srv/m/bin/macvlanctl'], names: [], restartContainers: true });
    expect(versioned.content).toContain('ExecStart=/usr/local/bin/node20 --lite-mode --no-expose-wasm --max-semi-space-size=1 /srv/m/bin/macvlanctl watch\n');
    const nodeAlone = renderWatchUnit({ command: ['/usr/bin/node'], names: [], restartContainers: true });
    expect(nodeAlone.content).toContain('ExecStart=/usr/bin/node watch\n');
    const notNode = renderWatchUnit({ command: ['/usr/bin/nodectl', '/x'], names: [], restartContainers: true });
    expect(notNode.content).toContain('ExecStart=/usr/bin/nodectl /x watch\n');
  });

  it('refuses a relative command', () => {
    expect(() => renderWatchUnit({ command: ['macvlanctl'], names: [], restartContainers: true })).toThrow(/absolute path/);
  });
});

describe('install and uninstall under --root', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'macvlanctl-watch-unit-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes the unit and its enable link, again without complaint, and removes both', async () => {
    const o = { command: ['/usr/local/bin/macvlanctl'], names: [], restartContainers: true };
    const lines = await installWatchUnit(root, o);
    expect(lines.join('\n')).toMatch(/starts at the next boot/);
    const unit = join(root, WATCH_UNIT_PATH);
    expect(readFileSync(unit, 'utf8')).toBe(renderWatchUnit(o).content);
    expect(lstatSync(unit).mode & 0o777).toBe(0o644);
    expect(readlinkSync(join(root, WATCH_UNIT_LINK.path))).toBe(WATCH_UNIT_PATH);
    await installWatchUnit(root, { ...o, names: ['mynet'] });
    expect(readFileSync(unit, 'utf8')).toContain('watch mynet');
    await uninstallWatchUnit(root);
    expect(existsSync(unit)).toBe(false);
    expect(existsSync(join(root, WATCH_UNIT_LINK.path))).toBe(false);
    expect((await uninstallWatchUnit(root)).join('\n')).toMatch(/nothing to remove/);
  });

  it('leaves a unit that is not ours alone', async () => {
    const unit = join(root, WATCH_UNIT_PATH);
    mkdirSync(join(root, '/etc/systemd/system'), { recursive: true });
    writeFileSync(unit, '[Unit]\nDescription=mine\n');
    await expect(installWatchUnit(root, { command: ['/usr/local/bin/macvlanctl'], names: [], restartContainers: true })).rejects.toThrow(/not written by macvlanctl watch --install/);
    await expect(uninstallWatchUnit(root)).rejects.toThrow(/not written by macvlanctl watch --install/);
    expect(readFileSync(unit, 'utf8')).toBe('[Unit]\nDescription=mine\n');
  });

  it('refuses to install a unit for a network that has no record (the unit would fail at every start), writing nothing', async () => {
    const { code, stdout } = await runMainCaptured(['watch', 'nosuch', '--install', '--json', '--root', root]);
    expect(code).toBe(1);
    expect((JSON.parse(stdout) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/^no record of network nosuch/) });
    expect(existsSync(join(root, WATCH_UNIT_PATH))).toBe(false);
    expect(existsSync(join(root, WATCH_UNIT_LINK.path))).toBe(false);
  });
});

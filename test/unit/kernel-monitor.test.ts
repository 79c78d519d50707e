/**
 * The kernel-change trigger's process handling, with a stand-in for `ip`
 * (a script that prints a line and dies, or one that waits): every output is
 * a change, a monitor that dies is started again and says so (changes may
 * have been missed), and stop ends it for good.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { monitorKernelChanges } from '../../src/system/watch/kernel-monitor.js';

const dir = mkdtempSync(join(tmpdir(), 'macvlanctl-monitor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const until = async (check: () => boolean, ms = 3000) => {
  const t0 = Date.now();
  while (!check() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 10));
  return check();
};

describe('kernel monitor', () => {
  it('reports output as changes, restarts a monitor that died, and stops for good', async () => {
    let changes = 0;
    const restarts: string[] = [];
    const m = monitorKernelChanges({ ipBinary: script('dies.sh', 'echo "2: eno1: <BROADCAST> mtu 1500"\nexit 3'), onChange: () => changes++, onRestart: (why) => restarts.push(why) });
    await m.ready;
    expect(await until(() => restarts.length >= 2 && changes >= 2)).toBe(true);
    expect(restarts[0]).toMatch(/monitor ended \(exit 3\)/);
    await m.stop();
    const after = restarts.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(restarts.length).toBe(after);
  });

  it('stop ends a monitor that is waiting, at once', async () => {
    const m = monitorKernelChanges({ ipBinary: script('waits.sh', 'exec sleep 100'), onChange: () => {} });
    await m.ready;
    const t0 = Date.now();
    await m.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('a missing ip is an error at start', async () => {
    const m = monitorKernelChanges({ ipBinary: join(dir, 'no-such-ip'), onChange: () => {} });
    await expect(m.ready).rejects.toThrow(/not found \(install iproute2\)/);
    await m.stop();
  });
});

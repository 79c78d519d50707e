/**
 * status with a cached LAN scan, against a real dockerd and real interfaces
 * in lab namespaces: the scan cache under --root is found for the network's
 * parent and subnet, our container and shim are not counted as strangers, a
 * stranger inside the ip-range is named, and on a terminal the address map is
 * drawn. The scan is written into the cache as `scan` writes it (the live
 * sweep itself is tested with `scan`); the facts it is set against are real.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LanScan } from '../../src/model/lan.js';
import { writeScanCache } from '../../src/gather/scan-cache.js';
import { type Lab, LAB_IMAGE, createLab } from './lab.js';
import { BIN, macvlanctl } from './support/cli.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('status-map e2e: SKIPPED — needs root to build network namespaces and run dockerd');

describe.skipIf(!root)('status with a cached scan', () => {
  let lab: Lab;
  let dir: string;
  beforeAll(async () => {
    lab = await createLab({ docker: true, ipv6: false });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-status-map-'));
    const h = lab.host('h1');
    const r = await macvlanctl(h, ['apply', 'mynet', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--no-scan', '--yes'], { root: dir });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const run = await h.dockerCli(['run', '-d', '--network', 'mynet', '--name', 'web', LAB_IMAGE, 'sleep', '3600']);
    expect(run.code, run.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function scanNow(live: LanScan['live']): LanScan {
    return { parent: 'eno1', subnet: '198.51.100.0/24', scannedAt: new Date().toISOString(), durationMs: 400, live, dhcp: { servers: [], offers: [] } };
  }

  it('--json: the scan of eno1 with the stranger inside the range named, our container and shim left out', async () => {
    const h = lab.host('h1');
    const ctMac = (await h.dockerCli(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}', 'web'])).stdout.trim();
    const shim = JSON.parse((await h.exec(['ip', '-json', 'link', 'show', 'mynet-shim'])).stdout)[0];
    // The cache stands only for the LAN it was taken on: the router's MAC, which the host learns by talking to it.
    const routerMac = JSON.parse((await lab.lanExec(['ip', '-json', 'link', 'show', 'br0'])).stdout)[0].address;
    expect((await h.exec(['ping', '-c', '1', '-W', '2', '198.51.100.1'])).code).toBe(0);
    // Taken on another LAN (same subnet and gateway address, another router): status does not show it.
    writeScanCache(dir, scanNow([{ address: '198.51.100.1', mac: '02:00:00:00:00:01' }]), { subnet: '198.51.100.0/24', gateway: '198.51.100.1', gatewayMac: '02:00:00:00:00:01' });
    const other = await macvlanctl(h, ['status', 'mynet', '--json', '--no-reach'], { root: dir });
    expect(other.code, other.stderr).toBe(0);
    expect(other.json!.result.networks[0].lan).toBeUndefined();
    writeScanCache(
      dir,
      scanNow([
        { address: '198.51.100.1', mac: routerMac },
        { address: '198.51.100.192', mac: ctMac },
        { address: '198.51.100.223', mac: shim.address },
        { address: '198.51.100.210', mac: '02:99:00:00:00:d2' },
      ]),
      { subnet: '198.51.100.0/24', gateway: '198.51.100.1', gatewayMac: routerMac },
    );
    const r = await macvlanctl(h, ['status', 'mynet', '--json', '--no-reach'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    const n = r.json!.result.networks[0];
    expect(n.lan.live.map((x: { address: string }) => x.address)).toEqual(['198.51.100.1', '198.51.100.210']);
    expect(n.lan.inRange).toEqual(['198.51.100.210']);
    expect(n.lan.dhcp).toEqual({ servers: [], offers: [], pools: [] });
    // the fields status had before are all still there
    for (const k of ['name', 'parent', 'subnet', 'gateway', 'ipRange', 'docker', 'shim', 'containers', 'persistence', 'healthy', 'problems']) expect(n).toHaveProperty(k);
  });

  it('on a terminal: the lan line, the warning and the address map; without one, neither map nor colour', async () => {
    const h = lab.host('h1');
    const args = [process.execPath, BIN, 'status', 'mynet', '--no-reach', '--root', dir, '--docker-host', h.docker!.dockerHost];
    // script(1) gives the CLI a pseudo-terminal, as a person at a shell would have
    const tty = await h.exec(['script', '-qec', args.map((a) => `'${a}'`).join(' '), '/dev/null'], { env: { ...process.env, NO_COLOR: '1', TERM: 'dumb' } });
    const text = tty.stdout.replace(/\r/g, '');
    expect(text).toMatch(/ {2}lan {7}scanned \d+ s ago: 2 other live host\(s\); no DHCP server/);
    expect(text).toMatch(/warning: 198\.51\.100\.210 answered inside the ip-range 198\.51\.100\.192\/27/);
    expect(text).toMatch(/^198\.51\.100\.0\/24 {2}1 cell = 1 address, 64 per row$/m);
    expect(text).toMatch(/^198\.51\.100\.0 {4}xG\.{22}H\.+$/m);
    // .192 the container web, .210 the stranger, .223 the shim
    expect(text).toMatch(/^198\.51\.100\.192 {2}C=================!============S\.{31}x$/m);
    const plain = await macvlanctl(h, ['status', 'mynet', '--no-reach'], { root: dir });
    expect(plain.stdout).not.toMatch(/cell/);
    expect(plain.stdout).toMatch(/ {2}lan {7}scanned/);
  });
});

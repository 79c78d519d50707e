/**
 * Declarations that must be refused before anything is touched, against a
 * real dockerd and kernel in lab namespaces (prefix `aval…`, unique to these
 * tests), and what Docker 20.10's IPAM really hands out at the ends of a subnet.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, type LabHost, createLab, hostFingerprint } from './lab.js';
import { macvlanctl } from './support/cli.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('validate e2e: SKIPPED — needs root to build network namespaces and run dockerd');

/** ping from the host namespace after forgetting every neighbour, so the router must answer ARP afresh */
async function hostReachesRouter(h: LabHost): Promise<boolean> {
  await h.exec(['ip', 'neigh', 'flush', 'dev', 'eno1']);
  for (let i = 0; i < 3; i++) {
    const r = await h.exec(['busybox', 'ping', '-c', '1', '-W', '1', '198.51.100.1']);
    if (r.code === 0) return true;
  }
  return false;
}

async function dockerNetworks(h: LabHost): Promise<string> {
  return (await h.dockerCli(['network', 'ls', '--format', '{{.Name}} {{.Driver}}'])).stdout;
}

describe.skipIf(!root)('refused before anything is touched (lab)', () => {
  let lab: Lab;
  let dir: string;
  beforeAll(async () => {
    lab = await createLab({ prefix: `aval${randomBytes(3).toString('hex')}`, docker: true, ipv6: false, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-validate-'));
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('apply --mode passthru with host access: exit 2, nothing created, the host still reaches its router', async () => {
    const h = lab.host('h1');
    expect(await hostReachesRouter(h), 'router reachable before').toBe(true);
    const before = await hostFingerprint(h);
    const networks = await dockerNetworks(h);
    const r = await macvlanctl(h, ['apply', 'pt', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--mode', 'passthru', '--persist', 'none', '--yes', '--json'], { root: dir });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.json!.error!.code).toBe('CONFIG_INVALID');
    expect(r.json!.error!.message).toMatch(/passthru cannot have host access.*--no-host-access/);
    expect(await hostReachesRouter(h), 'router reachable after').toBe(true);
    expect(await hostFingerprint(h)).toBe(before);
    expect(await dockerNetworks(h)).toBe(networks);
  });

  it('the same from a Compose file (driver_opts.macvlan_mode: passthru)', async () => {
    const h = lab.host('h1');
    const before = await hostFingerprint(h);
    const compose = join(dir, 'compose.yaml');
    writeFileSync(
      compose,
      [
        'networks:',
        '  lan:',
        '    driver: macvlan',
        '    driver_opts:',
        '      parent: eno1',
        '      macvlan_mode: passthru',
        '    ipam:',
        '      config:',
        '        - subnet: 198.51.100.0/24',
        '          gateway: 198.51.100.1',
        '          ip_range: 198.51.100.192/27',
        '',
      ].join('\n'),
    );
    const r = await macvlanctl(h, ['apply', '-f', compose, '--persist', 'none', '--yes', '--json'], { root: dir });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.json!.error!.message).toMatch(/compose\.yaml:6:\d+ networks\.lan\.driver_opts\.macvlan_mode: macvlan mode passthru cannot have host access/);
    expect(await hostFingerprint(h)).toBe(before);
    expect(await hostReachesRouter(h)).toBe(true);
  });

  it('passthru without host access is allowed: the Docker network only, no shim', async () => {
    const h = lab.host('h1');
    const r = await macvlanctl(h, ['apply', 'pt', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--mode', 'passthru', '--no-host-access', '--persist', 'none', '--yes'], { root: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await dockerNetworks(h)).toMatch(/^pt macvlan$/m);
    expect(await hostReachesRouter(h)).toBe(true);
    const d = await macvlanctl(h, ['destroy', 'pt', '--yes'], { root: dir });
    expect(d.code, d.stdout + d.stderr).toBe(0);
  });
});

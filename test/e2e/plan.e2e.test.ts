/**
 * `plan` inside a real network namespace (veth eno1 at 198.51.100.24/24,
 * gateway .1) with a real dockerd: the recipe's five changes, and the host
 * byte-for-byte unchanged afterwards, also when the input is bad.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, createLab, hostFingerprint } from './lab.js';
import { macvlanctl } from './support/cli.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('plan e2e: SKIPPED — needs root to build network namespaces');

describe.skipIf(!root)('plan in a lab namespace', () => {
  let lab: Lab;
  let dir: string;
  beforeAll(async () => {
    lab = await createLab({ docker: true, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-plan-'));
  });
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the recipe’s five changes and leaves the host unchanged', async () => {
    const h = lab.host('h1');
    const before = await hostFingerprint(h);
    // --persist none: the recipe's own five changes (persistence files are tested in persist.e2e).
    const r = await macvlanctl(h, ['plan', 'mynet', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--aux-address', 'host=198.51.100.223', '--persist', 'none', '--json'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.ok).toBe(true);
    expect(r.json!.result.changes.map((c: { kind: string; action: string }) => `${c.action} ${c.kind}`)).toEqual([
      'create docker-network',
      'create shim-link',
      'create shim-address',
      'update shim-up',
      'create shim-route',
    ]);
    expect(r.json!.result.networks[0]).toMatchObject({
      name: 'mynet',
      parent: 'eno1',
      subnet: '198.51.100.0/24',
      gateway: '198.51.100.1',
      ipRange: '198.51.100.192/27',
      auxAddresses: { host: '198.51.100.223' },
      shim: { interface: 'mynet-shim', address: '198.51.100.223', routes: ['198.51.100.192/27'] },
    });
    // Docker was reached and checked (no "not reachable" note)
    expect(r.json!.result.unchecked.join('\n')).not.toMatch(/not reachable/);
    expect(await hostFingerprint(h)).toBe(before);
    const networks = await h.dockerCli(['network', 'ls', '--format', '{{.Name}}']);
    expect(networks.stdout).not.toMatch(/mynet/);
  });

  it('prints the plan for a person, and the manual commands', async () => {
    const r = await macvlanctl(lab.host('h1'), ['plan', 'mynet', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--aux-address', 'host=198.51.100.223', '--persist', 'none', '--show-commands'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^  \+ docker network mynet/m);
    expect(r.stdout).toMatch(/^  ~ link mynet-shim up/m);
    expect(r.stdout).toMatch(/Plan: 4 to create, 1 to change, 0 to delete/);
    expect(r.stdout).toMatch(/ip route add 198\.51\.100\.192\/27 dev mynet-shim/);
  });

  it('fills in everything from --parent alone', async () => {
    const r = await macvlanctl(lab.host('h1'), ['plan', 'lan', '--parent', 'eno1', '--json'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.result.networks[0]).toMatchObject({ subnet: '198.51.100.0/24', gateway: '198.51.100.1', ipRange: '198.51.100.192/27', ipRangeSource: 'auto' });
  });

  it('still plans when Docker is unreachable, and says what it could not check', async () => {
    const r = await macvlanctl(lab.host('h1'), ['plan', 'mynet', '--parent', 'eno1', '--docker-host', `unix://${dir}/nothing.sock`, '--json'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.result.unchecked.join('\n')).toMatch(/not reachable/);
  });

  it('plans a Docker Compose file, and flags override it', async () => {
    const compose = join(import.meta.dirname, '..', 'fixtures', 'config', 'pihole-compose.yaml');
    const r = await macvlanctl(lab.host('h1'), ['plan', '-f', compose, '--json'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.result.networks[0]).toMatchObject({
      name: 'pihole_lan',
      ipRange: '198.51.100.192/28',
      auxAddresses: { host: '198.51.100.206' },
      shim: { interface: 'pihole-shim', address: '198.51.100.206' },
    });
    const o = await macvlanctl(lab.host('h1'), ['plan', 'pihole_lan', '-f', compose, '--ip-range', '198.51.100.224/28', '--host-address', 'auto', '--json'], { root: dir });
    expect(o.code, o.stderr).toBe(0);
    expect(o.json!.result.networks[0]).toMatchObject({ ipRange: '198.51.100.224/28' });
  });

  it('points at the place of an error in a file', async () => {
    const file = join(dir, 'macvlanctl.yaml');
    writeFileSync(file, 'networks:\n  lan:\n    parent: eno1\n    iprange: auto\n');
    const r = await macvlanctl(lab.host('h1'), ['plan', '-f', file], { root: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/macvlanctl\.yaml:4:5 networks\.lan\.iprange: .*ip_range/);
  });

  const bad: [string, string[], string, RegExp][] = [
    ['missing parent', ['plan', 'x', '--parent', 'eth7'], 'PARENT_NOT_FOUND', /Interfaces here: eno1/],
    ['range holding the gateway', ['plan', 'x', '--parent', 'eno1', '--ip-range', '198.51.100.0/27'], 'RANGE_CONFLICT', /holds the gateway 198\.51\.100\.1/],
    ['host bits set', ['plan', 'x', '--parent', 'eno1', '--subnet', '198.51.100.9/24'], 'ADDRESS_INVALID', /198\.51\.100\.0\/24/],
    ['unknown option', ['plan', 'x', '--parnet', 'eno1'], 'USAGE', /unknown option '--parnet'/],
  ];
  for (const [title, args, code, message] of bad) {
    it(`refuses ${title} with exit 2, a JSON error and no change`, async () => {
      const h = lab.host('h1');
      const before = await hostFingerprint(h);
      const r = await macvlanctl(h, [...args, '--json'], { root: dir });
      expect(r.code).toBe(2);
      expect(r.json!.ok).toBe(false);
      expect(r.json!.error!.code).toBe(code);
      expect(r.json!.error!.message).toMatch(message);
      expect(await hostFingerprint(h)).toBe(before);
    });
  }
});

import { describe, expect, it } from 'vitest';
import { flagsToRaw } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { isManagedFile, managedHeader } from '../../src/backends/render-common.js';
import { renderIfupdown } from '../../src/backends/ifupdown/render.js';
import { networkdDropInPath, renderNetworkd } from '../../src/backends/networkd/render.js';
import { NM_MACVLAN_MODE, nmConnectionUuid, renderNetworkManager, uuidV5 } from '../../src/backends/networkmanager/render.js';
import { renderPersistence } from '../../src/backends/render.js';
import { renderSystemdUnit, systemdQuote } from '../../src/backends/systemd-unit/render.js';
import { RENDER_BACKENDS } from '../../src/backends/rendered-file.js';
import { SCENARIOS, scenario, scenarioNetwork } from '../golden/scenarios.js';
import { hostFacts } from '../support/fixture-facts.js';

const all = SCENARIOS.flatMap((s) => RENDER_BACKENDS.map((b) => ({ s, b, files: renderPersistence(b, scenarioNetwork(s), s.context) })));

describe('every rendered file', () => {
  it.each(all.map((x) => [`${x.s.name}/${x.b}`, x] as const))('%s: header, modes, plain text', (_label, { s, b, files }) => {
    for (const f of files) {
      // A script (NetworkManager's dispatcher) starts with its interpreter, the header right after.
      const lines = f.content.split('\n');
      expect(lines[0] === '#!/bin/sh' ? lines[1] : lines[0]).toBe(managedHeader(s.network));
      expect(isManagedFile(f.content, s.network)).toBe(true);
      expect(isManagedFile(f.content, `${s.network}x`)).toBe(false);
      expect(f.path).toMatch(/^\/[^\s]*$/);
      expect(f.path.split('/')).not.toContain('..');
      expect(f.mode).toBe(f.path.includes('/dispatcher.d/') ? 0o755 : b === 'networkmanager' ? 0o600 : 0o644);
      expect(f.content.endsWith('\n')).toBe(true);
      expect(f.content).not.toMatch(/\r|[ \t]\n|\n\n\n/);
    }
  });

  it('is never produced for a network without host access (nothing to persist)', () => {
    const n = computePlan([toDesired(flagsToRaw('mynet', { parent: 'eno1', ipRange: ['198.51.100.192/27'], hostAccess: false }))], hostFacts()).networks[0]!;
    expect(n.shim).toBeUndefined();
    for (const b of RENDER_BACKENDS) expect(renderPersistence(b, n, scenario('recipe').context)).toEqual([]);
  });

  it('says when a backend lacks its context', () => {
    const n = scenarioNetwork(scenario('recipe'));
    expect(() => renderPersistence('networkd', n)).toThrow(/parent's .network file/);
    expect(() => renderPersistence('systemd', n)).toThrow(/installed macvlanctl/);
  });

  it('recognises our header only on the first line', () => {
    expect(isManagedFile(`# x\n${managedHeader('a')}\n`)).toBe(false);
    expect(isManagedFile(`${managedHeader('a')}\n[Unit]\n`)).toBe(true);
  });
});

describe('networkd', () => {
  const recipe = scenarioNetwork(scenario('recipe'));

  it('puts the parent drop-in under /etc whatever directory the parent file is in', () => {
    expect(networkdDropInPath('/run/systemd/network/10-netplan-eno1.network', 'mynet')).toBe('/etc/systemd/network/10-netplan-eno1.network.d/macvlanctl-mynet.conf');
    expect(networkdDropInPath('/usr/lib/systemd/network/80-eno1.network', 'mynet')).toBe('/etc/systemd/network/80-eno1.network.d/macvlanctl-mynet.conf');
    expect(() => networkdDropInPath('/etc/systemd/network/10-eno1.netdev', 'mynet')).toThrow(/not a .network file/);
  });

  it('writes the macvlan mode as networkd spells it', () => {
    const files = renderNetworkd(scenarioNetwork(scenario('mode-vepa')), { parentNetworkFile: '/etc/systemd/network/10-eno1.network' });
    expect(files[0]!.content).toContain('\n[MACVLAN]\nMode=vepa\n');
  });

  it('has no IPv6 autoconfiguration on an IPv4-only shim, and link-local only with IPv6', () => {
    const v4 = renderNetworkd(recipe, { parentNetworkFile: '/etc/systemd/network/10-eno1.network' })[1]!.content;
    expect(v4).toContain('LinkLocalAddressing=no\nIPv6AcceptRA=no\n');
    expect(v4).not.toMatch(/\[Address\]|2001:|::/);
    const v6 = renderNetworkd(scenarioNetwork(scenario('ipv6')), { parentNetworkFile: '/etc/systemd/network/10-eno1.network' })[1]!.content;
    expect(v6).toContain('LinkLocalAddressing=ipv6\nIPv6AcceptRA=no\n');
    expect(v6).toContain('[Address]\nAddress=2001:db8:1:0:ffff:ffff:fffe:ffff/128\nDuplicateAddressDetection=none\n');
    expect(v6).toContain('[Route]\nDestination=2001:db8:1:0:ffff:ffff:fffe:0/112\n');
  });
});

describe('NetworkManager', () => {
  it('makes RFC 4122 version-5 UUIDs (the RFC test vector)', () => {
    // uuid5(NAMESPACE_DNS, "www.example.com"), as Python's uuid module gives it.
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives each network one stable connection UUID', () => {
    const u = nmConnectionUuid('mynet');
    expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(nmConnectionUuid('mynet')).toBe(u);
    expect(nmConnectionUuid('mynet2')).not.toBe(u);
  });

  it("uses NM's numbering of macvlan modes", () => {
    expect(NM_MACVLAN_MODE).toEqual({ vepa: 1, bridge: 2, private: 3, passthru: 4 });
    expect(renderNetworkManager(scenarioNetwork(scenario('mode-vepa')))[0]!.content).toContain('\n[macvlan]\nparent=eno1\nmode=1\n');
  });

  it('disables IPv6 on an IPv4-only shim', () => {
    expect(renderNetworkManager(scenarioNetwork(scenario('recipe')))[0]!.content).toMatch(/\[ipv6\]\nmethod=disabled\n$/);
  });
});

describe('ifupdown', () => {
  it('creates the shim with its MAC before the link goes up and routes after', () => {
    const text = renderIfupdown(scenarioNetwork(scenario('mode-vepa')))[0]!.content;
    const body = text.split('\n').filter((l) => l.startsWith('    ')).map((l) => l.trim());
    const stage = (l: string) => l.split(' ')[0];
    expect(body.map(stage)).toEqual(['pre-up', 'pre-up', 'pre-up', 'pre-up', 'pre-up', 'up', 'post-down']);
    // Skipped when our shim (by its MAC) is already there; anything else of that name makes `ip link add` fail.
    expect(body[0]).toMatch(/^pre-up ip link show dev mynet-shim 2>\/dev\/null \| grep -q 'link\/ether ([0-9a-f:]{17}) ' \|\| ip link add mynet-shim link eno1 address \1 type macvlan mode vepa$/);
    expect(text).toContain('\nauto mynet-shim\niface mynet-shim inet manual\n');
  });
});

describe('systemd unit', () => {
  it('quotes what systemd would otherwise split or expand', () => {
    expect(systemdQuote('/usr/local/bin/macvlanctl')).toBe('/usr/local/bin/macvlanctl');
    expect(systemdQuote('/opt/my tools/macvlanctl')).toBe('"/opt/my tools/macvlanctl"');
    expect(systemdQuote('/opt/100%/x')).toBe('/opt/100%%/x');
    expect(systemdQuote('/opt/$HOME/x')).toBe('/opt/$$HOME/x');
    expect(systemdQuote('/opt/"q"\\x')).toBe('"/opt/\\"q\\"\\\\x"');
  });

  it('refuses a command that does not start with an absolute path', () => {
    expect(() => renderSystemdUnit(scenarioNetwork(scenario('recipe')), { command: ['macvlanctl'] })).toThrow(/absolute path/);
    expect(() => renderSystemdUnit(scenarioNetwork(scenario('recipe')), { command: [] })).toThrow(/absolute path/);
  });

  it('runs up and down with the network name', () => {
    const text = renderSystemdUnit(scenarioNetwork(scenario('long-name')), { command: ['/usr/bin/node', '/opt/macvlanctl/bin/macvlanctl'] })[0]!.content;
    expect(text).toContain('\nExecStart=/usr/bin/node /opt/macvlanctl/bin/macvlanctl up homeassistant-lan\n');
    expect(text).toContain('\nExecStop=/usr/bin/node /opt/macvlanctl/bin/macvlanctl down homeassistant-lan\n');
  });
});

describe('the long-name scenario', () => {
  it('uses the shortened shim name everywhere', () => {
    const n = scenarioNetwork(scenario('long-name'));
    expect(n.shim!.interface).toMatch(/^homeassis-[0-9a-f]{5}$/);
    const text = all.filter((x) => x.s.name === 'long-name').flatMap((x) => x.files.map((f) => f.content)).join('\n');
    expect(text).not.toContain('homeassistant-lan-shim');
    expect(text).toContain(n.shim!.interface);
  });
});

describe('the proxy NDP files of a dual-stack network are found again as ours (status, destroy)', () => {
  it('the networkd sysctl.d file and the NetworkManager dispatcher script, header after the #! line', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join, dirname } = await import('node:path');
    const { readManagedFiles } = await import('../../src/gather/managed-files.js');
    const s = scenario('ipv6');
    const root = mkdtempSync(join(tmpdir(), 'macvlanctl-managed-'));
    try {
      const files = [...renderPersistence('networkd', scenarioNetwork(s), s.context), ...renderPersistence('networkmanager', scenarioNetwork(s), s.context)];
      for (const f of files) {
        mkdirSync(join(root, dirname(f.path)), { recursive: true });
        writeFileSync(join(root, f.path), f.content, { mode: f.mode });
      }
      const found = readManagedFiles(root).map((m) => m.path);
      expect(found).toEqual(expect.arrayContaining(['/etc/sysctl.d/90-macvlanctl-mynet.conf', '/etc/NetworkManager/dispatcher.d/90-macvlanctl-mynet']));
      expect(found).toHaveLength(files.length);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

/**
 * The persistence backends behind one interface (src/backends/backend.ts):
 * the registry is complete, every backend declares where its files go and
 * which of them its manager reads, and nothing outside src/backends names a
 * backend's paths (so adding a backend is its folder and a registry line).
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RENDER_BACKENDS } from '../../src/model/desired.js';
import { BACKENDS, CONFIGURATION_SOURCES, backendNamed, backendOwning, fallbackBackend } from '../../src/backends/registry.js';
import { readManagedFiles } from '../../src/gather/managed-files.js';
import { loadOperation } from '../../src/apply/operations.js';
import { networkManagerMayRun } from '../../src/backends/networkmanager/profiles.js';
import type { RootReader } from '../../src/backends/root-reader.js';
import { SCENARIOS, scenario, scenarioNetwork } from '../golden/scenarios.js';

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Source text without comments (a comment may name a path to explain; code must not). Naive, but no string in src/ holds a comment opener. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** The managers' paths: their configuration and runtime folders, and every path a backend or netplan declares. */
const MANAGER_PATHS = [
  ...new Set([
    '/etc/systemd/network',
    '/etc/NetworkManager',
    '/etc/network/',
    '/etc/systemd/system',
    '/run/systemd',
    '/run/NetworkManager',
    '/run/network/',
    '/usr/sbin/NetworkManager',
    ...CONFIGURATION_SOURCES.flatMap((s) => [...s.evidence.files, ...s.evidence.dirs]),
    ...BACKENDS.flatMap((b) => b.ownFiles.dirs.map((d) => d.dir)),
  ]),
];

export function pathLiteralsOutsideBackends(files: readonly { rel: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    if (f.rel.startsWith('backends/')) continue;
    const c = code(f.text);
    for (const p of MANAGER_PATHS) if (c.includes(p)) out.push(`${f.rel} names ${p}`);
  }
  return out;
}

const everyScenarioFile = SCENARIOS.flatMap((s) => BACKENDS.flatMap((b) => b.render(scenarioNetwork(s), s.context).map((f) => ({ s, b, f }))));

describe('the backend registry', () => {
  it('has one backend for every name --persist accepts, and one fallback', () => {
    expect(BACKENDS.map((b) => b.name).sort()).toEqual([...RENDER_BACKENDS].sort());
    expect(BACKENDS.filter((b) => b.fallback).map((b) => b.name)).toEqual([fallbackBackend().name]);
    // The fallback claims no parent; every other backend does (else auto could never choose it).
    expect(BACKENDS.filter((b) => !b.claims).map((b) => b.name)).toEqual([fallbackBackend().name]);
  });

  it('prefers, among equal claims, networkd, then NetworkManager, then ifupdown', () => {
    expect(BACKENDS.filter((b) => b.claims).map((b) => b.name)).toEqual(['networkd', 'networkmanager', 'ifupdown']);
  });

  it('puts every rendered file where the backend says its files are (so status and destroy find them), and no other backend owns it', () => {
    expect(everyScenarioFile.length).toBeGreaterThan(20);
    for (const { b, f } of everyScenarioFile) {
      const dir = dirname(f.path);
      const declared = b.ownFiles.dirs.some((d) => d.dir === dir || (d.dropInFolders && dirname(dir) === d.dir && dir.endsWith('.d')));
      expect(declared, `${b.name}: ${f.path}`).toBe(true);
      expect([b.name, undefined], f.path).toContain(backendOwning(f.path)?.name);
    }
  });

  it('tells each manager only about the files it reads', () => {
    expect(backendOwning('/etc/systemd/network/10-macvlanctl-lan.netdev')?.name).toBe('networkd');
    expect(backendOwning('/etc/systemd/network/10-eno1.network.d/macvlanctl-lan.conf')?.name).toBe('networkd');
    expect(backendOwning('/etc/NetworkManager/system-connections/macvlanctl-lan.nmconnection')?.name).toBe('networkmanager');
    expect(backendOwning('/etc/network/interfaces.d/macvlanctl-lan')?.name).toBe('ifupdown');
    expect(backendOwning('/etc/systemd/system/macvlanctl-lan.service')?.name).toBe('systemd');
    expect(backendOwning('/etc/systemd/system/multi-user.target.wants/macvlanctl-lan.service')?.name).toBe('systemd');
    // systemd-sysctl reads it, not networkd: no manager is told.
    expect(backendOwning('/etc/sysctl.d/90-macvlanctl-lan.conf')).toBeUndefined();
  });

  it('groups removed files by the backend that owns them, for the load steps', () => {
    const ops = loadOperation(
      'ifupdown',
      [
        { kind: 'file-write', title: '', path: '/etc/network/interfaces.d/macvlanctl-lan', content: '', mode: 0o644 },
        { kind: 'file-remove', title: '', path: '/etc/NetworkManager/system-connections/macvlanctl-lan.nmconnection' },
        { kind: 'file-remove', title: '', path: '/etc/sysctl.d/90-macvlanctl-lan.conf' },
      ],
      'lan-shim',
    );
    expect(ops.map((o) => (o.kind === 'persist-load' ? [o.backend, o.written, o.removed] : o.kind))).toEqual([
      ['ifupdown', ['/etc/network/interfaces.d/macvlanctl-lan'], []],
      ['networkmanager', [], ['/etc/NetworkManager/system-connections/macvlanctl-lan.nmconnection']],
    ]);
  });

  it('renders again from a record what it rendered (networkd finds the parent file from the drop-in); the systemd unit is not re-rendered', () => {
    for (const s of SCENARIOS) {
      const n = scenarioNetwork(s);
      for (const b of BACKENDS) {
        const files = b.render(n, s.context);
        if (b.fallback) expect(b.renderAgain(n, files)).toBeUndefined();
        else expect(b.renderAgain(n, files), `${s.name}/${b.name}`).toEqual(files);
      }
    }
  });
});

describe('the evidence for --persist auto', () => {
  it('is the managers’ configuration that decided before there was an interface: networkd, netplan, ifupdown, NetworkManager, enabled units', () => {
    expect([...new Set(CONFIGURATION_SOURCES.flatMap((s) => s.evidence.files))].sort()).toEqual(['/etc/NetworkManager/NetworkManager.conf', '/etc/network/interfaces']);
    expect([...new Set(CONFIGURATION_SOURCES.flatMap((s) => s.evidence.dirs))].sort()).toEqual([
      '/etc/NetworkManager/conf.d',
      '/etc/NetworkManager/system-connections',
      '/etc/netplan',
      '/etc/network/interfaces.d',
      '/etc/systemd/network',
      '/etc/systemd/system/multi-user.target.wants',
      '/etc/systemd/system/network-online.target.wants',
      '/run/NetworkManager/system-connections',
      '/run/systemd/network',
    ]);
  });
});

describe('NetworkManager on a root', () => {
  const rootWith = (...paths: string[]): RootReader => ({
    list: () => [],
    info: (p) => (paths.includes(p) ? { type: 'file', size: 1 } : undefined),
    read: () => undefined,
  });

  it('may run where its program or its runtime folder is (only then is nmcli asked)', () => {
    expect(networkManagerMayRun(rootWith())).toBe(false);
    expect(networkManagerMayRun(rootWith('/usr/sbin/NetworkManager'))).toBe(true);
    expect(networkManagerMayRun(rootWith('/usr/bin/NetworkManager'))).toBe(true);
    expect(networkManagerMayRun(rootWith('/run/NetworkManager'))).toBe(true);
    expect(networkManagerMayRun(rootWith('/usr/sbin/ifup'))).toBe(false);
  });
});

describe('files of ours on a root', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    root = undefined;
  });

  it('are all found again by their header, wherever each backend writes them, the enabling symlink included', () => {
    root = mkdtempSync(join(tmpdir(), 'mvl-backends-'));
    const s = scenario('ipv6');
    const n = scenarioNetwork(s);
    const written: string[] = [];
    for (const b of BACKENDS) {
      for (const f of b.render(n, s.context)) {
        mkdirSync(dirname(join(root, f.path)), { recursive: true });
        writeFileSync(join(root, f.path), f.content, { mode: f.mode });
        written.push(f.path);
      }
      const link = b.enableLink?.(n.name);
      if (link) {
        mkdirSync(dirname(join(root, link.path)), { recursive: true });
        symlinkSync(link.target, join(root, link.path));
        written.push(link.path);
      }
    }
    expect(written.length).toBeGreaterThan(8);
    expect(readManagedFiles(root).map((m) => m.path)).toEqual([...written].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
});

describe('outside src/backends', () => {
  const files = sourceFiles(SRC).map((p) => ({ rel: relative(SRC, p), text: readFileSync(p, 'utf8') }));

  it("no module names a manager's paths: they are the backends' to know", () => {
    expect(pathLiteralsOutsideBackends(files)).toEqual([]);
  });

  it('the check catches a path in code, and leaves one in a comment alone', () => {
    expect(
      pathLiteralsOutsideBackends([
        { rel: 'apply/x.ts', text: "if (p.startsWith('/etc/NetworkManager/')) return 'networkmanager';" },
        { rel: 'gather/y.ts', text: "const DIRS = [\n  '/etc/netplan',\n];" },
        { rel: 'plan/z.ts', text: '/** e.g. /etc/systemd/network/10-x.netdev */\n// or /etc/network/interfaces\nconst a = 1;' },
        { rel: 'backends/w.ts', text: "const D = '/etc/systemd/network';" },
      ]),
    ).toEqual(['apply/x.ts names /etc/NetworkManager', 'gather/y.ts names /etc/netplan']);
  });

  it('every backend is reachable by its name', () => {
    for (const name of RENDER_BACKENDS) expect(backendNamed(name).name).toBe(name);
  });
});

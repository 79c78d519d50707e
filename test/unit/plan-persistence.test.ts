/**
 * Persistence in the plan (which files, created/updated/deleted), the
 * operations apply runs for them, and the file port's refusal and rollback,
 * on a temporary root.
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { planOperations } from '../../src/apply/operations.js';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { MacvlanError } from '../../src/model/errors.js';
import type { HostFacts, ManagedFile, PersistenceFacts } from '../../src/model/facts.js';
import type { PlannedNetwork, PlannedPersistence } from '../../src/model/plan.js';
import { commandLines } from '../../src/present/commands.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { detectionNeeded } from '../../src/plan/persist-choice.js';
import type { ManagerFacts } from '../../src/model/manager-facts.js';
import { readManagedFiles } from '../../src/gather/managed-files.js';
import { gatherManagerFacts } from '../../src/gather/persist-facts.js';
import { realFilePort } from '../../src/backends/write-files.js';
import { hostFacts } from '../support/fixture-facts.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'persist');
const SELF = ['/usr/bin/node', '/opt/macvlanctl/bin/macvlanctl'];
const RECIPE: NetworkFlags = { parent: 'eno1', ipRange: ['198.51.100.192/27'], auxAddress: ['host=198.51.100.223'] };

// What detection reads from a root with no network manager's files: --persist auto means the unit.
let managers: ManagerFacts;
beforeAll(async () => {
  const empty = mkdtempSync(join(tmpdir(), 'mvl-empty-root-'));
  managers = await gatherManagerFacts(empty, { live: false });
  rmSync(empty, { recursive: true });
});

/** The fingerprint of the managers' configuration (src/gather/persist-evidence.ts) in these facts. */
const EVIDENCE = 'e0';

function facts(managed: ManagedFile[] = []): HostFacts {
  return hostFacts('fresh-host', { persistence: { managed, selfCommand: SELF, managers, evidence: EVIDENCE } });
}

function plan(flags: NetworkFlags, f: HostFacts = facts(), name = 'mynet') {
  return computePlan([toDesired(flagsToRaw(name, flags))], f);
}

const persistChanges = (p: ReturnType<typeof plan>) => p.changes.filter((c) => c.kind === 'persist-file').map((c) => `${c.action} ${c.path}`);

/** `plan --show-commands`: the lines printed from apply's own operations. */
const showCommands = (p: Parameters<typeof planOperations>[0]) => commandLines(planOperations(p));

describe('persistence in the plan', () => {
  it('--persist auto on a host with no network manager of its own picks the unit and says why', () => {
    const n = plan(RECIPE).networks[0]!;
    expect(n.persistence?.backend).toBe('systemd');
    // The reason names the parent nothing configures and what the unit does instead (not merely some text).
    expect(n.persistence?.reason).toBe('no network manager configures eno1: a systemd unit brings the shim up at boot');
  });

  it('a new network with --persist systemd: the unit and its enable symlink are created, then loaded', () => {
    const p = plan({ ...RECIPE, persist: 'systemd' });
    const n = p.networks[0]!;
    expect(n.persistence?.backend).toBe('systemd');
    expect(n.persistence?.files.map((f) => f.path)).toEqual(['/etc/systemd/system/macvlanctl-mynet.service']);
    expect(n.persistence?.files[0]!.content).toContain('ExecStart=/usr/bin/node /opt/macvlanctl/bin/macvlanctl up mynet');
    expect(persistChanges(p)).toEqual([
      'create /etc/systemd/system/macvlanctl-mynet.service',
      'create /etc/systemd/system/multi-user.target.wants/macvlanctl-mynet.service',
    ]);
    const ops = planOperations(p);
    const kinds = ops.map((o) => o.kind);
    // Files after the shim, the record after the files, loading last of all.
    expect(kinds.indexOf('file-write')).toBeGreaterThan(kinds.lastIndexOf('ip'));
    expect(kinds.indexOf('state-write')).toBeGreaterThan(kinds.indexOf('file-link'));
    expect(kinds.at(-1)).toBe('persist-load');
    expect(ops.at(-1)).toMatchObject({ backend: 'systemd', written: ['/etc/systemd/system/macvlanctl-mynet.service', '/etc/systemd/system/multi-user.target.wants/macvlanctl-mynet.service'], removed: [] });
  });

  it('files already as planned are no-ops; a changed one is updated; nothing else is touched', () => {
    const first = plan({ ...RECIPE, persist: 'systemd' }).networks[0]!;
    const unit = first.persistence!.files[0]!;
    const managed: ManagedFile[] = [
      { path: unit.path, network: 'mynet', content: unit.content, mode: unit.mode },
      { path: first.persistence!.enable!.path, network: 'mynet', symlink: first.persistence!.enable!.target },
      { path: '/etc/network/interfaces.d/macvlanctl-other', network: 'other', content: '# Managed by macvlanctl for network other. x\n', mode: 0o644 },
    ];
    expect(persistChanges(plan({ ...RECIPE, persist: 'systemd' }, facts(managed)))).toEqual([
      `noop ${unit.path}`,
      'noop /etc/systemd/system/multi-user.target.wants/macvlanctl-mynet.service',
    ]);
    managed[0] = { ...managed[0]!, content: `${unit.content}# edited\n` };
    expect(persistChanges(plan({ ...RECIPE, persist: 'systemd' }, facts(managed)))[0]).toBe(`update ${unit.path}`);
    managed[0] = { ...managed[0]!, content: unit.content, mode: 0o600 };
    expect(persistChanges(plan({ ...RECIPE, persist: 'systemd' }, facts(managed)))[0]).toBe(`update ${unit.path}`);
  });

  it('switching backend deletes the old files, so two managers never both bring up the shim', () => {
    const old: ManagedFile = { path: '/etc/network/interfaces.d/macvlanctl-mynet', network: 'mynet', content: '# Managed by macvlanctl for network mynet. x\n', mode: 0o644 };
    const p = plan({ ...RECIPE, persist: 'systemd' }, facts([old]));
    expect(persistChanges(p)).toContain('delete /etc/network/interfaces.d/macvlanctl-mynet');
    const load = planOperations(p).at(-1);
    expect(load).toMatchObject({ kind: 'persist-load', removed: ['/etc/network/interfaces.d/macvlanctl-mynet'] });
  });

  it('a switch away from NetworkManager tells NetworkManager too, so it forgets the removed keyfile', () => {
    const keyfile: ManagedFile = { path: '/etc/NetworkManager/system-connections/macvlanctl-mynet.nmconnection', network: 'mynet', content: '# Managed by macvlanctl for network mynet. x\n', mode: 0o600 };
    const p = plan({ ...RECIPE, persist: 'systemd' }, facts([keyfile]));
    const loads = planOperations(p).filter((o) => o.kind === 'persist-load');
    expect(loads).toEqual([
      expect.objectContaining({ backend: 'systemd', written: ['/etc/systemd/system/macvlanctl-mynet.service', '/etc/systemd/system/multi-user.target.wants/macvlanctl-mynet.service'], removed: [] }),
      expect.objectContaining({ backend: 'networkmanager', written: [], removed: [keyfile.path] }),
    ]);
  });

  it('--no-host-access and --persist none remove our files; none warns that the shim does not survive a reboot', () => {
    const old: ManagedFile = { path: '/etc/systemd/system/macvlanctl-mynet.service', network: 'mynet', content: '# Managed by macvlanctl for network mynet. x\n', mode: 0o644 };
    const noAccess = plan({ ...RECIPE, auxAddress: [], hostAccess: false, persist: 'systemd' }, facts([old]));
    expect(noAccess.networks[0]!.persistence?.backend).toBe('none');
    expect(persistChanges(noAccess)).toEqual(['delete /etc/systemd/system/macvlanctl-mynet.service']);
    const none = plan({ ...RECIPE, persist: 'none' }, facts([old]));
    expect(persistChanges(none)).toEqual(['delete /etc/systemd/system/macvlanctl-mynet.service']);
    expect(none.warnings.map((w) => w.code)).toContain('NOT_PERSISTENT');
  });

  it('--no-host-access with a backend that cannot work here is not refused: nothing would be written', () => {
    const p = plan({ ...RECIPE, auxAddress: [], hostAccess: false, persist: 'networkd' });
    expect(p.networks[0]!.persistence?.backend).toBe('none');
    expect(() => plan({ ...RECIPE, persist: 'networkd' })).toThrow(/networkd/);
  });

  it('--show-commands writes each file as a here-document with its mode', () => {
    const cmds = showCommands(plan({ ...RECIPE, persist: 'systemd' }));
    const unit = cmds.find((c) => c.startsWith('cat > /etc/systemd/system/macvlanctl-mynet.service'));
    expect(unit).toMatch(/<<'EOF'\n# Managed by macvlanctl for network mynet\..*\nEOF$/s);
    expect(cmds).toContain('chmod 0644 /etc/systemd/system/macvlanctl-mynet.service');
    expect(cmds).toContain('ln -sf /etc/systemd/system/macvlanctl-mynet.service /etc/systemd/system/multi-user.target.wants/macvlanctl-mynet.service');
  });
});

describe('a backend apply chose is kept while its files are in place', () => {
  const desired = (flags: NetworkFlags = RECIPE) => [toDesired(flagsToRaw('mynet', flags))];
  // What apply leaves behind: the files as planned, and the record of that plan.
  type Applied = Pick<PersistenceFacts, 'managed' | 'recorded' | 'evidence'>;
  function applied(first: PlannedNetwork): Applied {
    const p = first.persistence!;
    const managed: ManagedFile[] = p.files.map((f) => ({ path: f.path, network: 'mynet', content: f.content, mode: f.mode }));
    if (p.enable) managed.push({ path: p.enable.path, network: 'mynet', symlink: p.enable.target });
    return { managed, recorded: { mynet: { parent: first.parent, persistence: p } }, evidence: EVIDENCE };
  }
  const withoutDetection = (a: Applied) => hostFacts('fresh-host', { persistence: { ...a, selfCommand: SELF } });
  const withRecord = (a: Applied, change: (p: PlannedPersistence) => void): Applied => {
    const p = structuredClone(a.recorded!.mynet!.persistence);
    change(p);
    return { ...a, recorded: { mynet: { ...a.recorded!.mynet!, persistence: p } } };
  };

  it('networkd on Arch: without the managers’ facts the next plan keeps backend, reason, warnings and parent file, and changes nothing', async () => {
    const arch = await gatherManagerFacts(join(FIXTURES, 'arch-networkd'), { live: false });
    const first = plan(RECIPE, hostFacts('fresh-host', { persistence: { managed: [], selfCommand: SELF, managers: arch, evidence: EVIDENCE } })).networks[0]!;
    expect(first.persistence).toMatchObject({ backend: 'networkd', parentNetworkFile: '/etc/systemd/network/20-wired.network', evidence: EVIDENCE, warnings: [] });
    const after = applied(first);
    const f = hostFacts('fresh-host');
    expect(detectionNeeded(desired(), f, after)).toBe(false);
    // A networkd record without the parent's file (written before it was recorded) is not trusted.
    expect(detectionNeeded(desired(), f, withRecord(after, (p) => delete p.parentNetworkFile))).toBe(true);
    const again = plan(RECIPE, withoutDetection(after));
    expect(again.networks[0]!.persistence).toEqual(first.persistence);
    expect(persistChanges(again).every((c) => c.startsWith('noop '))).toBe(true);
  });

  it('detects again when a file was edited or removed, the parent changed, or --persist names another backend', () => {
    const first = plan(RECIPE).networks[0]!;
    expect(first.persistence?.backend).toBe('systemd');
    const after = applied(first);
    const f = hostFacts('fresh-host');
    expect(detectionNeeded(desired(), f, after)).toBe(false);
    expect(detectionNeeded(desired({ ...RECIPE, persist: 'systemd' }), f, after)).toBe(false);
    expect(detectionNeeded(desired({ ...RECIPE, persist: 'networkd' }), f, after)).toBe(true);
    const edited = { ...after, managed: after.managed.map((m, i) => (i === 0 ? { ...m, content: `${m.content}# edited\n` } : m)) };
    expect(detectionNeeded(desired(), f, edited)).toBe(true);
    expect(detectionNeeded(desired(), f, { ...after, managed: after.managed.slice(1) })).toBe(true);
    const moved = { ...after, recorded: { mynet: { ...after.recorded!.mynet!, parent: 'eno2' } } };
    expect(detectionNeeded(desired(), f, moved)).toBe(true);
    expect(detectionNeeded(desired(), f, { managed: [], recorded: {} })).toBe(true);
    // The managers' configuration changed (the parent's .network renamed, netplan's renderer, a source line).
    expect(detectionNeeded(desired(), f, { ...after, evidence: 'e1' })).toBe(true);
    // A record from before the fingerprint, or one without the detection's warnings, is not trusted.
    expect(detectionNeeded(desired(), f, withRecord(after, (p) => delete p.evidence))).toBe(true);
    expect(detectionNeeded(desired(), f, withRecord(after, (p) => delete p.warnings))).toBe(true);
    // With the detection skipped wrongly, nothing about persistence would be planned: so it is not skipped then.
    expect(plan(RECIPE, withoutDetection(edited)).networks[0]!.persistence).toBeUndefined();
  });

  it('needs no detection for --persist none or --no-host-access, and still removes the old files', () => {
    const first = plan(RECIPE).networks[0]!;
    const after = applied(first);
    const f = hostFacts('fresh-host');
    expect(detectionNeeded(desired({ ...RECIPE, persist: 'none' }), f, { managed: after.managed, recorded: {} })).toBe(false);
    expect(detectionNeeded(desired({ ...RECIPE, auxAddress: [], hostAccess: false }), f, { managed: after.managed, recorded: {} })).toBe(false);
    const none = plan({ ...RECIPE, persist: 'none' }, withoutDetection(after));
    expect(persistChanges(none)).toEqual(after.managed.map((m) => `delete ${m.path}`));
  });
});

describe('our files on disk', () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function put(path: string, content: string): void {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }

  it('are found by their header only; a look-alike without it, and a symlink elsewhere, are not ours', () => {
    root = mkdtempSync(join(tmpdir(), 'mvl-managed-'));
    put('/etc/systemd/network/10-macvlanctl-lan.netdev', '# Managed by macvlanctl for network lan. Changes are overwritten\n[NetDev]\n');
    put('/etc/systemd/network/10-eno1.network.d/macvlanctl-lan.conf', '# Managed by macvlanctl for network lan. Changes\n');
    put('/etc/systemd/network/10-eno1.network', '[Match]\nName=eno1\n');
    put('/etc/network/interfaces.d/macvlanctl-lookalike', 'auto x\n');
    mkdirSync(join(root, '/etc/systemd/system/multi-user.target.wants'), { recursive: true });
    symlinkSync('/etc/systemd/system/macvlanctl-lan.service', join(root, '/etc/systemd/system/multi-user.target.wants/macvlanctl-lan.service'));
    symlinkSync('/lib/systemd/system/macvlanctl-x.service', join(root, '/etc/systemd/system/multi-user.target.wants/macvlanctl-x.service'));
    expect(readManagedFiles(root).map((f) => `${f.network} ${f.path}`)).toEqual([
      'lan /etc/systemd/network/10-eno1.network.d/macvlanctl-lan.conf',
      'lan /etc/systemd/network/10-macvlanctl-lan.netdev',
      'lan /etc/systemd/system/multi-user.target.wants/macvlanctl-lan.service',
    ]);
  });

  it('a write over a user file is refused; a write and a remove are undone exactly, directories included', () => {
    root = mkdtempSync(join(tmpdir(), 'mvl-files-'));
    const port = realFilePort(root);
    put('/etc/network/interfaces.d/macvlanctl-lan', 'my own\n');
    expect(() => port.write('/etc/network/interfaces.d/macvlanctl-lan', '# Managed by macvlanctl for network lan. x\n', 0o644)).toThrow(MacvlanError);
    expect(readFileSync(join(root, '/etc/network/interfaces.d/macvlanctl-lan'), 'utf8')).toBe('my own\n');

    const undo = port.write('/etc/systemd/network/10-eno1.network.d/macvlanctl-lan.conf', '# Managed by macvlanctl for network lan. x\n', 0o644);
    expect((lstatSync(join(root, '/etc/systemd/network/10-eno1.network.d/macvlanctl-lan.conf')).mode & 0o777).toString(8)).toBe('644');
    undo();
    expect(readdirSync(join(root, 'etc'))).toEqual(['network']); // systemd/network/…d/ made by the write is gone again

    put('/etc/systemd/network/x.network.d/macvlanctl-lan.conf', '# Managed by macvlanctl for network lan. y\n');
    const putBack = port.remove('/etc/systemd/network/x.network.d/macvlanctl-lan.conf');
    expect(() => lstatSync(join(root, '/etc/systemd/network/x.network.d'))).toThrow(); // emptied drop-in dir removed
    putBack();
    expect(readFileSync(join(root, '/etc/systemd/network/x.network.d/macvlanctl-lan.conf'), 'utf8')).toBe('# Managed by macvlanctl for network lan. y\n');
  });
});

/**
 * `--persist auto` reads configuration statically; here the real programs
 * read the same fixture roots and must agree:
 * - ifupdown: `ifquery --list` (the order `ifup -a` follows) on each
 *   interfaces file, with a stand-in for our stanza in interfaces.d — the
 *   order detect.ts judges (source expansion, run-parts names, position of
 *   the parent's `auto` line) must be ifupdown's;
 * - systemd-networkd 252: started in a network namespace of our own, with veth
 *   links named like the parents and the root's network directories
 *   bind-mounted over its own; the .network file it applies to each link
 *   (its link state's NETWORK_FILE) must be the one findParentNetworkFile()
 *   picks, and no file where it picks none.
 * Needs root (mount and network namespaces). Nothing outside the namespaces
 * and the temporary directories is touched.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { findParentNetworkFile } from '../../src/backends/networkd/config-files.js';
import type { ParentLink } from '../../src/model/manager-facts.js';
import { gatherManagerFacts } from '../../src/gather/persist-facts.js';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const FIXTURES = join(import.meta.dirname, '../fixtures/persist');
const IFQUERY = join(import.meta.dirname, '../../.tools/bin/ifquery');
const NETWORKD = ['/lib/systemd/systemd-networkd', '/usr/lib/systemd/systemd-networkd'].find((p) => existsSync(p));
if (!isRoot) console.warn('persist-detect e2e: SKIPPED — needs root for mount and network namespaces');
if (isRoot && !existsSync(IFQUERY)) console.warn('persist-detect e2e: ifupdown checks SKIPPED — run scripts/fetch-tools.sh');
if (isRoot && !NETWORKD) console.warn('persist-detect e2e: networkd checks SKIPPED — systemd-networkd not found');

const temps: string[] = [];
const namespaces: string[] = [];
afterAll(async () => {
  for (const ns of namespaces) await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'macvlanctl-detect-'));
  temps.push(d);
  return d;
}

/** A copy of a fixture root, with a stand-in for our ifupdown file. */
function withOurStanza(fixture: string, network: string): string {
  const root = temp();
  cpSync(join(FIXTURES, fixture), root, { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(root, 'etc/network/interfaces.d'), { recursive: true });
  writeFileSync(join(root, 'etc/network/interfaces.d', `macvlanctl-${network}`), `auto ${network}-shim\niface ${network}-shim inet manual\n`);
  return root;
}

/** `ifquery --list` with the root's /etc/network in place of the machine's (a tmpfs over /etc in a private mount namespace). */
async function ifqueryList(root: string): Promise<string[]> {
  const state = temp();
  const script = `mount -t tmpfs tmpfs /etc && mkdir /etc/network && mount --bind '${join(root, 'etc/network')}' /etc/network && exec '${IFQUERY}' --state-dir '${state}' --list`;
  const r = await exec('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { timeout: 10_000 });
  return r.stdout.trim().split('\n').filter(Boolean);
}

/**
 * The auto order as detect.ts reads the same tree. ifupdown 0.8 brings lo up
 * on its own, first, with or without an `auto lo` line (seen here: ifquery
 * lists lo first in every tree); lo is never a parent, so detect.ts ignores it.
 */
async function ourAutoOrder(root: string): Promise<string[]> {
  const f = await gatherManagerFacts(root);
  const names = [...new Set(f.ifupdown.entries.filter((e) => e.directive === 'auto' || e.directive === 'allow-auto').flatMap((e) => e.args))];
  return ['lo', ...names.filter((n) => n !== 'lo')];
}

describe.skipIf(!isRoot || !existsSync(IFQUERY))('ifupdown reads the fixture roots in the order detect.ts assumes', () => {
  for (const [fixture, network] of [
    ['debian12-ifupdown', 'lan'],
    ['debian12-ifupdown-bridge', 'lan'],
    ['debian12-sourced', 'lan'],
    ['debian12-nm-ifupdown', 'lan'],
    ['ifupdown-source-directory', 'lab-net'],
    ['ifupdown-source-directory', 'lab.net'],
  ] as const) {
    it(`${fixture} with macvlanctl-${network}`, async () => {
      const root = withOurStanza(fixture, network);
      const real = await ifqueryList(root);
      expect(await ourAutoOrder(root)).toEqual(real);
      // and the shim is read exactly when detect.ts says the source line includes our file
      const f = await gatherManagerFacts(root);
      const { includingSource } = await import('../../src/backends/ifupdown/interfaces-file.js');
      expect(includingSource(f.ifupdown.entries, `/etc/network/interfaces.d/macvlanctl-${network}`) !== undefined).toBe(real.includes(`${network}-shim`));
    });
  }

  it('the bridge fixture: ifup -a reaches the shim before br0, as the warning says', async () => {
    expect(await ifqueryList(withOurStanza('debian12-ifupdown-bridge', 'lan'))).toEqual(['lo', 'lan-shim', 'br0']);
  });
});

interface Link {
  name: string;
  mac: string;
}

/** Runs the real networkd on a root's network directories and returns NETWORK_FILE (or undefined) per link. */
async function networkdPicks(fixture: string, links: Link[]): Promise<Record<string, string | undefined>> {
  const root = join(FIXTURES, fixture);
  const work = temp();
  const ns = `pdt${process.pid}${namespaces.length}`;
  namespaces.push(ns);
  await exec('ip', ['netns', 'add', ns]);
  for (const [i, l] of links.entries()) await exec('ip', ['-n', ns, 'link', 'add', l.name, 'address', l.mac, 'type', 'veth', 'peer', 'name', `peer${i}`]);
  const dir = (...rel: string[]) => {
    const p = rel.map((r) => join(root, r)).find((x) => existsSync(x));
    return p ?? mkdtempSync(join(work, 'empty-'));
  };
  const etc = dir('etc/systemd/network');
  const lib = dir('usr/lib/systemd/network', 'lib/systemd/network');
  const run = dir('run/systemd/network');
  const out = join(work, 'links');
  const script = [
    'set -e',
    'mount -t sysfs -o ro sysfs /sys',
    'mount -t tmpfs -o mode=755 tmpfs /run',
    'mkdir -p /run/systemd/network /run/systemd/netif/links /run/systemd/netif/leases /run/systemd/netif/lldp',
    'chown -R systemd-network:systemd-network /run/systemd/netif 2>/dev/null || true',
    `cp -a '${run}/.' /run/systemd/network/`,
    `mount --bind '${etc}' /etc/systemd/network`,
    `mount --bind '${lib}' /usr/lib/systemd/network`,
    `${NETWORKD} & pid=$!`,
    "trap 'kill $pid 2>/dev/null || true' EXIT",
    'sleep 3',
    `mkdir -p '${out}' && cp -a /run/systemd/netif/links/. '${out}/'`,
    // reaped here: an orphan would be left to PID 1, which in a container may never reap it
    'kill $pid && wait $pid || true',
  ].join('\n');
  await exec('nsenter', [`--net=/run/netns/${ns}`, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script], { timeout: 20_000 });
  const result: Record<string, string | undefined> = {};
  const ip = JSON.parse((await exec('ip', ['-n', ns, '-j', 'link', 'show'])).stdout) as { ifname: string; ifindex: number }[];
  for (const l of links) {
    const index = ip.find((x) => x.ifname === l.name)!.ifindex;
    const file = join(out, String(index));
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    result[l.name] = /^NETWORK_FILE=(.*)$/m.exec(text)?.[1];
  }
  await exec('ip', ['netns', 'del', ns]);
  namespaces.splice(namespaces.indexOf(ns), 1);
  expect(readdirSync(out).length).toBeGreaterThan(0); // networkd ran and wrote link states
  return result;
}

describe.skipIf(!isRoot || !NETWORKD)('systemd-networkd applies the file detect.ts picks', () => {
  const cases: [string, Link[]][] = [
    [
      'networkd-precedence',
      [
        { name: 'eno1', mac: '02:00:c6:33:64:18' },
        { name: 'eno2', mac: '02:00:c6:33:64:19' },
        { name: 'eno9', mac: '02:00:c6:33:64:1a' },
      ],
    ],
    [
      'arch-networkd',
      [
        { name: 'enp3s0', mac: '02:00:c6:33:64:20' },
        { name: 'eth0', mac: '02:00:c6:33:64:21' },
        { name: 'wlan0', mac: '02:00:c6:33:64:22' },
      ],
    ],
    // netplan's file matches PermanentMACAddress=, which a veth does not have: neither networkd nor detect.ts match it.
    ['ubuntu-netplan-networkd', [{ name: 'eno1', mac: '52:54:00:12:34:56' }]],
    // systemd's own files (containers, VMs, Wi-Fi) on a Debian tree: ve-* is a container's veth; eno1 gets nothing.
    [
      'debian12-ifupdown',
      [
        { name: 'eno1', mac: '02:00:c6:33:64:30' },
        { name: 've-web', mac: '02:00:c6:33:64:31' },
      ],
    ],
  ];
  for (const [fixture, links] of cases) {
    it(fixture, async () => {
      const real = await networkdPicks(fixture, links);
      const f = await gatherManagerFacts(join(FIXTURES, fixture));
      for (const l of links) {
        const parent: ParentLink = { name: l.name, kind: 'veth', infoKind: 'veth', mac: l.mac };
        const ours = findParentNetworkFile(f.networkd.files, parent);
        // A split-/usr tree's /lib/systemd/network is bind-mounted over this merged-/usr host's /usr/lib one.
        const real1 = fixture.startsWith('debian12') || fixture.startsWith('ubuntu') ? real[l.name]?.replace(/^\/usr\/lib\//, '/lib/') : real[l.name];
        expect(ours && !ours.unmanaged ? ours.file.path : undefined, `${fixture} ${l.name}`).toBe(real1);
      }
    }, 30_000);
  }
});

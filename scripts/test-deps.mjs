#!/usr/bin/env node
// What the end-to-end tests need from Debian, each with the file that shows it
// is there. scripts/run-tests.mjs installs what is missing (as root, with
// apt-get), so that `npm test` works on a fresh Debian 12 machine as the
// README promises; .ci/run calls `node scripts/test-deps.mjs --install` too.
//
//   node scripts/test-deps.mjs            prints the missing packages
//   node scripts/test-deps.mjs --install  installs them (root)
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** [package, files of which any one shows it is installed] */
export const TEST_PACKAGES = [
  ['docker.io', ['dockerd']], // the lab's private Docker engines
  ['busybox-static', ['busybox']], // the containers' image, built in memory
  ['dnsmasq-base', ['dnsmasq']], // a real DHCP server on the lab LAN
  ['iproute2', ['ip']],
  ['procps', ['pkill']],
  ['util-linux', ['unshare', 'nsenter']],
  ['iputils-ping', ['ping']], // the scan's IPv6 all-nodes echo
  ['systemd', ['/lib/systemd/systemd-networkd', '/usr/lib/systemd/systemd-networkd']], // networkd and systemd-analyze
  ['dbus-daemon', ['dbus-daemon']], // the NetworkManager daemon test's private system bus
  ['ca-certificates', ['/etc/ssl/certs/ca-certificates.crt']], // apt-get download over https mirrors
  ['docker-compose', ['docker-compose']], // Compose 1.29, for the Compose project e2e (test/e2e/compose.e2e.test.ts)
];

function present(file) {
  if (file.startsWith('/')) return existsSync(file);
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  return dirs.some((d) => d && existsSync(join(d, file)));
}

/** The packages of TEST_PACKAGES none of whose files is here. */
export function missingTestPackages() {
  return TEST_PACKAGES.filter(([, files]) => !files.some(present)).map(([pkg]) => pkg);
}

/** Installs the missing packages with apt-get; returns the error text, or undefined when all is there. */
export function installTestPackages(log = (line) => process.stderr.write(`${line}\n`)) {
  const missing = missingTestPackages();
  if (missing.length === 0) return undefined;
  if (process.getuid?.() !== 0) return `not root: cannot install ${missing.join(' ')}`;
  if (!present('apt-get')) return `no apt-get here: install ${missing.join(' ')} by hand`;
  log(`installing the Debian packages the end-to-end tests need: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  if (update.status !== 0) return `apt-get update failed (exit ${update.status})`;
  // A temporary policy-rc.d denies starting services while installing: docker.io's postinst would
  // start dockerd in this machine's own network namespace, which the tests must never do (DESIGN.md).
  const policy = '/usr/sbin/policy-rc.d';
  const ours = !existsSync(policy);
  if (ours) writeFileSync(policy, '#!/bin/sh\n# written by macvlanctl scripts/test-deps.mjs while it installs packages; removed afterwards\nexit 101\n', { mode: 0o755 });
  try {
    const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (install.status !== 0) return `apt-get install ${missing.join(' ')} failed (exit ${install.status})`;
  } finally {
    if (ours) rmSync(policy, { force: true });
  }
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--install')) {
    const err = installTestPackages();
    if (err) {
      process.stderr.write(`test-deps: ${err}\n`);
      process.exit(1);
    }
  } else {
    process.stdout.write(`${missingTestPackages().join(' ')}\n`);
  }
}

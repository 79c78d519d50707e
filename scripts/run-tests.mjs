#!/usr/bin/env node
// Runs the whole suite: unit and golden tests in parallel, then the end-to-end
// tests one file at a time (each builds its own namespaces and dockerd, and
// the machine has two cores). Prints one closing line "tests: N passed, N failed".
// Without root the e2e tests cannot build namespaces: this says so plainly and
// exits non-zero unless MACVLANCTL_ALLOW_NO_E2E=1, so a skipped e2e run is
// never mistaken for a passed one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installTestPackages } from './test-deps.mjs';

const vitest = join(import.meta.dirname, '..', 'node_modules', 'vitest', 'vitest.mjs');
const out = mkdtempSync(join(tmpdir(), 'macvlanctl-tests-'));
const isRoot = process.getuid?.() === 0;
const extra = process.argv.slice(2);

function runVitest(label, args) {
  const report = join(out, `${label}.json`);
  process.stderr.write(`\n== ${label} tests ==\n`);
  const r = spawnSync(process.execPath, [vitest, 'run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra], {
    stdio: 'inherit',
  });
  let counts = { passed: 0, failed: 0, skipped: 0, failures: [] };
  try {
    const j = JSON.parse(readFileSync(report, 'utf8'));
    counts = {
      passed: j.numPassedTests,
      failed: j.numFailedTests + (j.numRuntimeErrorTestSuites ?? 0),
      skipped: j.numPendingTests + j.numTodoTests,
      failures: failuresOf(j),
    };
  } catch {
    counts.failed += 1; // no report: the run itself broke
  }
  if (r.status !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

// Which tests failed, and the first lines of why. The default reporter prints them
// too, but far up in a long log; CI keeps only the tail, so they are repeated last.
function failuresOf(report) {
  const out = [];
  for (const file of report.testResults ?? []) {
    const name = file.name.replace(`${process.cwd()}/`, '');
    if (file.status === 'failed' && (file.assertionResults ?? []).every((a) => a.status !== 'failed')) {
      out.push(`${name}: ${firstLines(file.message ?? 'the file failed to run')}`);
    }
    for (const a of file.assertionResults ?? []) {
      if (a.status === 'failed') out.push(`${name} > ${a.fullName}: ${firstLines((a.failureMessages ?? []).join('\n'))}`);
    }
  }
  return out;
}

function firstLines(text) {
  return text.split('\n').filter((l) => l.trim() !== '').slice(0, 4).join('\n    ');
}

// The end-to-end tests need dockerd, dnsmasq, systemd-networkd and the like from
// Debian: on a fresh machine they are installed here (scripts/test-deps.mjs).
if (isRoot) {
  const err = installTestPackages();
  if (err) process.stderr.write(`warning: ${err}; the end-to-end tests that need them will fail and say what is missing\n`);
}

// The persistence tests need ifup/ifdown and nmcli, which are unpacked (not
// installed: see scripts/fetch-tools.sh) into .tools/bin.
const tools = join(import.meta.dirname, '..', '.tools', 'bin');
// The NetworkManager daemon's wrapper came later: an older .tools/ without it is refreshed.
if (isRoot && (!existsSync(join(tools, 'ifup')) || !existsSync(join(tools, 'NetworkManager')))) {
  const f = spawnSync(join(import.meta.dirname, 'fetch-tools.sh'), { stdio: 'inherit' });
  if (f.status !== 0) process.stderr.write('warning: could not unpack ifupdown/nmcli; the tests that need them will say SKIPPED\n');
}
if (existsSync(tools)) process.env.PATH = `${tools}:${process.env.PATH ?? ''}`;

// CI forces colour (FORCE_COLOR=1). Forced here too, so that a test which compares output that
// picocolors would colour fails on the developer's machine as it does in CI, not only there.
process.env.FORCE_COLOR = '1';

const unit = runVitest('unit', ['test/unit']);
let e2e = { passed: 0, failed: 0, skipped: 0, failures: [] };
let e2eNote = '';
if (isRoot) {
  e2e = runVitest('e2e', ['test/e2e', '--no-file-parallelism']);
} else {
  e2eNote = 'END-TO-END TESTS DID NOT RUN: they need root (network namespaces, dockerd). Run `sudo npm test`.';
  process.stderr.write(`\n${e2eNote}\n`);
}
rmSync(out, { recursive: true, force: true });

const passed = unit.passed + e2e.passed;
const failed = unit.failed + e2e.failed;
const skipped = unit.skipped + e2e.skipped;
for (const f of [...unit.failures, ...e2e.failures]) process.stdout.write(`\nFAILED ${f}\n`);
process.stdout.write(`\nunit: ${unit.passed} passed, ${unit.failed} failed; e2e: ${isRoot ? `${e2e.passed} passed, ${e2e.failed} failed` : 'not run (needs root)'}\n`);
process.stdout.write(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
if (failed > 0) process.exit(1);
if (!isRoot && process.env.MACVLANCTL_ALLOW_NO_E2E !== '1') process.exit(3);

#!/usr/bin/env node
// Start-up and apply benchmarks, run in the lab (a Docker host in a network
// namespace with its own dockerd), timed by hyperfine. Every command runs
// through the same `nsenter --net`, so nsenter's own cost is part of the
// baseline too.
//
//   npm run build && sudo node bench/run.mjs [--runs N]
//
// The machine is shared and small (2 cores), so its speed drifts between
// minutes: every hyperfine invocation times `node -e 0`, then its case, then
// `node -e 0` again (same warm-up), and each ratio is taken against the mean
// of the two baseline medians around it. The load average before and after is
// recorded with the figures.
//
// Writes the table to stdout and replaces the "Start-up and apply" section of
// bench/RESULTS.md. The lab is removed at the end, also on failure or Ctrl-C.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { replaceResultsSection } from './results-file.mjs';

const repo = join(import.meta.dirname, '..');
const runsArg = process.argv.indexOf('--runs');
const runs = (runsArg > 0 && Number(process.argv[runsArg + 1])) || 30;
const node = process.execPath;
const bin = join(repo, 'bin', 'macvlanctl');

if (process.getuid?.() !== 0) {
  console.error('bench/run.mjs needs root (it builds a lab in network namespaces)');
  process.exit(2);
}
for (const tool of ['hyperfine', 'nsenter', 'docker', 'dockerd']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) {
    console.error(`bench/run.mjs needs ${tool} (Debian: apt-get install hyperfine util-linux docker.io)`);
    process.exit(2);
  }
}

const { createLab } = await import(join(repo, 'dist', 'lab', 'lab.js'));
const q = (a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
const log = (line) => process.stderr.write(`${line}\n`);
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const loadBefore = load();

const work = mkdtempSync(join(tmpdir(), 'macvlanctl-bench-'));
let lab;
let stopping = false;
async function teardown() {
  try {
    await lab?.destroy();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log(`bench: ${sig}, removing the lab`);
    teardown().finally(() => process.exit(130));
  });
}

try {
  lab = await createLab({ docker: true, hosts: [{ name: 'h1', address: '198.51.100.24' }], log });
  const h = lab.host('h1');
  const ns = (argv) => ['nsenter', `--net=${h.netnsPath}`, '--', ...argv].map(q).join(' ');
  // the launcher is run as a user runs it (its #! line), not as `node bin/macvlanctl`
  const cli = (...args) => ns([bin, ...args, '--docker-host', h.docker.dockerHost, '--root', work]);
  // --no-scan: the LAN scan (up to 4 s, mostly waiting for DHCP offers) has its own benchmark
  // (bench/scan.mjs); these cases time the tool itself. Persistence is on (--persist auto: the
  // systemd unit in this root), as for a user.
  const recipe = ['mynet', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--aux-address', 'host=198.51.100.223', '--no-scan'];
  const apply = cli('apply', ...recipe, '--yes');
  // strict: a destroy that finds nothing fails, and so does hyperfine, so every timed apply starts
  // from a host where the previous run's network and shim were really there and are now gone
  const destroy = `${cli('destroy', 'mynet', '--yes')} >/dev/null`;
  const dockerEnv = `DOCKER_HOST=${h.docker.dockerHost} DOCKER_CONFIG=${join(work, 'docker-config')}`;
  const manualSteps = [
    `${dockerEnv} docker network create -d macvlan -o parent=eno1 --subnet 198.51.100.0/24 --gateway 198.51.100.1 --ip-range 198.51.100.192/27 --aux-address host=198.51.100.223 mynet >/dev/null`,
    'ip link add mynet-shim link eno1 type macvlan mode bridge',
    'ip addr add 198.51.100.223/32 dev mynet-shim',
    'ip link set mynet-shim up',
    'ip route add 198.51.100.192/27 dev mynet-shim',
  ];
  const manualUndo = `ip link del mynet-shim 2>/dev/null; ${dockerEnv} docker network rm mynet >/dev/null 2>&1; true`;
  const sh = (script) => {
    const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench: failed (exit ${r.status}): ${script}\n${r.stdout}${r.stderr}`);
  };
  const assertPlan = (what, expect) => {
    const r = spawnSync('sh', ['-c', `${cli('plan', ...recipe, '--json')}`], { encoding: 'utf8' });
    let doc;
    try {
      doc = JSON.parse(r.stdout);
    } catch {
      throw new Error(`bench: ${what}: plan --json printed no JSON (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    }
    const actions = doc.result.changes.map((c) => c.action);
    // fresh: the recipe's five changes plus the persistence files, none already there
    const ok = expect === 'fresh' ? actions.length >= 5 && !actions.includes('noop') : actions.every((a) => a === 'noop');
    if (!ok || doc.result.unchecked.some((u) => /not reachable/.test(u))) {
      throw new Error(`bench: ${what}: expected a ${expect} host, plan says ${JSON.stringify(actions)} ${doc.result.unchecked.join('; ')}`);
    }
  };

  const baseline = ns([node, '-e', '0']);
  const cases = [
    { name: 'macvlanctl --version', cmd: ns([bin, '--version']), target: 1.25 },
    { name: 'macvlanctl plan (recipe, Docker reachable, fresh host)', cmd: cli('plan', ...recipe), target: 1.6, before: () => assertPlan('plan', 'fresh') },
    {
      name: 'macvlanctl apply (recipe, fresh host)',
      cmd: apply,
      prepare: destroy,
      target: 2.0,
      before: () => sh(apply), // so that the first prepare has something to destroy
      after: () => assertPlan('after apply', 'converged'),
    },
    {
      name: 'macvlanctl apply (no-op)',
      cmd: apply,
      target: 1.6,
      before: () => assertPlan('no-op apply', 'converged'),
      after: () => sh(destroy),
    },
    {
      name: 'reference: the five manual commands',
      cmd: ns(['sh', '-c', manualSteps.join(' && ')]),
      prepare: ns(['sh', '-c', manualUndo]),
      after: () => sh(ns(['sh', '-c', manualUndo])),
    },
  ];

  const results = [];
  for (const c of cases) {
    c.before?.();
    const out = join(work, 'hf.json');
    const args = ['--warmup', '3', '--runs', String(runs), '--export-json', out, '--shell', 'sh', '--style', 'basic'];
    if (c.prepare) args.push('--prepare', 'true', '--prepare', c.prepare, '--prepare', 'true'); // one per command, in order
    log(`bench: ${c.name}`);
    // baseline, case, baseline again: the case's ratio is to the mean of the two baseline medians around it
    const commands = ['-n', 'baseline: node -e 0 (before)', baseline, '-n', c.name, c.cmd, '-n', 'baseline: node -e 0 (after)', baseline];
    const r = spawnSync('hyperfine', [...args, ...commands], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`hyperfine failed for ${c.name}`);
    const [b1, j, b2] = JSON.parse(readFileSync(out, 'utf8')).results;
    results.push({ ...c, median: j.median, stddev: j.stddev, base: (b1.median + b2.median) / 2, bases: [b1.median, b2.median] });
    c.after?.();
  }

  const ms = (s) => `${(s * 1000).toFixed(1)} ms`;
  const rows = results.map((r) => {
    const ratio = r.median / r.base;
    const verdict = r.target ? (ratio <= r.target ? 'pass' : 'FAIL') : '';
    return `| ${r.name} | ${ms(r.median)} | ${ms(r.stddev)} | ${ms(r.base)} | ${ratio.toFixed(2)}× | ${r.target ? `≤ ${r.target}×` : ''} | ${verdict} |`;
  });
  const bases = results.flatMap((r) => r.bases.map((b) => b * 1000));
  const cpuModel = (/^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?').trim();
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  const dockerd = execFileSync('dockerd', ['--version'], { encoding: 'utf8' }).trim();
  const hf = execFileSync('hyperfine', ['--version'], { encoding: 'utf8' }).trim();
  // the launcher's #! line runs the `node` on PATH; the baseline runs this process's node
  const pathNode = spawnSync('sh', ['-c', 'readlink -f "$(command -v node)"'], { encoding: 'utf8' }).stdout.trim();
  const sameNode = pathNode === realpathSync(node);
  if (!sameNode) log(`bench: warning: the launcher runs ${pathNode || '(no node on PATH)'}, the baseline ${node}`);
  const section = [
    '## Start-up and apply',
    '',
    `Run: \`sudo node bench/run.mjs --runs ${runs}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    `Machine: nproc ${nproc}, ${cpuModel}, kernel ${release()}, node ${process.version}, ${dockerd} (the lab's engine), ${hf}; load average (1/5/15 min) ${loadBefore} before, ${load()} after.`,
    ...(sameNode ? [] : [`**Warning:** the launcher ran ${pathNode || '(no node on PATH)'} while the baseline ran ${node}; the ratios compare different programs.`]),
    `Every command runs inside the lab host namespace through \`nsenter --net\`, the baseline included; hyperfine, 3 warm-up runs and ${runs} timed runs per command.`,
    `Each case is timed in one hyperfine invocation between two blocks of the baseline \`node -e 0\` (before and after it), and its ratio is to the mean of those two baseline medians (which ranged ${Math.min(...bases).toFixed(1)}–${Math.max(...bases).toFixed(1)} ms over the run).`,
    '',
    '| command | median | σ | baseline median (mean of before/after) | ratio | target | verdict |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'One run is one sample: on this shared machine the baseline alone has swung by more than the margins between runs, so a verdict near its target says little.',
    '',
    'Commands (`$NS` = `nsenter --net=/run/netns/<lab>-h1 --`, `$M` = `$NS bin/macvlanctl`, flags `--docker-host unix://<lab socket> --root <tmp>`,',
    '`$R` = `mynet --parent eno1 --ip-range 198.51.100.192/27 --aux-address host=198.51.100.223 --no-scan`; `--persist auto` picks the systemd unit in that root, so apply also writes and enables it; the LAN scan is timed on its own):',
    '',
    '- baseline: `$NS node -e 0`',
    '- `$M --version`',
    '- `$M plan $R` on a fresh host (checked first: the five changes and the persistence files, Docker reachable)',
    '- `$M apply $R --yes`, with `--prepare "$M destroy mynet --yes"` (strict: it fails when there is nothing to destroy) so that each run starts from a fresh host; afterwards `plan` must show no changes',
    '- `$M apply $R --yes` on a host where it was already applied (no-op)',
    '- reference: `docker network create -d macvlan -o parent=eno1 --subnet 198.51.100.0/24 --gateway 198.51.100.1 --ip-range 198.51.100.192/27 --aux-address host=198.51.100.223 mynet` (DOCKER_HOST = the lab socket) and `ip link add mynet-shim link eno1 type macvlan mode bridge`, `ip addr add 198.51.100.223/32 dev mynet-shim`, `ip link set mynet-shim up`, `ip route add 198.51.100.192/27 dev mynet-shim`, joined by `&&` in one `$NS sh -c`, with a `--prepare` that deletes the link and the network',
    '',
  ].join('\n');
  console.log(section);

  replaceResultsSection('Start-up and apply', section);
} finally {
  if (!stopping) await teardown();
}

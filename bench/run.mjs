#!/usr/bin/env node
// Start-up and apply benchmarks, run in the lab (a Docker host in a network
// namespace with its own dockerd), timed by hyperfine against `node -e 0` in
// the same invocation. Every command runs through the same `nsenter --net`,
// so nsenter's own cost is part of the baseline too.
//
//   npm run build && sudo node bench/run.mjs [--runs N]
//
// Writes the table to stdout and replaces the "Start-up and apply" section of
// bench/RESULTS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const { createLab } = await import(join(repo, 'dist', 'lab', 'lab.js'));
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 30;
const node = process.execPath;
const bin = join(repo, 'bin', 'macvlanctl');

if (process.getuid?.() !== 0) {
  console.error('bench/run.mjs needs root (it builds a lab in network namespaces)');
  process.exit(2);
}

const q = (a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
const lab = await createLab({ docker: true, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
const work = mkdtempSync(join(tmpdir(), 'macvlanctl-bench-'));
try {
  const h = lab.host('h1');
  const ns = (argv) => ['nsenter', `--net=${h.netnsPath}`, '--', ...argv].map(q).join(' ');
  const cli = (...args) => ns([node, bin, ...args, '--docker-host', h.docker.dockerHost, '--root', work]);
  const recipe = ['mynet', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--aux-address', 'host=198.51.100.223'];
  const destroy = `${cli('destroy', 'mynet', '--yes')} >/dev/null 2>&1 || true`;
  const docker = `DOCKER_HOST=${h.docker.dockerHost} docker`;
  const manual = [
    `${docker} network create -d macvlan -o parent=eno1 --subnet 198.51.100.0/24 --gateway 198.51.100.1 --ip-range 198.51.100.192/27 --aux-address host=198.51.100.223 mynet >/dev/null`,
    'ip link add mynet-shim link eno1 type macvlan mode bridge',
    'ip addr add 198.51.100.223/32 dev mynet-shim',
    'ip link set mynet-shim up',
    'ip route add 198.51.100.192/27 dev mynet-shim',
  ].join(' && ');
  const manualUndo = `ip link del mynet-shim 2>/dev/null; ${docker} network rm mynet >/dev/null 2>&1; true`;

  const cases = [
    { name: 'baseline: node -e 0', cmd: ns([node, '-e', '0']) },
    { name: 'macvlanctl --version', cmd: ns([node, bin, '--version']), target: 1.25 },
    { name: 'macvlanctl plan (recipe, Docker reachable)', cmd: cli('plan', ...recipe), target: 1.6 },
    { name: 'macvlanctl apply (recipe, fresh host)', cmd: cli('apply', ...recipe, '--yes'), prepare: destroy, target: 2.0 },
    { name: 'macvlanctl apply (no-op)', cmd: cli('apply', ...recipe, '--yes'), setup: cli('apply', ...recipe, '--yes'), target: 1.6 },
    {
      name: 'reference: the five manual commands',
      cmd: ns(['sh', '-c', manual]),
      prepare: ns(['sh', '-c', manualUndo]),
      cleanup: ns(['sh', '-c', manualUndo]),
    },
  ];

  const results = [];
  for (const c of cases) {
    if (c.setup) execFileSync('sh', ['-c', `${destroy}; ${c.setup} >/dev/null 2>&1`]);
    const out = join(work, 'hf.json');
    const args = ['--warmup', '3', '--runs', String(runs), '--export-json', out, '--shell', 'sh'];
    if (c.prepare) args.push('--prepare', c.prepare);
    const r = spawnSync('hyperfine', [...args, c.cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`hyperfine failed for ${c.name}`);
    const j = JSON.parse(readFileSync(out, 'utf8')).results[0];
    results.push({ ...c, median: j.median, mean: j.mean, stddev: j.stddev, min: j.min });
    if (c.cleanup) execFileSync('sh', ['-c', c.cleanup]);
  }
  execFileSync('sh', ['-c', destroy]);

  const base = results[0].median;
  const ms = (s) => `${(s * 1000).toFixed(1)} ms`;
  const rows = results.map((r) => {
    const ratio = r.median / base;
    const verdict = r.target ? (ratio <= r.target ? 'pass' : 'FAIL') : '';
    return `| ${r.name} | ${ms(r.median)} | ${ms(r.stddev)} | ${ratio.toFixed(2)}× | ${r.target ? `≤ ${r.target}×` : ''} | ${verdict} |`;
  });
  const dockerd = spawnSync('dockerd', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const section = [
    '## Start-up and apply',
    '',
    `Run: \`sudo node bench/run.mjs --runs ${runs}\` on ${new Date().toISOString().slice(0, 10)}, machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, kernel ${release()}, node ${process.version}, ${dockerd}.`,
    'Every command runs inside the lab host namespace through `nsenter --net`, the baseline included; hyperfine, 3 warm-up runs.',
    '',
    '| command | median | σ | ratio to baseline | target | verdict |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    'Commands (`$NS` = `nsenter --net=/run/netns/<lab>-h1 --`, `$M` = `$NS node bin/macvlanctl`, flags `--docker-host unix://<lab socket> --root <tmp>`):',
    '',
    '- baseline: `$NS node -e 0`',
    '- `$M --version`',
    '- `$M plan mynet --parent eno1 --ip-range 198.51.100.192/27 --aux-address host=198.51.100.223`',
    '- `$M apply … --yes`, with `--prepare "$M destroy mynet --yes"` so that each run starts from a fresh host',
    '- `$M apply … --yes` on a host where it was already applied (no-op)',
    '- reference: `docker network create …` and the four `ip` commands of the recipe, in one `sh -c`',
    '',
  ].join('\n');
  console.log(section);

  const file = join(repo, 'bench', 'RESULTS.md');
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = '# Benchmark results\n\nRecorded by the scripts in bench/; each section says how it was measured.\n\n';
  }
  const start = text.indexOf('## Start-up and apply');
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + 1);
    text = text.slice(0, start) + section + (next >= 0 ? text.slice(next + 1) : '');
  } else {
    text += section;
  }
  writeFileSync(file, text);
} finally {
  await lab.destroy();
  rmSync(work, { recursive: true, force: true });
}

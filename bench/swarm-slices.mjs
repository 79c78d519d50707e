#!/usr/bin/env node
// Swarm slice planning (#13): 1,000 nodes × 4 networks (v4 /16 ranges, and one IPv6), every node's slice
// and shim, then every node looking its own slice up (what apply does on each node), in a fresh Node
// process each time, so JIT warm-up is in the figure. Target: ≤ 1 s. Pure code, no lab, no root.
//
//   npm run build && node bench/swarm-slices.mjs [--runs N]
//
// Prints the figures and replaces the "Swarm slice planning" section of bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { replaceResultsSection } from './results-file.mjs';

const repo = join(import.meta.dirname, '..');
const NODES = 1000;
const NETWORKS = 4;

if (process.argv[2] === '--child') {
  const t0 = performance.now();
  const { planSwarmSlices, sliceOfNode } = await import(join(repo, 'dist', 'plan', 'swarm-slices.js'));
  const { parseCidr, parseAddress } = await import(join(repo, 'dist', 'net', 'address.js'));
  const t1 = performance.now();
  const nodes = Array.from({ length: NODES }, (_, i) => ({ name: `node-${String(i).padStart(4, '0')}` }));
  const nets = [
    { network: 'lan0', range: parseCidr('10.0.0.0/16'), subnet: parseCidr('10.0.0.0/8'), gateway: parseAddress('10.0.0.1') },
    { network: 'lan1', range: parseCidr('10.1.0.0/16'), subnet: parseCidr('10.0.0.0/8'), gateway: parseAddress('10.0.0.1') },
    { network: 'lan2', range: parseCidr('172.16.0.0/16'), subnet: parseCidr('172.16.0.0/12'), gateway: parseAddress('172.16.0.1') },
    { network: 'lan6', range: parseCidr('2001:db8:1::/96'), subnet: parseCidr('2001:db8:1::/64'), gateway: parseAddress('2001:db8:1::1') },
  ].slice(0, NETWORKS);
  let found = 0;
  for (const n of nets) {
    const plan = planSwarmSlices({ ...n, nodes });
    for (const node of nodes) if (sliceOfNode(plan, node.name)) found++;
  }
  const t2 = performance.now();
  if (found !== NODES * NETWORKS) throw new Error(`found ${found} slices`);
  process.stdout.write(JSON.stringify({ importMs: t1 - t0, planMs: t2 - t1 }));
  process.exit(0);
}

const runsArg = process.argv.indexOf('--runs');
const runs = (runsArg > 0 && Number(process.argv[runsArg + 1])) || 21;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const loadBefore = load();
const plan = [];
const imp = [];
for (let i = 0; i < runs; i++) {
  const r = spawnSync(process.execPath, [import.meta.filename, '--child'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const j = JSON.parse(r.stdout);
  plan.push(j.planMs);
  imp.push(j.importMs);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const max = (xs) => Math.max(...xs);
const ms = (x) => `${x.toFixed(1)} ms`;
const verdict = median(plan) <= 1000 ? 'pass' : 'FAIL';
const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
const section = `## Swarm slice planning (#13)

Run: \`node bench/swarm-slices.mjs --runs ${runs}\` on ${when} UTC.
Machine: nproc ${cpus().length}, ${cpus()[0]?.model ?? '?'}, kernel ${release()}, node ${process.version}; load average ${loadBefore} before, ${load()} after.
Each run is a fresh Node process that imports dist/plan/swarm-slices.js and plans ${NETWORKS} networks × ${NODES.toLocaleString('en')} nodes
(three IPv4 /16 ranges and one IPv6 /96; every node's slice and shim), then looks every node's own slice up, as apply does on each node.
The time is the planning alone (JIT warm-up included); the import is listed apart.

| case | median | max | target | verdict |
|---|---|---|---|---|
| plan ${NETWORKS} networks × ${NODES.toLocaleString('en')} nodes + ${(NETWORKS * NODES).toLocaleString('en')} look-ups | ${ms(median(plan))} | ${ms(max(plan))} | ≤ 1 s | ${verdict} |
| (import of the two modules) | ${ms(median(imp))} | ${ms(max(imp))} |  |  |
`;
process.stdout.write(section);
replaceResultsSection('Swarm slice planning', section);

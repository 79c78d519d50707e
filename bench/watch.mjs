#!/usr/bin/env node
// `macvlanctl watch` benchmark (issue 12), in the lab: two Docker hosts in network namespaces, each with
// its own dockerd and a watcher.
//
//   npm run build && sudo node bench/watch.mjs [--trials N]
//
// h1 has a network applied with an ip-range (mynet); there we time breakage → repair completed:
//   - the shim deleted (`ip link del`), until the watcher's "repaired" report (shim, MAC, address, route);
//   - the shim's route deleted, until the route is back.
// The breakage is written to one long-lived `ip -batch -` in the namespace, so the clock starts when the
// kernel is asked, not when a process has been spawned; the end is the time stamp of the watcher's
// report, written when the last operation of the repair has returned.
// h2 has a network made by hand without an ip-range (pinet), adopted; there we time a container's
// /32 route: from the engine's `network connect` event (and from its `start` event) of `docker start`
// until the watcher's report that the route was added, and from the `die` event of `docker stop -t 0`
// until the route is gone. Event times are the engine's own (timeNano), read from its events stream.
// Then both watchers are left idle for 30 s: CPU time used (utime+stime from /proc/PID/stat) and RSS.
// All of it runs twice: with the node flags of `watch --install`'s unit, then, as the baseline, with
// node's defaults. BENCH_SMAPS=PREFIX writes each watcher's /proc/PID/smaps after its idle time;
// BENCH_WATCH_FLAGS='…' tries other node flags in place of the unit's (RESULTS.md is then left alone),
// and BENCH_NO_BASELINE=1 skips the run under node's defaults.
//
// Writes a table to stdout and replaces the "Watch" section of bench/RESULTS.md. The lab is removed at
// the end, also on failure or Ctrl-C.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { replaceResultsSection } from './results-file.mjs';

const repo = join(import.meta.dirname, '..');
const trialsArg = process.argv.indexOf('--trials');
const trials = (trialsArg > 0 && Number(process.argv[trialsArg + 1])) || 50;
const bin = join(repo, 'bin', 'macvlanctl');
const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
if (process.getuid?.() !== 0) {
  console.error('bench/watch.mjs needs root (it builds a lab in network namespaces)');
  process.exit(2);
}
const { createLab, LAB_IMAGE } = await import(join(repo, 'dist', 'lab', 'lab.js'));
const { WATCH_NODE_FLAGS } = await import(join(repo, 'dist', 'backends', 'systemd-unit', 'watch-unit.js'));
const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
const work = mkdtempSync(join(tmpdir(), 'macvlanctl-bench-watch-'));
const children = [];
let lab;
async function teardown() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  try {
    await lab?.destroy();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log(`bench: ${sig}, removing the lab`);
    teardown().finally(() => process.exit(130));
  });
}

/** Lines of a child's stdout, parsed as JSON, with a way to wait for one. */
function jsonLines(child) {
  const lines = [];
  const waiters = new Set();
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buf += chunk;
    const parts = buf.split('\n');
    buf = parts.pop();
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p));
    for (const w of waiters) w();
  });
  return {
    lines,
    waitFor(match, from, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.slice(from).find(match);
          if (hit) {
            waiters.delete(check);
            clearTimeout(t);
            resolve(hit);
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`bench: no matching line within ${timeoutMs} ms; last lines: ${JSON.stringify(lines.slice(-5))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** A watcher in `h`'s namespace, its node started with `nodeFlags`. */
function startWatch(h, names, nodeFlags) {
  const env = { ...process.env, NO_COLOR: '1', MACVLANCTL_LOCK_DIR: join(work, 'locks') };
  const child = spawn('nsenter', [`--net=${h.netnsPath}`, '--', process.execPath, ...nodeFlags, bin, 'watch', ...names, '--json', '--root', join(work, h.name), '--docker-host', h.docker.dockerHost], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return { child, ...jsonLines(child) };
}

/** A long-lived `ip -batch -` in a namespace: each line is one netlink request, at once. */
function ipShell(h) {
  const child = spawn('nsenter', [`--net=${h.netnsPath}`, '--', 'ip', '-batch', '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
  children.push(child);
  return (line) => {
    const t = Date.now();
    child.stdin.write(`${line}\n`);
    return t;
  };
}

/** The engine's events, with their own time stamps (ms). */
function engineEvents(socket, apiVersion) {
  const filters = encodeURIComponent(JSON.stringify({ type: ['network', 'container'], event: ['connect', 'disconnect', 'start', 'die'] }));
  const events = [];
  const waiters = new Set();
  const req = request({ socketPath: socket, path: `/v${apiVersion}/events?filters=${filters}`, method: 'GET' }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buf += chunk;
      const parts = buf.split('\n');
      buf = parts.pop();
      for (const p of parts) if (p.trim()) events.push(JSON.parse(p));
      for (const w of waiters) w();
    });
  });
  req.on('error', () => {});
  req.end();
  return {
    close: () => req.destroy(),
    waitFor(match, from, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.slice(from).find(match);
          if (hit) {
            waiters.delete(check);
            clearTimeout(t);
            resolve(hit);
          }
        };
        const t = setTimeout(() => reject(new Error('bench: engine event missing')), timeoutMs);
        waiters.add(check);
        check();
      });
    },
    get length() {
      return events.length;
    },
  };
}

const ms = (iso) => Date.parse(iso);
const nanoMs = (e) => Number(BigInt(e.timeNano) / 1_000_000n) + Number(BigInt(e.timeNano) % 1_000_000n) / 1e6;
function pct(values, p) {
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : String(x));

function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // utime + stime
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { ticks, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

try {
  lab = await createLab({
    prefix: `wbn${process.pid.toString(36).slice(-4)}`,
    docker: true,
    ipv6: false,
    hosts: [
      { name: 'h1', address: '198.51.100.24' },
      { name: 'h2', address: '198.51.100.25' },
    ],
    log,
  });
  const h1 = lab.host('h1');
  const h2 = lab.host('h2');
  for (const h of [h1, h2]) mkdirSync(join(work, h.name));
  const cli = async (h, args) => {
    const r = await h.exec([process.execPath, bin, ...args, '--root', join(work, h.name), '--docker-host', h.docker.dockerHost], { env: { ...process.env, MACVLANCTL_LOCK_DIR: join(work, 'locks') } });
    if (r.code !== 0) throw new Error(`bench: macvlanctl ${args.join(' ')}: ${r.stderr}`);
  };
  await cli(h1, ['apply', 'mynet', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--aux-address', 'host=198.51.100.223', '--persist', 'none', '--no-scan', '--yes']);
  for (const args of [
    ['network', 'create', '-d', 'macvlan', '-o', 'parent=eno1', '--subnet', '198.51.100.0/24', '--gateway', '198.51.100.1', 'pinet'],
    ['run', '-d', '--network', 'pinet', '--ip', '198.51.100.53', '--name', 'pihole', LAB_IMAGE, 'sleep', '360000'],
    ['create', '--network', 'pinet', '--ip', '198.51.100.77', '--name', 'late', LAB_IMAGE, 'sleep', '360000'],
  ]) {
    const r = await h2.dockerCli(args);
    if (r.code !== 0) throw new Error(`bench: docker ${args.join(' ')}: ${r.stderr}`);
  }
  await cli(h2, ['apply', 'pinet', '--parent', 'eno1', '--persist', 'none', '--no-scan', '--yes']);

  const ip1 = ipShell(h1);
  const ev = engineEvents(h2.docker.socket, h2.docker.apiVersion);

  /** Both watchers started with `flags`, exercised `trials` times, then left idle; stopped at the end. */
  async function measure(flags, label) {
    const w1 = startWatch(h1, [], flags);
    const w2 = startWatch(h2, ['pinet'], flags);
    for (const w of [w1, w2]) await w.waitFor((l) => l.event === 'docker' && l.state === 'connected', 0, 15_000);
    await sleep(500);

    const repaired = (network) => (l) => l.event === 'repaired' && l.network === network;
    const breakage = async (line, what) => {
      const out = [];
      for (let i = 0; i < trials; i++) {
        const from = w1.lines.length;
        const t0 = ip1(line);
        const r = await w1.waitFor(repaired('mynet'), from);
        out.push(ms(r.time) - t0);
        // The repair's own kernel events wake the watcher once more (a pass that finds nothing): let it pass.
        await sleep(120);
      }
      log(`bench (${label}): ${what}: p50 ${pct(out, 50)} ms, p95 ${pct(out, 95)} ms`);
      return out;
    };
    const shim = await breakage('link del dev mynet-shim', 'shim deleted → re-created');
    const route = await breakage('route del 198.51.100.192/27 dev mynet-shim', 'route deleted → back');

    const fromConnect = [];
    const fromStart = [];
    const fromDie = [];
    for (let i = 0; i < trials; i++) {
      let from = w2.lines.length;
      let e0 = ev.length;
      const started = await h2.dockerApi('POST', '/containers/late/start');
      if (started.status >= 300) throw new Error(`bench: start late: HTTP ${started.status}`);
      const added = await w2.waitFor((l) => repaired('pinet')(l) && l.done.some((d) => d.startsWith('route 198.51.100.77/32')), from);
      const connect = await ev.waitFor((e) => e.Type === 'network' && e.Action === 'connect', e0);
      const start = await ev.waitFor((e) => e.Type === 'container' && e.Action === 'start', e0);
      fromConnect.push(ms(added.time) - nanoMs(connect));
      fromStart.push(ms(added.time) - nanoMs(start));
      await sleep(100);
      from = w2.lines.length;
      e0 = ev.length;
      const stopped = await h2.dockerApi('POST', '/containers/late/stop?t=0');
      if (stopped.status >= 300) throw new Error(`bench: stop late: HTTP ${stopped.status}`);
      const removed = await w2.waitFor((l) => repaired('pinet')(l) && l.done.some((d) => d.includes('198.51.100.77/32')), from);
      const die = await ev.waitFor((e) => e.Type === 'container' && e.Action === 'die', e0);
      fromDie.push(ms(removed.time) - nanoMs(die));
      await sleep(100);
    }
    log(`bench (${label}): container route: connect→added p95 ${pct(fromConnect, 95)} ms, start→added p95 ${pct(fromStart, 95)} ms, die→removed p95 ${pct(fromDie, 95)} ms`);

    // Idle: nothing changes for 30 s (after 3 s for the last trial's passes to end).
    await sleep(3000);
    const before = [w1, w2].map((w) => procStat(w.child.pid));
    await sleep(idleS * 1000);
    const after = [w1, w2].map((w) => procStat(w.child.pid));
    const hz = 100; // USER_HZ on Linux
    const idle = after.map((a, i) => ({ cpuMs: ((a.ticks - before[i].ticks) * 1000) / hz, rssMb: a.rssKb / 1024, hwmMb: a.hwmKb / 1024 }));
    const idleLines = [w1, w2].map((w, i) => `watcher on ${i === 0 ? 'h1 (mynet)' : 'h2 (pinet, adopted)'}: ${f1(idle[i].cpuMs)} ms of CPU in ${idleS} s idle (${f1(idle[i].cpuMs / (idleS * 10))} %), RSS ${f1(idle[i].rssMb)} MiB, peak RSS ${f1(idle[i].hwmMb)} MiB`);
    for (const l of idleLines) log(`bench (${label}): ${l}`);
    if (process.env.BENCH_SMAPS) for (const w of [w1, w2]) writeFileSync(`${process.env.BENCH_SMAPS}.${label.replace(/\W+/g, '-')}.${w.child.pid}`, readFileSync(`/proc/${w.child.pid}/smaps`, 'utf8'));
    for (const w of [w1, w2]) {
      w.child.kill('SIGTERM');
      await w.waitFor((l) => l.event === 'stopped', 0);
    }
    return { shim, route, fromConnect, fromStart, fromDie, idle, idleLines, peakMb: Math.max(...idle.map((i) => i.hwmMb)) };
  }

  const idleS = 30;
  // To try other flags: BENCH_WATCH_FLAGS='…' in place of the unit's, BENCH_NO_BASELINE=1 to skip the
  // baseline (and leave RESULTS.md alone).
  const tried = process.env.BENCH_WATCH_FLAGS?.split(' ').filter(Boolean);
  const shipped = await measure(tried ?? WATCH_NODE_FLAGS, tried ? 'tried flags' : 'unit flags');
  if (process.env.BENCH_NO_BASELINE === '1') {
    await teardown();
    process.exit(0);
  }
  // The baseline, in the same invocation: the same watcher under node's defaults.
  const defaults = await measure([], 'node defaults');
  ev.close();
  const { shim, route, fromConnect, fromStart, fromDie, idle, idleLines } = shipped;
  // What node itself takes, for scale: a process that only waits.
  const bare = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
  children.push(bare);
  await sleep(1500);
  const bareMb = procStat(bare.pid).rssKb / 1024;
  bare.kill('SIGKILL');

  const row = (name, values, goal, ok) => `| ${name} | ${values.length} | ${f1(pct(values, 50))} ms | ${f1(pct(values, 95))} ms | ${f1(Math.max(...values))} ms | ${goal} | ${ok === undefined ? '' : ok ? 'pass' : 'FAIL'} |`;
  const loadAfter = loadavg().map((l) => l.toFixed(2)).join(' ');
  const maxRss = shipped.peakMb;
  const compare = (name, r) =>
    `| ${name} | ${f1(pct(r.shim, 95))} ms | ${f1(pct(r.fromConnect, 95))} ms | ${r.idle.map((i) => `${f1(i.hwmMb)} MiB`).join(' / ')} | ${f1(r.peakMb / defaults.peakMb)} |`;
  const section = `## Watch

Run: \`sudo node bench/watch.mjs --trials ${trials}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.
Machine: nproc ${cpus().length}, ${cpus()[0]?.model ?? '?'}, kernel ${release()}, node ${process.version}; load average (1/5/15 min) ${loadBefore} before, ${loadAfter} after.
Two lab hosts, each with its own dockerd and a \`macvlanctl watch --json\`. A breakage is written to a long-lived \`ip -batch -\` in the host's namespace (the clock starts when the kernel is asked); the end is the time stamp of the watcher's "repaired" report, written when the repair's last operation has returned. Container times start at the engine's own event time stamps (\`timeNano\` of \`network connect\`, \`container start\`, \`container die\`) and end at the watcher's report that the route was added or removed.

| case | trials | p50 | p95 | max | goal | verdict |
|---|---|---|---|---|---|---|
${row('shim deleted → re-created (link, MAC, address, up, route)', shim, 'p95 ≤ 100 ms', pct(shim, 95) <= 100)}
${row('route deleted → back', route, '', undefined)}
${row('container connected (docker start) → its /32 route added', fromConnect, 'p95 ≤ 200 ms', pct(fromConnect, 95) <= 200)}
${row('container started (start event) → its /32 route added (negative: the route was there before)', fromStart, '', undefined)}
${row('container died (docker stop -t 0) → its /32 route removed', fromDie, '', undefined)}

Idle (no polling loop: the watcher blocks on \`ip monitor\`'s pipe and the engine's events stream):
${idleLines.map((l) => `- ${l}`).join('\n')}
- for scale, \`node -e 'setTimeout(…)'\` alone: RSS ${f1(bareMb)} MiB.
- goals: idle CPU ≈ 0 ${idle.every((i) => i.cpuMs / (idleS * 10) < 0.1) ? 'pass' : 'FAIL'} (< 0.1 %, measured in 10 ms ticks); RSS ≤ 60 MB ${maxRss * 1.048576 <= 60 ? 'pass' : 'FAIL'} (peak ${f1(maxRss)} MiB = ${f1(maxRss * 1.048576)} MB, taken as the verdict).

The watchers above run as \`watch --install\`'s unit runs them: \`node ${WATCH_NODE_FLAGS.join(' ')} bin/macvlanctl watch\`
(src/backends/systemd-unit/watch-unit.ts). The baseline, in the same invocation, is the same ${trials} trials and idle
with node's defaults:

| node flags | shim p95 | container connected p95 | peak RSS h1 / h2 | peak ratio to defaults |
|---|---|---|---|---|
${compare(`\`${(tried ?? WATCH_NODE_FLAGS).join(' ')}\``, shipped)}
${compare('node defaults (baseline)', defaults)}

The start event comes after the engine has attached the network, so the route is usually in place before it
(negative times). Of the watcher's RSS, 34–39 MiB is the \`node\` binary's own pages (\`/proc/PID/smaps\`),
about what a bare \`node\` has; the rest is anonymous memory that grows with activity. Under node's defaults V8
lets the young generation grow to 16 MiB semi-spaces and keeps JIT code, and the peak grows with the number
of trials. Other flags tried on 2026-12-06, in separate runs (peak RSS h1 / h2; h1 varies by up to 5 MiB
from run to run): 50 trials, \`--max-semi-space-size=1\` alone 61.6 / 65.2 MiB, \`--jitless\` alone 57.1 / 61.5 MiB;
200 trials, \`--jitless --max-semi-space-size=1\` 57.2 / 55.4 MiB (just over 60 MB), the same with
\`--single-threaded\` 57.7 / 55.7, with \`--single-threaded --optimize-for-size\` 54.9 / 56.5, and
\`--lite-mode --max-semi-space-size=1\` 50.6 / 55.5, which the unit now uses (\`--lite-mode\` is V8's
low-memory mode; it implies \`--jitless\`). A soak of 1,000 trials with the unit's flags (\`BENCH_NO_BASELINE=1\`,
21:05 UTC) peaked at 54.7 / 55.4 MiB: no growth beyond 200. The watcher's JS work per
pass is small: repair times stay within the noise of the defaults'. A watcher started with flags goes without
the launcher's code cache (V8 takes a cache only under the flags it was made with): start-up only.
`;
  process.stdout.write(`${section}\n`);
  // Flags other than the unit's are a trial: RESULTS.md records what the unit runs.
  if (tried) {
    log('bench: BENCH_WATCH_FLAGS given, so bench/RESULTS.md is left alone');
  } else {
    replaceResultsSection('Watch', section);
    log('bench/RESULTS.md updated (section "Watch")');
  }
} finally {
  await teardown();
}

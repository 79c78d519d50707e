#!/usr/bin/env node
// LAN scan benchmarks, in the lab (a host namespace on a bridge with a router, a real dnsmasq and
// live hosts each on its own macvlan), timed by hyperfine:
//
//   1. `macvlanctl scan --no-dhcp` of the /24 side by side with `arp-scan` in the same hyperfine run,
//      after checking that both find the same hosts (targets: ≤ 1/3 of arp-scan's time, ≤ 0.5 s);
//   2. the whole `scan` (live sweep and DHCP probe in parallel) against dnsmasq (target ≤ 4 s);
//   3. the /24 with ~250 live hosts: time and peak memory (max RSS of the CLI and its worker).
//
//   npm run build && sudo node bench/scan.mjs [--runs N]
//
// Writes the tables to stdout and replaces the "LAN scan" section of bench/RESULTS.md. The lab is
// removed at the end, also on failure or Ctrl-C.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { replaceResultsSection } from './results-file.mjs';

const repo = join(import.meta.dirname, '..');
const runsArg = process.argv.indexOf('--runs');
const runs = (runsArg > 0 && Number(process.argv[runsArg + 1])) || 20;
const node = process.execPath;
const bin = join(repo, 'bin', 'macvlanctl');

if (process.getuid?.() !== 0) {
  console.error('bench/scan.mjs needs root (it builds a lab in network namespaces)');
  process.exit(2);
}
for (const tool of ['hyperfine', 'nsenter', 'arp-scan', 'dnsmasq']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) {
    console.error(`bench/scan.mjs needs ${tool} (Debian: apt-get install hyperfine util-linux arp-scan dnsmasq-base)`);
    process.exit(2);
  }
}

const { createLab } = await import(join(repo, 'dist', 'lab', 'lab.js'));
const { addLiveAddresses6 } = await import(join(repo, 'dist', 'lab', 'lan-extras.js'));
const log = (line) => process.stderr.write(`${line}\n`);
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const loadBefore = load();
const work = mkdtempSync(join(tmpdir(), 'macvlanctl-bench-scan-'));
let lab;
async function teardown() {
  try {
    await lab?.destroy();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => void teardown().finally(() => process.exit(130)));

const POOL = { first: '198.51.100.100', last: '198.51.100.199' };
// Scattered over the subnet, some inside the pool.
const LIVE = [3, 9, 17, 30, 44, 58, 63, 64, 90, 101, 127, 128, 150, 173, 188, 200, 222, 239, 250, 254].map((n) => `198.51.100.${n}`);
// Half of them also have an address in the LAN's IPv6 subnet (the lab's 2001:db8:1::/64): the scan asks its IPv6 neighbours
// by one all-nodes echo, in parallel with the ARP sweep, so the timed scan is what a dual-stack LAN costs.
const LIVE6 = LIVE.filter((_, i) => i % 2 === 0).map((a) => `2001:db8:1::${a.split('.')[3]}`);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** hyperfine over several commands in one run; returns { name: { median, stddev } } in seconds. */
function hyperfine(cases, n, warmup = 2) {
  const out = join(work, `hf-${Date.now()}.json`);
  const args = ['-N', '--warmup', String(warmup), '--runs', String(n), '--export-json', out, '--style', 'basic'];
  for (const [name, cmd] of cases) args.push('-n', name, cmd);
  execFileSync('hyperfine', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const r = JSON.parse(readFileSync(out, 'utf8'));
  return Object.fromEntries(r.results.map((x) => [x.command, { median: median(x.times), stddev: x.stddev }]));
}

const inHost = (h, cmd) => `nsenter --net=${h.netnsPath} -- ${cmd}`;
const ours = (h, extra = '') => inHost(h, `${node} ${bin} scan --json --root ${work} ${extra}`.trim());
const theirs = (h) => inHost(h, 'arp-scan -I eno1 -q 198.51.100.0/24');

function runOurs(h, extra) {
  const r = spawnSync('nsenter', [`--net=${h.netnsPath}`, '--', '/usr/bin/time', '-f', '%M', node, bin, 'scan', '--json', '--root', work, ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scan failed: ${r.stderr}`);
  const maxRssKb = Number(r.stderr.trim().split('\n').at(-1));
  return { result: JSON.parse(r.stdout).result, maxRssKb };
}

function runArpScan(h) {
  const r = spawnSync('nsenter', [`--net=${h.netnsPath}`, '--', 'arp-scan', '-I', 'eno1', '-q', '198.51.100.0/24'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`arp-scan failed: ${r.stderr}`);
  return [...new Set([...r.stdout.matchAll(/^(\d+\.\d+\.\d+\.\d+)\s/gm)].map((m) => m[1]))].sort();
}

const sortIps = (xs) => [...xs].sort();
const ms = (s) => `${(s * 1000).toFixed(0)} ms`;

try {
  log(`building the lab (router, dnsmasq with pool .100–.199, ${LIVE.length} live hosts, ${LIVE6.length} of them with IPv6)…`);
  lab = await createLab({ hosts: [{ name: 'h1', address: '198.51.100.24' }], dhcp: POOL, liveHosts: LIVE, ipv6: true });
  const h = lab.host('h1');
  for (const [i, a] of LIVE6.entries()) await addLiveAddresses6(lab.liveNetns, lab.liveHosts.find((x) => x.address === LIVE[i * 2]), [a]);

  // The first scan meets a fresh dnsmasq (no ping-checks done yet).
  const t0 = Date.now();
  const fresh = runOurs(h, []);
  const freshMs = Date.now() - t0;
  // Same hosts found by both?
  const a = runOurs(h, ['--no-dhcp']);
  const b = runArpScan(h);
  const oursFound = sortIps(a.result.live.map((x) => x.address));
  const same = JSON.stringify(oursFound) === JSON.stringify(b);
  log(`found: macvlanctl ${oursFound.length}, arp-scan ${b.length}, same: ${same}`);
  // The IPv6 neighbours: every live host given an IPv6 address, and the router.
  const found6 = sortIps((a.result.live6 ?? []).map((x) => x.address));
  const want6 = sortIps(['2001:db8:1::1', ...LIVE6]);
  const same6 = JSON.stringify(found6) === JSON.stringify(want6);
  log(`IPv6 neighbours: ${found6.length} of ${want6.length}, exactly: ${same6}`);
  if (!same) log(`  macvlanctl: ${oursFound.join(' ')}\n  arp-scan:   ${b.join(' ')}`);

  log(`timing scan --no-dhcp against arp-scan (${runs} runs each)…`);
  const t1 = hyperfine(
    [
      ['macvlanctl scan --no-dhcp', ours(h, '--no-dhcp')],
      ['arp-scan', theirs(h)],
    ],
    runs,
  );
  log('timing the whole scan against dnsmasq (5 runs)…');
  const t2 = hyperfine([['macvlanctl scan', ours(h)]], 5, 1);
  const whole = runOurs(h, []);

  log('adding 230 live hosts (250 in the /24)…');
  const more = [];
  for (let n = 2; n <= 254 && more.length < 230; n++) {
    const addr = `198.51.100.${n}`;
    if (n === 24 || LIVE.includes(addr)) continue;
    more.push(addr);
  }
  for (const addr of more) await lab.addLiveHost(addr);
  const big = runOurs(h, ['--no-dhcp']);
  const bigArp = runArpScan(h);
  const bigSame = JSON.stringify(sortIps(big.result.live.map((x) => x.address))) === JSON.stringify(bigArp);
  const t3 = hyperfine(
    [
      ['macvlanctl scan --no-dhcp (250 live)', ours(h, '--no-dhcp')],
      ['arp-scan (250 live)', theirs(h)],
    ],
    Math.max(5, Math.round(runs / 2)),
  );

  const loadAfter = load();
  const r1 = t1['macvlanctl scan --no-dhcp'];
  const r2 = t1['arp-scan'];
  const ratio = r1.median / r2.median;
  const w = t2['macvlanctl scan'];
  const b1 = t3['macvlanctl scan --no-dhcp (250 live)'];
  const b2 = t3['arp-scan (250 live)'];
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const hfVersion = execFileSync('hyperfine', ['--version'], { encoding: 'utf8' }).trim();
  const av = spawnSync('arp-scan', ['--version'], { encoding: 'utf8' });
  const arpVersion = `${av.stdout}\n${av.stderr}`.split('\n').find((l) => /arp-scan/i.test(l))?.trim() ?? 'arp-scan';
  const dnsmasqVersion = execFileSync('dnsmasq', ['--version'], { encoding: 'utf8' }).split('\n')[0].replace(/ {2}Copyright.*/, '');
  const section = `## LAN scan

Run: \`sudo node bench/scan.mjs --runs ${runs}\` on ${when} UTC.
Machine: nproc ${cpus().length}, ${cpus()[0]?.model.trim() ?? ''}, kernel ${release()}, node ${process.version}, ${hfVersion}, ${arpVersion}, ${dnsmasqVersion}; load average (1/5/15 min) ${loadBefore} before, ${loadAfter} after.
Lab: host h1 (198.51.100.24/24 and 2001:db8:1::24/64 on a veth \`eno1\`) on a bridge with the router (.1 and 2001:db8:1::1, dnsmasq with the pool .100–.199, ping-check on as shipped) and ${LIVE.length} live hosts scattered over the /24, each on its own macvlan with its own MAC, ${LIVE6.length} of them also with an address in 2001:db8:1::/64 (so every scan also sends its IPv6 all-nodes echo, in parallel with the ARP sweep). Every command runs in h1's namespace through \`nsenter --net\`; \`scan\` with its defaults (--rate 2000, --dhcp-wait 3.5). hyperfine \`-N\`, medians.

| command | median | σ | ratio to arp-scan | target | verdict |
|---|---|---|---|---|---|
| macvlanctl scan --no-dhcp (/24, ${oursFound.length} live incl. the router) | ${ms(r1.median)} | ${ms(r1.stddev)} | ${ratio.toFixed(2)}× | ≤ 0.33× and ≤ 500 ms | ${ratio <= 1 / 3 && r1.median <= 0.5 ? 'pass' : 'FAIL'} |
| arp-scan -I eno1 198.51.100.0/24 (same run) | ${ms(r2.median)} | ${ms(r2.stddev)} | 1× | | |
| macvlanctl scan (live sweep + DHCP probe in parallel) | ${ms(w.median)} | ${ms(w.stddev)} | | ≤ 4 s | ${w.median <= 4 ? 'pass' : 'FAIL'} |
| macvlanctl scan --no-dhcp, 250 live hosts in the /24 | ${ms(b1.median)} | ${ms(b1.stddev)} | ${(b1.median / b2.median).toFixed(2)}× | | |
| arp-scan, 250 live hosts (same run) | ${ms(b2.median)} | ${ms(b2.stddev)} | 1× | | |

Same hosts found by both tools: ${same ? 'yes' : 'NO'} (${oursFound.length} hosts); with 250 live hosts: ${bigSame ? 'yes' : 'NO'} (${big.result.live.length}). IPv6 neighbours found by the same scan: ${found6.length} of ${want6.length} (the router and every live host with an IPv6 address), exactly those: ${same6 ? 'yes' : 'NO'}.
Peak memory (max RSS of the CLI and its worker, \`/usr/bin/time -f %M\`): ${(a.maxRssKb / 1024).toFixed(1)} MiB for the /24 sweep, ${(whole.maxRssKb / 1024).toFixed(1)} MiB for the whole scan, ${(big.maxRssKb / 1024).toFixed(1)} MiB with 250 live hosts.
The first scan, against the fresh dnsmasq, took ${freshMs} ms (with nsenter, unmeasured by hyperfine) and got ${fresh.result.dhcp.offers.length} offer(s) from ${fresh.result.dhcp.servers.length} server(s); a whole scan after the timed ones found ${whole.result.dhcp.servers.length} DHCP server(s) and ${whole.result.dhcp.offers.length} offer(s) (${whole.result.dhcp.pool ? `pool estimate ${whole.result.dhcp.pool.first}–${whole.result.dhcp.pool.last}, ${whole.result.dhcp.pool.confidence} confidence` : 'no pool estimate'}). dnsmasq 2.90 ping-checks an address for 3 s before offering it, one client at a time, so a fresh dnsmasq answers one DISCOVER within the 3.5 s; once it has ping-checked 6 addresses within 30 s it stops checking (its overload rule) and answers at once, and the scan, which sends the next DISCOVER only when the last was answered in time (src/probe/dhcp-offers.ts, nextDiscoverAt), then gets six offers.
Not measured: a /20 with a few hundred live hosts. The lab may use only 198.51.100.0/24 and 203.0.113.0/24 (shared/DESIGN.md, the helpers' safety rules), so no subnet larger than a /24 can be built; the sweep's cost grows with the addresses probed (${'/'}20: 4094 probes at 2000/s ≈ 2.0 s plus one neighbour-table read per block of 64) and its memory with the live hosts found (the addresses are generated block by block, at most 256 of our entries are in the kernel's table at once).
`;
  process.stdout.write(`${section}\n`);
  replaceResultsSection('LAN scan', section);
  log('bench/RESULTS.md updated (section "LAN scan")');
} finally {
  await teardown();
}

/**
 * `macvlanctl watch --json` as a long-running child inside a lab host's
 * namespace, with its JSON lines collected so a test can wait for a report.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { LabHost } from '../lab.js';
import { BIN, TEST_LOCK_DIR } from './cli.js';
import { WATCH_NODE_FLAGS } from '../../../src/backends/systemd-unit/watch-unit.js';

export interface WatchLine {
  event: string;
  network?: string;
  time: string;
  [key: string]: unknown;
}

export interface Watcher {
  child: ChildProcess;
  lines: WatchLine[];
  stderr: () => string;
  /** Resolves with the first line (from index `from` on) that matches, or rejects after `timeoutMs`. */
  waitFor(match: (l: WatchLine) => boolean, opts?: { from?: number; timeoutMs?: number }): Promise<WatchLine>;
  /** SIGTERM; resolves with the exit code and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** The watcher as `watch --install`'s unit runs it: with the same node flags. */
export function startWatch(h: LabHost, args: string[], opts: { root: string; dockerHost?: string }): Watcher {
  const full = [...args, '--json', '--root', opts.root];
  const dockerHost = opts.dockerHost ?? h.docker?.dockerHost;
  if (dockerHost && !args.includes('--no-docker')) full.push('--docker-host', dockerHost);
  const env = { ...process.env, NO_COLOR: '1', MACVLANCTL_LOCK_DIR: process.env.MACVLANCTL_LOCK_DIR || TEST_LOCK_DIR };
  const child = spawn('nsenter', [`--net=${h.netnsPath}`, '--', process.execPath, ...WATCH_NODE_FLAGS, BIN, 'watch', ...full], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: WatchLine[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as WatchLine);
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    lines,
    stderr: () => err,
    waitFor(match, o = {}) {
      const from = o.from ?? 0;
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.slice(from).find(match);
          if (hit) {
            cleanup();
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`watch: no matching line within ${o.timeoutMs ?? 5000} ms; lines:\n${lines.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${err}`));
        }, o.timeoutMs ?? 5000);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return { ...(await exited), ms: 0 };
      const t0 = Date.now();
      child.kill(signal);
      const r = await exited;
      return { ...r, ms: Date.now() - t0 };
    },
  };
}

/**
 * Wakes the watcher when the kernel's links, addresses or routes change.
 *
 * `ip monitor link address route` is a child process kept for the life of
 * the watcher. Its output is used only as a trigger, never parsed: iproute2
 * 6.1 ignores `-json` for `monitor`, and the text format is not a stable
 * interface; the watcher re-reads the facts with `ip -json` instead. Neighbour
 * events are not subscribed to, so ARP traffic on a busy LAN costs nothing.
 * The child blocks in recvmsg(2) on its netlink socket: an idle host costs no
 * CPU (no polling).
 *
 * If the child dies (killed by someone, iproute2 upgraded under it), it is
 * started again after a backoff, and `onRestart` asks for a full resync since
 * events were missed meanwhile.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { MacvlanError } from '../../model/errors.js';
import { backoffDelay } from './backoff.js';

export interface KernelMonitorOptions {
  /** Called on every chunk of output (one or more changes). Debounce in the caller. */
  onChange: () => void;
  /** The monitor was started again after it died: changes may have been missed. */
  onRestart?: (why: string) => void;
  ipBinary?: string;
}

export interface KernelMonitor {
  /** Resolves once the monitor has subscribed (its first spawn succeeded). */
  readonly ready: Promise<void>;
  /** Stops the child and never restarts it. */
  stop(): Promise<void>;
}

export const MONITOR_ARGS = ['monitor', 'link', 'address', 'route'] as const;

export function monitorKernelChanges(opts: KernelMonitorOptions): KernelMonitor {
  const ip = opts.ipBinary ?? 'ip';
  let child: ChildProcess | undefined;
  let stopped = false;
  let attempt = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  let everStarted = false;

  const start = () => {
    const c = spawn(ip, [...MONITOR_ARGS], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let stderr = '';
    c.stdout!.on('data', () => {
      attempt = 0;
      opts.onChange();
    });
    c.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString('utf8');
    });
    c.once('spawn', () => {
      // The process runs, but `ip` may not have bound its netlink socket yet: a change made in the next
      // few milliseconds can go unseen. There is no output to wait for; the watcher's first full pass,
      // made after this, covers that window by reading the facts themselves.
      if (!everStarted) {
        everStarted = true;
        resolveReady();
      }
    });
    c.once('error', (e: NodeJS.ErrnoException) => {
      if (!everStarted) {
        rejectReady(new MacvlanError('SYSTEM_ERROR', `cannot start ${ip} ${MONITOR_ARGS.join(' ')}: ${e.code === 'ENOENT' ? 'not found (install iproute2)' : e.message}`));
        stopped = true;
      }
    });
    c.once('close', (code, signal) => {
      if (child === c) child = undefined;
      if (stopped) return;
      const why = `${ip} monitor ended (${signal ?? `exit ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`;
      const delay = backoffDelay(attempt++);
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        if (stopped) return;
        start();
        opts.onRestart?.(why);
      }, delay);
    });
  };
  start();

  return {
    ready,
    stop: () => {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        c.once('close', () => resolve());
        c.kill('SIGTERM');
      });
    },
  };
}

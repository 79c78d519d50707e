/**
 * The unit of `macvlanctl watch --install`: the watcher as a service,
 * started after the network and Docker and restarted if it fails. One unit
 * for every network (or for those named at install). Its header is its own,
 * not a network's (src/backends/render-common.ts), so status and destroy never
 * take it for one network's file. Pure.
 */
import { MacvlanError } from '../../model/errors.js';
import { lines } from '../render-common.js';
import type { RenderedFile } from '../rendered-file.js';
import { SYSTEMD_UNIT_DIR, UNIT_WANTS_DIR, systemdCommandLine } from './render.js';

export const WATCH_UNIT_NAME = 'macvlanctl-watch.service';
export const WATCH_UNIT_PATH = `${SYSTEMD_UNIT_DIR}/${WATCH_UNIT_NAME}`;
/** The enable symlink (`systemctl enable` makes the same). */
export const WATCH_UNIT_LINK = { path: `${UNIT_WANTS_DIR}/${WATCH_UNIT_NAME}`, target: WATCH_UNIT_PATH };
/**
 * Node flags the unit runs the watcher with, to keep it within its memory goal
 * (RSS ≤ 60 MB, issue 12; bench/watch.mjs and bench/RESULTS.md "Watch"). With
 * node's defaults its peak RSS was 74–94 MiB over 200 trials of each repair
 * and container start: V8 lets the young generation grow to 16 MiB
 * semi-spaces and compiles hot code, though the watcher's JS work per pass is
 * a few milliseconds. --lite-mode is V8's low-memory mode (it implies
 * --jitless); with it and 1 MiB semi-spaces the peak stayed near 55 MiB,
 * repairs as fast (most of a repair is the kernel's and `ip`'s).
 * --no-expose-wasm silences the warning that WebAssembly is off (macvlanctl
 * uses none; test/unit/launcher-cache.test.ts).
 */
export const WATCH_NODE_FLAGS = ['--lite-mode', '--no-expose-wasm', '--max-semi-space-size=1'];
export const WATCH_UNIT_HEADER = '# Managed by macvlanctl watch --install. Changes are overwritten; remove with: macvlanctl watch --uninstall';

export interface WatchUnitOptions {
  /**
   * argv prefix that runs the installed macvlanctl, the first element an absolute path:
   * a node binary and the launcher (src/gather/gather-facts.ts selfCommand), or one executable.
   */
  command: string[];
  /** Networks to watch; empty = every network with a record. */
  names: string[];
  restartContainers: boolean;
  dockerHost?: string;
}

export function isWatchUnit(content: string): boolean {
  return content.split('\n', 1)[0] === WATCH_UNIT_HEADER;
}

export function renderWatchUnit(o: WatchUnitOptions): RenderedFile {
  const [program] = o.command;
  if (!program || !program.startsWith('/')) {
    throw new MacvlanError('CONFIG_INVALID', `systemd unit: the command that runs macvlanctl must start with an absolute path, not '${program ?? ''}'`, { command: o.command });
  }
  const argv = [...withNodeFlags(o.command), 'watch', ...o.names, ...(o.restartContainers ? [] : ['--no-restart-containers']), ...(o.dockerHost ? ['--docker-host', o.dockerHost] : [])];
  const content = lines(
    WATCH_UNIT_HEADER,
    '[Unit]',
    `Description=macvlanctl watch: keeps the host side of macvlanctl's networks right (${o.names.length ? o.names.join(', ') : 'every network'})`,
    // It waits for a missing engine or parent by itself; the order only spares it a start in the dark.
    'After=network-online.target docker.service',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${systemdCommandLine(argv)}`,
    // SIGTERM ends it with exit 0 within a second; anything else is a failure worth a restart.
    'Restart=on-failure',
    'RestartSec=2',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  );
  return { path: WATCH_UNIT_PATH, content, mode: 0o644 };
}

/** The node flags go between node and the launcher; a command that is not `node SCRIPT` is left as it is. */
function withNodeFlags(command: string[]): string[] {
  const [program, ...rest] = command;
  const isNode = /^node(js)?(\d+)?$/.test(program!.slice(program!.lastIndexOf('/') + 1));
  return isNode && rest.length > 0 ? [program!, ...WATCH_NODE_FLAGS, ...rest] : command;
}

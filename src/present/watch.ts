/**
 * The watcher's reports: one line each for people, one JSON object per line
 * for machines (`--json`: a stream, so not the one-document envelope of the
 * other commands; every line carries schemaVersion and command all the same).
 */
import type { WatchReport } from '../apply/watch.js';
import { terminalSafe } from '../config/shown-name.js';
import { SCHEMA_VERSION } from './schema-version.js';

export function watchJsonLine(r: WatchReport, now: Date = new Date()): string {
  return `${JSON.stringify({ schemaVersion: SCHEMA_VERSION, command: 'watch', time: now.toISOString(), ...r })}\n`;
}

export function watchLine(r: WatchReport): string {
  return `${terminalSafe(text(r))}\n`;
}

function text(r: WatchReport): string {
  switch (r.event) {
    case 'watching':
      return `watching ${r.networks.length ? r.networks.join(', ') : 'no network yet (none has a record: run apply)'}${r.docker ? '' : ' (without Docker)'}`;
    case 'repaired':
      return `${r.network}: found ${r.found.join('; ')} → ${r.done.join(', ')} (${r.ms} ms)`;
    case 'repair-failed':
      return `${r.network}: found ${r.found.join('; ')} → repair failed, retrying later: ${r.error.message}`;
    case 'waiting':
      return `${r.network}: parent ${r.parent} is missing; waiting for it`;
    case 'down':
      return `${r.network}: taken down (macvlanctl down); left alone until macvlanctl up or apply`;
    case 'parent-back':
      return `${r.network}: parent ${r.parent} is back`;
    case 'problem':
      return `${r.network === '*' ? '' : `${r.network}: `}${r.error.message}`;
    case 'docker':
      return r.state === 'connected' ? `Docker engine: connected, ${r.detail}` : `Docker engine: ${r.detail}`;
    case 'container-lost':
      return r.action === 'restarted'
        ? `${r.network}: container ${r.container} had lost its interface (its parent was re-created) → restarted it`
        : r.action === 'reported'
          ? `${r.network}: container ${r.container}: ${r.detail ?? 'lost its interface'} (--no-restart-containers)`
          : `${r.network}: container ${r.container} lost its interface; restarting it failed: ${r.detail ?? ''}`;
    case 'stopped':
      return `stopped${r.signal ? ` (${r.signal})` : ''}`;
  }
}

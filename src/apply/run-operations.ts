/**
 * Executes operations in order and, when one fails, undoes the ones that took
 * effect, in reverse. Consecutive `ip` operations run as one `ip -batch`; the
 * failing line number tells which of them took effect. Every failure, of the
 * apply and of the rollback, is reported.
 */
import { AggregateMacvlanError, MacvlanError } from '../model/errors.js';
import type { PlannedNetwork } from '../model/plan.js';
import type { FilePort } from '../backends/write-files.js';
import type { LoadRequest } from '../backends/load.js';
import type { DockerCreateBody, Operation } from './operations.js';

export interface DockerPort {
  createNetwork(body: DockerCreateBody): Promise<string>;
  removeNetwork(idOrName: string): Promise<void>;
  /** GET /networks/NAME: its id and labels, or undefined when there is none. */
  findNetwork(name: string): Promise<{ id: string; labels: Record<string, string> } | undefined>;
}

export interface IpPort {
  /** Runs lines through one `ip -batch`; on failure throws with `applied` = lines that took effect. */
  batch(lines: string[]): Promise<void>;
  /** Like batch, but tries every line and returns the failures (for rollback). */
  batchForce(lines: string[]): Promise<string[]>;
  sysctl(family: 'ipv4' | 'ipv6', iface: string, key: string, value: string): void;
}

export interface StatePort {
  read(name: string): string | undefined;
  write(network: PlannedNetwork): void;
  restore(name: string, text: string | undefined): void;
}

export interface Ports {
  docker: DockerPort;
  ip: IpPort;
  state: StatePort;
  files: FilePort;
  /** Asks the running network manager to load changed files; returns lines for the user, never throws. */
  load: (req: Omit<LoadRequest, 'root'>) => Promise<string[]>;
  log: (line: string) => void;
}

type Undo = { title: string; run: () => Promise<void> };

export interface RunReport {
  done: string[];
}

export interface RunOptions {
  /** The command these operations belong to, named when they fail ("up failed …"). */
  command?: 'apply' | 'destroy' | 'up' | 'down';
  /** Aborted (by SIGINT/SIGTERM, reason = the signal's name): stop before the next step and roll back. */
  signal?: AbortSignal;
  /**
   * How long to watch for a Docker network whose create timed out (or lost its
   * connection): the engine may still make it after the client gave up.
   */
  settleMs?: number;
}

const DEFAULT_SETTLE_MS = 30_000;
const SETTLE_POLL_MS = 250;

function appliedCount(e: unknown): number {
  const n = (e as { applied?: unknown }).applied;
  return typeof n === 'number' ? n : 0;
}

export async function runOperations(ops: Operation[], ports: Ports, opts: RunOptions = {}): Promise<RunReport> {
  const command = opts.command ?? 'apply';
  const undos: Undo[] = [];
  const done: string[] = [];
  /** Outcomes that could not be known (a create the engine may still carry out): no clean rollback can be claimed. */
  const uncertain: MacvlanError[] = [];
  /** Steps done that no undo puts back. */
  const irreversible: string[] = [];
  let i = 0;
  try {
    while (i < ops.length) {
      const op = ops[i]!;
      // Between steps only: a step under way finishes, so its undo is known.
      if (opts.signal?.aborted) throw interrupted(opts.signal, op.title);
      if (op.kind === 'ip') {
        // gather the run of consecutive ip operations into one batch
        const group: Extract<Operation, { kind: 'ip' }>[] = [];
        while (i < ops.length && ops[i]!.kind === 'ip') group.push(ops[i++] as Extract<Operation, { kind: 'ip' }>);
        try {
          await ports.ip.batch(group.map((g) => g.line));
        } catch (e) {
          registerIpUndos(group.slice(0, appliedCount(e)), undos, ports, done);
          irreversible.push(...group.slice(0, appliedCount(e)).filter((g) => g.irreversible).map((g) => g.title));
          const failed = group[appliedCount(e)];
          throw failed && e instanceof MacvlanError ? e.withContext(failed.title) : e;
        }
        registerIpUndos(group, undos, ports, done);
        irreversible.push(...group.filter((g) => g.irreversible).map((g) => g.title));
        continue;
      }
      if (op.kind === 'sysctl') {
        try {
          ports.ip.sysctl(op.family, op.iface, op.key, op.value);
        } catch (e) {
          // An announcement that cannot be switched on is not worth a rollback.
          ports.log(`warning: ${op.title}: ${(e as Error).message}`);
        }
        ports.log(`  ✓ ${op.title}`);
        done.push(op.title);
        i++;
        continue;
      }
      if (op.kind === 'docker-create') {
        let id: string;
        try {
          id = await ports.docker.createNetwork(op.body);
        } catch (e) {
          if (outcomeUnknown(e)) {
            // The engine got the request and may have made (or still make) the network: find out before claiming anything.
            const made = await settleUnknownCreate(op, ports, opts.settleMs ?? DEFAULT_SETTLE_MS);
            if (made === 'unknown') {
              uncertain.push(
                new MacvlanError(
                  'DOCKER_ERROR',
                  `Docker network ${op.network} may exist: the engine did not answer its create, and it had not appeared ${Math.round((opts.settleMs ?? DEFAULT_SETTLE_MS) / 1000)} s later (the engine may still make it); check with \`docker network inspect ${op.network}\` and remove it (macvlanctl destroy ${op.network}) if it is there`,
                  { network: op.network },
                ),
              );
            } else if (made) {
              const madeId = made;
              undos.push({ title: `remove Docker network ${op.network} (made by the engine after the request timed out)`, run: () => ports.docker.removeNetwork(madeId) });
            }
          }
          throw e instanceof MacvlanError ? e.withContext(op.title) : e;
        }
        undos.push({ title: `remove Docker network ${op.network}`, run: () => ports.docker.removeNetwork(id) });
        ports.log(`  ✓ ${op.title}`);
        done.push(op.title);
        i++;
        continue;
      }
      if (op.kind === 'state-write' || op.kind === 'state-remove') {
        const name = op.kind === 'state-write' ? op.network.name : op.network;
        const previous = ports.state.read(name);
        try {
          if (op.kind === 'state-write') ports.state.write(op.network);
          else ports.state.restore(name, undefined);
        } catch (e) {
          throw new MacvlanError('SYSTEM_ERROR', `${op.title}: ${(e as Error).message}`);
        }
        undos.push({ title: `restore the record of ${name}`, run: async () => ports.state.restore(name, previous) });
        ports.log(`  ✓ ${op.title}`);
        done.push(op.title);
        i++;
        continue;
      }
      if (op.kind === 'file-write' || op.kind === 'file-link' || op.kind === 'file-remove') {
        let restore;
        try {
          if (op.kind === 'file-write') restore = ports.files.write(op.path, op.content, op.mode);
          else if (op.kind === 'file-link') restore = ports.files.link(op.path, op.target);
          else restore = ports.files.remove(op.path);
        } catch (e) {
          throw e instanceof MacvlanError ? e.withContext(op.title) : new MacvlanError('SYSTEM_ERROR', `${op.title}: ${(e as Error).message}`);
        }
        undos.push({ title: `put back ${op.path}`, run: async () => restore() });
        ports.log(`  ✓ ${op.title}`);
        done.push(op.title);
        i++;
        continue;
      }
      if (op.kind === 'persist-load') {
        // Last and never fatal: the files are in place for the next boot either way.
        for (const line of await ports.load({ backend: op.backend, written: op.written, removed: op.removed, ...(op.shim ? { shim: op.shim } : {}) })) ports.log(`  · ${line}`);
        done.push(op.title);
        i++;
        continue;
      }
      if (op.kind === 'docker-remove') {
        await ports.docker.removeNetwork(op.id).catch((e: unknown) => {
          throw e instanceof MacvlanError ? e.withContext(op.title) : e;
        });
        const recreate = op.recreate;
        if (recreate) undos.push({ title: `re-create Docker network ${op.network}`, run: async () => void (await ports.docker.createNetwork(recreate)) });
        ports.log(`  ✓ ${op.title}`);
        done.push(op.title);
        i++;
        continue;
      }
    }
  } catch (e) {
    const failure = e instanceof MacvlanError ? e : new MacvlanError('SYSTEM_ERROR', String((e as Error)?.message ?? e));
    const cannotUndo = irreversible.map(
      (title) => new MacvlanError('SYSTEM_ERROR', `rollback: "${title}" cannot be undone; run ${command === 'destroy' || command === 'down' ? command : 'apply'} again to finish`),
    );
    const rollbackErrors = [...(await rollback(undos, ports)), ...uncertain, ...cannotUndo];
    const errors = [failure, ...rollbackErrors];
    const state = rollbackErrors.length === 0 ? 'everything done before it was undone; the host is as it was' : 'the rollback was incomplete; see below';
    if (failure.code === 'ABORTED') {
      const err = new AggregateMacvlanError('ABORTED', `${command} interrupted (${state}):`, errors);
      Object.assign(err.details, failure.details);
      throw err;
    }
    throw new AggregateMacvlanError('APPLY_FAILED', `${command} failed (${state}):`, errors);
  }
  return { done };
}

function interrupted(signal: AbortSignal, next: string): MacvlanError {
  const name = typeof signal.reason === 'string' ? signal.reason : 'a signal';
  return new MacvlanError('ABORTED', `interrupted by ${name} before: ${next}`, { signal: name });
}

/** Errors after which the engine may or may not have acted: a timeout, a connection lost mid-request. */
function outcomeUnknown(e: unknown): boolean {
  return e instanceof MacvlanError && e.details.outcomeUnknown === true;
}

/**
 * After a create whose outcome is unknown: watch for the network for up to
 * `settleMs`. Its id when it appears with the labels we sent (then it is the
 * one we asked for); false when one appears that is not ours (left alone);
 * 'unknown' when none appeared in time: the engine may still make it, so no
 * clean rollback can be claimed.
 */
async function settleUnknownCreate(op: Extract<Operation, { kind: 'docker-create' }>, ports: Ports, settleMs: number): Promise<string | false | 'unknown'> {
  ports.log(`  … ${op.title}: no answer from the engine; watching for up to ${Math.round(settleMs / 1000)} s whether it makes the network anyway`);
  const deadline = Date.now() + settleMs;
  for (;;) {
    try {
      const found = await ports.docker.findNetwork(op.network);
      if (found) return sameLabels(found.labels, op.body.Labels) ? found.id : false;
    } catch {
      // the engine is still busy: keep watching until the deadline
    }
    if (Date.now() >= deadline) return 'unknown';
    await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function registerIpUndos(group: Extract<Operation, { kind: 'ip' }>[], undos: Undo[], ports: Ports, done: string[]): void {
  for (const g of group) {
    ports.log(`  ✓ ${g.title}`);
    done.push(g.title);
    const line = g.undo;
    if (line) {
      undos.push({
        title: `undo: ${g.title}`,
        run: async () => {
          const failures = await ports.ip.batchForce([line]);
          if (failures.length) throw new MacvlanError('SYSTEM_ERROR', failures.join('; '));
        },
      });
    }
  }
}

async function rollback(undos: Undo[], ports: Ports): Promise<MacvlanError[]> {
  const errors: MacvlanError[] = [];
  for (const u of [...undos].reverse()) {
    try {
      await u.run();
      ports.log(`  ↺ ${u.title}`);
    } catch (e) {
      errors.push(new MacvlanError('SYSTEM_ERROR', `rollback: ${u.title}: ${(e as Error).message}`));
    }
  }
  return errors;
}

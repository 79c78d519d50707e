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
  /** Disconnects a container from a network, forcibly (destroy --force). */
  disconnectContainer(network: string, container: string): Promise<void>;
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

/** What one run keeps while it goes: the undos of what took effect, what was done, what cannot be undone or known. */
interface Run {
  ports: Ports;
  opts: RunOptions;
  undos: Undo[];
  done: string[];
  /** Outcomes that could not be known (a create the engine may still carry out): no clean rollback can be claimed. */
  uncertain: MacvlanError[];
  /** Steps done that no undo puts back. */
  irreversible: string[];
}

type Handler<K extends Operation['kind']> = (op: Extract<Operation, { kind: K }>, run: Run) => Promise<void>;

function succeeded(run: Run, title: string): void {
  run.ports.log(`  ✓ ${title}`);
  run.done.push(title);
}

/** The failure of a step, named by its title. */
function inStep(e: unknown, title: string): unknown {
  return e instanceof MacvlanError ? e.withContext(title) : e;
}

/** Consecutive `ip` operations run as one `ip -batch`: the failing line number tells which of them took effect. */
async function runIpGroup(group: Extract<Operation, { kind: 'ip' }>[], run: Run): Promise<void> {
  const took = (n: number) => {
    registerIpUndos(group.slice(0, n), run.undos, run.ports, run.done);
    run.irreversible.push(...group.slice(0, n).filter((g) => g.irreversible).map((g) => g.title));
  };
  try {
    await run.ports.ip.batch(group.map((g) => g.line));
  } catch (e) {
    took(appliedCount(e));
    const failed = group[appliedCount(e)];
    throw failed ? inStep(e, failed.title) : e;
  }
  took(group.length);
}

/** One handler per kind of operation (`ip` runs in groups, runIpGroup). */
const HANDLERS: { [K in Exclude<Operation['kind'], 'ip'>]: Handler<K> } = {
  async sysctl(op, run) {
    try {
      run.ports.ip.sysctl(op.family, op.iface, op.key, op.value);
    } catch (e) {
      // A sysctl that cannot be set is not worth a rollback; it is a warning, never a ✓.
      run.ports.log(`warning: ${op.title}: ${(e as Error).message}`);
      return;
    }
    succeeded(run, op.title);
  },

  async 'docker-create'(op, run) {
    const { ports, opts } = run;
    let id: string;
    try {
      id = await ports.docker.createNetwork(op.body);
    } catch (e) {
      if (outcomeUnknown(e)) {
        // The engine got the request and may have made (or still make) the network: find out before claiming anything.
        const settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
        const made = await settleUnknownCreate(op, ports, settleMs);
        if (made === 'unknown') {
          run.uncertain.push(
            new MacvlanError(
              'DOCKER_ERROR',
              `Docker network ${op.network} may exist: the engine did not answer its create, and it had not appeared ${Math.round(settleMs / 1000)} s later (the engine may still make it); check with \`docker network inspect ${op.network}\` and remove it (macvlanctl destroy ${op.network}) if it is there`,
              { network: op.network },
            ),
          );
        } else if (made) {
          const madeId = made;
          run.undos.push({ title: `remove Docker network ${op.network} (made by the engine after the request timed out)`, run: () => ports.docker.removeNetwork(madeId) });
        }
      }
      throw inStep(e, op.title);
    }
    run.undos.push({ title: `remove Docker network ${op.network}`, run: () => ports.docker.removeNetwork(id) });
    succeeded(run, op.title);
  },

  async 'docker-remove'(op, run) {
    const { ports } = run;
    await ports.docker.removeNetwork(op.id).catch((e: unknown) => {
      throw inStep(e, op.title);
    });
    const recreate = op.recreate;
    if (recreate) run.undos.push({ title: `re-create Docker network ${op.network}`, run: async () => void (await ports.docker.createNetwork(recreate)) });
    succeeded(run, op.title);
  },

  async 'docker-disconnect'(op, run) {
    await run.ports.docker.disconnectContainer(op.id, op.container.id).catch((e: unknown) => {
      throw inStep(e, op.title);
    });
    // No undo: re-connecting would not give the container back its address and settings.
    run.irreversible.push(op.title);
    succeeded(run, op.title);
  },

  async 'state-write'(op, run) {
    recordStep(run, op.title, op.network.name, () => run.ports.state.write(op.network));
  },

  async 'state-remove'(op, run) {
    recordStep(run, op.title, op.network, () => run.ports.state.restore(op.network, undefined));
  },

  async 'file-write'(op, run) {
    fileStep(run, op.title, op.path, () => run.ports.files.write(op.path, op.content, op.mode));
  },

  async 'file-link'(op, run) {
    fileStep(run, op.title, op.path, () => run.ports.files.link(op.path, op.target));
  },

  async 'file-remove'(op, run) {
    fileStep(run, op.title, op.path, () => run.ports.files.remove(op.path));
  },

  async 'persist-load'(op, run) {
    // Last and never fatal: the files are in place for the next boot either way.
    for (const line of await run.ports.load({ backend: op.backend, written: op.written, removed: op.removed, ...(op.shim ? { shim: op.shim } : {}) })) run.ports.log(`  · ${line}`);
    run.done.push(op.title);
  },
};

/** Our record changed: undone by putting back the text it had. */
function recordStep(run: Run, title: string, name: string, change: () => void): void {
  const previous = run.ports.state.read(name);
  try {
    change();
  } catch (e) {
    throw new MacvlanError('SYSTEM_ERROR', `${title}: ${(e as Error).message}`);
  }
  run.undos.push({ title: `restore the record of ${name}`, run: async () => run.ports.state.restore(name, previous) });
  succeeded(run, title);
}

/** A persistence file changed: undone by putting back what was there. */
function fileStep(run: Run, title: string, path: string, change: () => () => void): void {
  let restore: () => void;
  try {
    restore = change();
  } catch (e) {
    throw e instanceof MacvlanError ? e.withContext(title) : new MacvlanError('SYSTEM_ERROR', `${title}: ${(e as Error).message}`);
  }
  run.undos.push({ title: `put back ${path}`, run: async () => restore() });
  succeeded(run, title);
}

export async function runOperations(ops: Operation[], ports: Ports, opts: RunOptions = {}): Promise<RunReport> {
  const command = opts.command ?? 'apply';
  const run: Run = { ports, opts, undos: [], done: [], uncertain: [], irreversible: [] };
  let i = 0;
  try {
    while (i < ops.length) {
      const op = ops[i]!;
      // Between steps only: a step under way finishes, so its undo is known.
      if (opts.signal?.aborted) throw interrupted(opts.signal, op.title);
      if (op.kind === 'ip') {
        const group: Extract<Operation, { kind: 'ip' }>[] = [];
        while (i < ops.length && ops[i]!.kind === 'ip') group.push(ops[i++] as Extract<Operation, { kind: 'ip' }>);
        await runIpGroup(group, run);
        continue;
      }
      await (HANDLERS[op.kind] as Handler<typeof op.kind>)(op, run);
      i++;
    }
  } catch (e) {
    const failure = e instanceof MacvlanError ? e : new MacvlanError('SYSTEM_ERROR', String((e as Error)?.message ?? e));
    const cannotUndo = run.irreversible.map(
      (title) => new MacvlanError('SYSTEM_ERROR', `rollback: "${title}" cannot be undone; run ${command === 'destroy' || command === 'down' ? command : 'apply'} again to finish`),
    );
    const rollbackErrors = [...(await rollback(run.undos, ports)), ...run.uncertain, ...cannotUndo];
    const errors = [failure, ...rollbackErrors];
    const state = rollbackErrors.length === 0 ? 'everything done before it was undone; the host is as it was' : 'the rollback was incomplete; see below';
    if (failure.code === 'ABORTED') {
      const err = new AggregateMacvlanError('ABORTED', `${command} interrupted (${state}):`, errors);
      Object.assign(err.details, failure.details);
      throw err;
    }
    throw new AggregateMacvlanError('APPLY_FAILED', `${command} failed (${state}):`, errors);
  }
  return { done: run.done };
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

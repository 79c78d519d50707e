/**
 * `macvlanctl render NAME --backend X`: the persistence files apply would
 * write, printed and never written. The network is planned exactly as for
 * apply (an applied network keeps its range), so what is printed is what
 * apply writes.
 */
import { PERSIST_BACKENDS, type PersistBackend } from '../../model/desired.js';
import { MacvlanError } from '../../model/errors.js';
import type { PlannedPersistence } from '../../model/plan.js';
import { computePlan } from '../../plan/compute-plan.js';
import { gatherHostFacts } from '../../gather/gather-facts.js';
import { type DeclarationOptions, readDeclaration } from '../../config/declaration.js';
import { jsonEnvelope } from '../output.js';

export interface RenderOptions extends DeclarationOptions {
  root: string;
  dockerHost?: string;
  json?: boolean;
  backend?: string;
}

export interface RenderResult {
  networks: ({ name: string } & PlannedPersistence)[];
}

function backendOf(text: string | undefined): PersistBackend | undefined {
  if (text === undefined) return undefined;
  if ((PERSIST_BACKENDS as readonly string[]).includes(text) && text !== 'none') return text as PersistBackend;
  throw new MacvlanError('USAGE', `--backend ${text}: expected one of ${PERSIST_BACKENDS.filter((b) => b !== 'none').join(', ')}`);
}

export function formatRendered(r: RenderResult): string {
  const out: string[] = [];
  for (const n of r.networks) {
    out.push(`# network ${n.name}: ${n.backend} — ${n.reason}`);
    if (n.files.length === 0) out.push('# (no files)');
    for (const f of n.files) out.push(`# ==> ${f.path} (mode ${f.mode.toString(8).padStart(4, '0')}) <==`, f.content.trimEnd(), '');
    if (n.enable) out.push(`# ==> ${n.enable.path} -> ${n.enable.target} (symlink: enables the unit) <==`, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

export async function runRender(name: string | undefined, opts: RenderOptions): Promise<void> {
  const backend = backendOf(opts.backend);
  const desired = (await readDeclaration(name, opts)).map((d) => (backend ? { ...d, persist: backend } : d));
  // a swarm network's files depend on which node this is (#13): the engine says
  const facts = await gatherHostFacts({ root: opts.root, dockerHost: opts.dockerHost, swarm: desired.some((d) => d.swarm !== undefined) });
  const plan = computePlan(desired, facts);
  const result: RenderResult = {
    networks: plan.networks.map((n) => ({ name: n.name, ...(n.persistence ?? { backend: 'none' as const, reason: 'not planned', files: [] }) })),
  };
  process.stdout.write(opts.json ? jsonEnvelope('render', result) : formatRendered(result));
}

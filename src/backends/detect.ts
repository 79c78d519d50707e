/**
 * `--persist auto`: which network manager owns the parent, so the shim is
 * written down the way the host already manages its network. Pure: the facts
 * come from src/gather/persist-facts.ts.
 *
 * Each manager may *claim* the parent (its backend's claims.ts, through
 * PersistenceBackend.claims), with evidence of one of three strengths: what the running manager reports (runtime), what its files say
 * (config), or that it takes every Ethernet device nothing else configures
 * (default: NetworkManager on Fedora, or on a Debian desktop). The strongest
 * evidence wins; among equals the registry's order decides: networkd, then
 * NetworkManager, then ifupdown (the order in the issue: netplan's files sit
 * in networkd's and NetworkManager's directories, so netplan is judged through
 * them). No claim: the fallback backend, the systemd unit.
 *
 * An explicit backend is checked the same way and refused (CONFIG_INVALID)
 * when it cannot bring the shim back at boot, naming the one that would.
 */
import type { PersistBackend } from '../model/desired.js';
import { MacvlanError } from '../model/errors.js';
import type { Warning } from '../model/plan.js';
import type { ManagerFacts, ParentLink, PersistDecision } from '../model/manager-facts.js';
import type { Claim, ClaimStrength, Finding, PersistenceBackend } from './backend.js';
import { BACKENDS, backendNamed, fallbackBackend } from './registry.js';
import type { RenderBackend } from './rendered-file.js';

const STRENGTHS: ClaimStrength[] = ['runtime', 'config', 'default'];

/** The backends that can claim a parent, in the registry's order of preference. */
function claimants(): (PersistenceBackend & Required<Pick<PersistenceBackend, 'claims'>>)[] {
  return BACKENDS.filter((b): b is PersistenceBackend & Required<Pick<PersistenceBackend, 'claims'>> => b.claims !== undefined);
}

export interface DetectOptions {
  /** The network's name: the ifupdown checks look for its exact file, /etc/network/interfaces.d/macvlanctl-NAME. */
  network?: string;
}

type Findings = Map<RenderBackend, Finding>;

function findings(p: ParentLink, f: ManagerFacts): Findings {
  return new Map(claimants().map((b) => [b.name, b.claims(p, f)]));
}

function pick(all: Findings): Claim | undefined {
  for (const s of STRENGTHS) for (const fd of all.values()) if (fd.claim?.strength === s) return fd.claim;
  return undefined;
}

const label = (b: RenderBackend) => backendNamed(b).label;

function reasonFor(c: Claim, parent: string): string {
  return `${label(c.backend)} ${backendNamed(c.backend).claimVerb ?? 'manages'} ${parent} (${c.because})`;
}

function problemsWarning(f: ManagerFacts): Warning[] {
  const problems = [...f.problems, ...f.netplan.problems];
  if (!problems.length) return [];
  return [
    {
      code: 'PERSIST_FACTS_INCOMPLETE',
      message: `some network configuration could not be read, so the choice of backend may be wrong: ${problems.join('; ')}`,
      fix: 'run as root, or pass --persist with the backend that manages the parent',
    },
  ];
}

function decide(p: ParentLink, f: ManagerFacts, all: Findings, network: string): PersistDecision {
  const chosen = pick(all);
  const warnings = problemsWarning(f);
  if (!chosen) {
    for (const [m, fd] of all) {
      if (fd.blocked) {
        warnings.push({
          code: 'PERSIST_MANAGER_INACTIVE',
          message: `${fd.why}, so macvlanctl does not use ${label(m)}`,
          fix: `if ${label(m)} should configure the shim, enable it (or fix its files) and plan again`,
        });
      }
    }
    const fallback = fallbackBackend();
    return { backend: fallback.name, reason: fallback.fallback.reason(p.name), warnings };
  }
  warnings.push(...chosen.warnings);
  const others = [...all].filter(([m, fd]) => m !== chosen.backend && fd.claim && fd.claim.strength !== 'default').map(([m]) => m);
  if (others.length) {
    warnings.push({
      code: 'PERSIST_SEVERAL_MANAGERS',
      message: `${p.name} is configured by ${[chosen.backend, ...others].map((m) => `${label(m)} (${all.get(m)!.claim!.because})`).join(' and by ')}; macvlanctl follows ${label(chosen.backend)}`,
      fix: `if ${others.map(label).join(' or ')} is the one in charge, pass --persist ${others[0]}`,
    });
  }
  warnings.push(...(backendNamed(chosen.backend).warningsWhenChosen?.(p, f, network) ?? []));
  const d: PersistDecision = { backend: chosen.backend, reason: reasonFor(chosen, p.name), warnings };
  if (chosen.networkd) d.networkd = chosen.networkd;
  return d;
}

function refuse(requested: RenderBackend, p: ParentLink, why: string, auto: PersistDecision): MacvlanError {
  const alternative = auto.backend === fallbackBackend().name ? `--persist ${auto.backend} would work (${auto.reason})` : `--persist ${auto.backend} would work: ${auto.reason}`;
  return new MacvlanError('CONFIG_INVALID', `--persist ${requested} cannot bring ${p.name}'s shim back at boot: ${why}. ${alternative}; or use --persist auto`, {
    requested,
    parent: p.name,
    suggested: auto.backend,
    why,
  });
}

/** `--persist none`: needs no facts at all. */
export function notPersisted(): PersistDecision {
  return { backend: 'none', reason: '--persist none: the shim is not persisted and is gone after a reboot', warnings: [] };
}

/**
 * The persistence backend for a network on `parent`: `auto` detects it,
 * an explicit backend is checked (and refused with a MacvlanError
 * CONFIG_INVALID, exit 2, when it cannot work here), `none` passes through.
 */
export function choosePersistBackend(parent: ParentLink, facts: ManagerFacts, requested: PersistBackend, opts: DetectOptions = {}): PersistDecision {
  if (requested === 'none') return notPersisted();
  const network = opts.network ?? 'NAME';
  const all = findings(parent, facts);
  const auto = decide(parent, facts, all, network);
  if (requested === 'auto') return auto;
  const backend = backendNamed(requested);
  if (backend.fallback) return { backend: backend.name, reason: backend.fallback.explicitReason, warnings: [] };

  const own = all.get(requested) ?? {};
  const warnings = problemsWarning(facts);
  let reason: string;
  if (own.claim) {
    reason = reasonFor(own.claim, parent.name);
    warnings.push(...own.claim.warnings);
  } else {
    const accepted = backend.acceptUnclaimed?.(parent, facts);
    if (!accepted || 'why' in accepted) throw refuse(requested, parent, accepted?.why ?? own.why ?? `${backend.label} does not manage ${parent.name}`, auto);
    reason = accepted.reason;
  }
  warnings.push(...(backend.warningsWhenChosen?.(parent, facts, network) ?? []));
  const d: PersistDecision = { backend: requested, reason, warnings };
  if (own.claim?.networkd) d.networkd = own.claim.networkd;
  return d;
}

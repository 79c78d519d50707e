/**
 * ifupdown's claim on the parent (src/backends/detect.ts weighs the claims):
 * a stanza for it in /etc/network/interfaces (with what that sources), of an
 * interface ifupdown brought up (runtime) or not (config); and, once ifupdown
 * is chosen, whether the shim's stanza is read at boot, after the parent. Pure.
 */
import type { ManagerFacts, ParentLink } from '../../model/manager-facts.js';
import type { Warning } from '../../model/plan.js';
import type { ClaimStrength, Finding } from '../backend.js';
import { describeEntry, ifupdownCreatesParent, includingSource, parentStanzas } from './interfaces-file.js';
import { ifupdownPath } from './render.js';

export function ifupdownClaims(p: ParentLink, f: ManagerFacts): Finding {
  const ifd = f.ifupdown;
  if (!ifd.interfacesFile) return { why: 'there is no /etc/network/interfaces' };
  const st = parentStanzas(ifd.entries, p.name);
  const shown = st.ifaces[0] ?? st.auto?.entry ?? st.allow[0];
  if (!shown) return { why: `/etc/network/interfaces (with what it sources) has no stanza for ${p.name}` };
  if (ifd.installed === false && ifd.unit.state !== 'enabled') return { why: `${describeEntry(shown)} is for ${p.name}, but ifupdown is not installed (no ifup)`, blocked: true };
  const strength: ClaimStrength = ifd.upInterfaces.includes(p.name) ? 'runtime' : 'config';
  return { claim: { backend: 'ifupdown', strength, because: describeEntry(shown), warnings: [] } };
}

/** Checks that matter once ifupdown is the backend: is our file read at boot, and after the parent? */
export function ifupdownWarnings(p: ParentLink, f: ManagerFacts, network: string): Warning[] {
  const out: Warning[] = [];
  const ours = ifupdownPath(network);
  const entries = f.ifupdown.entries;
  const inc = includingSource(entries, ours);
  if (!inc) {
    const dirOnly = entries.some((e) => e.directive === 'source-directory');
    out.push({
      code: 'IFUPDOWN_NOT_SOURCED',
      message: dirOnly
        ? `ifup never reads ${ours}: /etc/network/interfaces reads /etc/network/interfaces.d only through source-directory, which skips names with characters other than letters, digits, _ and -`
        : `ifup never reads ${ours}: /etc/network/interfaces has no \`source /etc/network/interfaces.d/*\` line`,
      fix: 'add the line `source /etc/network/interfaces.d/*` to /etc/network/interfaces (at its end, so the shim comes up after its parent)',
    });
    return out;
  }
  const st = parentStanzas(entries, p.name);
  if (st.auto && st.auto.position > inc.position && ifupdownCreatesParent(st, p)) {
    out.push({
      code: 'IFUPDOWN_PARENT_AFTER_SOURCE',
      message:
        `at boot ifup -a reads the shim's stanza through ${describeEntry(inc.entry)} before it brings up ${p.name} (${describeEntry(st.auto.entry)}), ` +
        `which ifupdown creates: the shim's pre-up \`ip link add … link ${p.name}\` fails because ${p.name} does not exist yet`,
      fix: `move ${describeEntry(inc.entry)} below the stanza of ${p.name} (to the end of ${inc.entry.file})`,
    });
  }
  return out;
}

/**
 * An explicit --persist ifupdown without a claim (no stanza for the parent):
 * ifup -a still brings up the shim's own stanza, as long as there is an
 * /etc/network/interfaces to source it and an ifup to run it.
 */
export function ifupdownAcceptsUnclaimed(parent: ParentLink, facts: ManagerFacts): { reason: string } | { why: string } {
  const ifd = facts.ifupdown;
  if (!ifd.interfacesFile) return { why: `there is no /etc/network/interfaces${facts.root === '/' ? '' : ` under ${facts.root}`}, so ifup -a never reads the shim's stanza` };
  if (ifd.installed === false && ifd.unit.state !== 'enabled') return { why: 'ifupdown is not installed (no ifup)' };
  return { reason: `--persist ifupdown: /etc/network/interfaces does not configure ${parent.name}, but ifup -a brings up the shim's stanza` };
}

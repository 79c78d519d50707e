/**
 * The parent interface: present and up, and not wireless. The wording and
 * fixes are the planner's own (parentWarnings), so plan and doctor say the
 * same thing about the same interface.
 */
import { parentWarnings } from '../../plan/parent.js';
import { parentName } from '../expected.js';
import type { Check } from '../types.js';

export const parentCheck: Check = (f) => {
  const id = 'parent';
  const name = parentName(f);
  if (!name) {
    return { id, title: 'parent interface', verdict: 'skip', detail: 'the parent is not known: neither Docker nor apply’s record names it' };
  }
  const title = `parent ${name}`;
  const i = f.host.interfaces.find((x) => x.name === name);
  if (!i) {
    return {
      id,
      title,
      verdict: 'fail',
      detail: `${name} does not exist on this host: the containers and the shim have no way onto the LAN`,
      fix: `bring ${name} back, or if it was renamed, apply the network again with --parent NEW (macvlanctl destroy ${f.name} first, as Docker cannot move a network)`,
    };
  }
  const warnings = parentWarnings(i).filter((w) => w.code !== 'PARENT_WIRELESS');
  const down = warnings.find((w) => w.code === 'PARENT_DOWN');
  if (down) return { id, title, verdict: 'fail', detail: down.message, ...(down.fix ? { fix: down.fix } : {}) };
  if (warnings.length > 0) {
    const fixes = warnings.map((w) => w.fix).filter((x): x is string => !!x);
    return { id, title, verdict: 'warn', detail: warnings.map((w) => w.message).join('; '), ...(fixes.length ? { fix: fixes.join('; ') } : {}) };
  }
  const carrier = i.lowerUp ? 'with carrier' : `operstate ${i.operState}`;
  return { id, title, verdict: 'pass', detail: `${name} is up, ${carrier} (${i.kind}${i.mac ? `, MAC ${i.mac}` : ''})` };
};

export const parentWirelessCheck: Check = (f) => {
  const id = 'parent-wireless';
  const name = parentName(f);
  const i = name ? f.host.interfaces.find((x) => x.name === name) : undefined;
  if (!i) return { id, title: 'parent is wired', verdict: 'skip', detail: name ? `${name} does not exist` : 'the parent is not known' };
  const title = `parent ${name} is wired`;
  const w = parentWarnings(i).find((x) => x.code === 'PARENT_WIRELESS');
  if (!w) return { id, title, verdict: 'pass', detail: `${name} is not a wireless interface` };
  return {
    id,
    title,
    verdict: 'warn',
    detail: w.message,
    fix: `use a wired interface, or an ipvlan L2 network, whose containers share ${name}'s MAC (docker network create -d ipvlan -o parent=${name} -o ipvlan_mode=l2 …)`,
  };
};

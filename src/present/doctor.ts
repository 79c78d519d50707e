/**
 * Human output of doctor: one line per check — a mark, what is checked, what
 * was found, and the fix. On a terminal the marks are ✓ ! ✗ · (coloured when
 * colours are on); elsewhere plain words, so logs and grep read them.
 */
import { colors as c } from './colors.js';
import type { CheckResult, DoctorReport, Verdict } from '../doctor/types.js';

const GLYPH: Record<Verdict, string> = { pass: '✓', warn: '!', fail: '✗', skip: '·' };
const WORD: Record<Verdict, string> = { pass: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };
const PAINT: Record<Verdict, (s: string) => string> = { pass: c.green, warn: c.yellow, fail: c.red, skip: c.dim };

export function checkLine(r: CheckResult, terminal: boolean): string {
  const mark = terminal ? PAINT[r.verdict](GLYPH[r.verdict]) : WORD[r.verdict];
  const fix = r.fix ? ` — fix: ${r.fix}` : '';
  return `  ${mark} ${r.title}: ${r.detail}${fix}`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function presentDoctor(report: DoctorReport, terminal: boolean): string {
  const out: string[] = [];
  if (report.networks.length === 0) out.push('No networks managed by macvlanctl on this host: nothing to check.');
  for (const n of report.networks) {
    out.push(`${c.bold(n.name)}  ${n.ok ? c.green('healthy') : c.red('unhealthy')}`);
    for (const r of n.checks) out.push(checkLine(r, terminal));
    out.push('');
  }
  const k = report.counts;
  out.push(`Doctor: ${plural(k.pass, 'check passed', 'checks passed')}, ${plural(k.warn, 'warning', 'warnings')}, ${plural(k.fail, 'failure', 'failures')}, ${k.skip} skipped.`);
  return `${out.join('\n')}\n`;
}

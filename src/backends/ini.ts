/**
 * The INI dialects the managers read, line by line with positions:
 * - systemd (systemd.syntax(7)): `#` and `;` comment lines, a trailing `\`
 *   joins the next line (with a space; comment lines inside are skipped);
 * - GLib key files (NetworkManager keyfiles and NetworkManager.conf): `#`
 *   comment lines, no continuation.
 * Keys and values are trimmed. Only what detection needs; no escapes.
 */
import type { IniEntry } from '../model/manager-facts.js';

export type IniDialect = 'systemd' | 'glib';

export function parseIni(text: string, file: string, dialect: IniDialect): IniEntry[] {
  const out: IniEntry[] = [];
  const raw = text.split(/\r?\n/);
  let section = '';
  for (let i = 0; i < raw.length; i++) {
    const lineNo = i + 1;
    let line = raw[i]!.trim();
    if (line === '' || line.startsWith('#') || (dialect === 'systemd' && line.startsWith(';'))) continue;
    if (dialect === 'systemd') {
      while (line.endsWith('\\')) {
        line = line.slice(0, -1);
        // systemd skips comment lines inside a continuation.
        let next: string | undefined;
        while (i + 1 < raw.length) {
          const n = raw[++i]!.trim();
          if (n.startsWith('#') || n.startsWith(';')) continue;
          next = n;
          break;
        }
        if (next === undefined) break;
        line = `${line} ${next}`;
      }
    }
    if (line.startsWith('[')) {
      const end = line.indexOf(']');
      if (end > 0) section = line.slice(1, end).trim();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim(), file, line: lineNo });
  }
  return out;
}

/** The last value of section.key (later lines override earlier ones in key files). */
export function lastValue(entries: readonly IniEntry[], section: string, key: string): string | undefined {
  let v: string | undefined;
  for (const e of entries) if (e.section === section && e.key === key) v = e.value;
  return v;
}

/** systemd booleans (parse_boolean): 1/yes/y/true/t/on and 0/no/n/false/f/off. */
export function parseBoolean(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const s = v.toLowerCase();
  if (['1', 'yes', 'y', 'true', 't', 'on'].includes(s)) return true;
  if (['0', 'no', 'n', 'false', 'f', 'off'].includes(s)) return false;
  return undefined;
}

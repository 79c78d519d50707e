/**
 * ifupdown: /etc/network/interfaces as ifup reads it (interfaces(5),
 * ifupdown 0.8): `#` lines are comments, a trailing `\` joins lines;
 * stanzas are iface, mapping, auto, allow-*, rename, source and
 * source-directory. `source PATTERN` reads the files a shell glob names
 * (relative to the directory of the file holding the line), in sorted order;
 * `source-directory DIR` reads the files in DIR whose names are made only of
 * letters, digits, `_` and `-`. Sourced stanzas count where the source line
 * is: `ifup -a` brings interfaces up in the order of their `auto` lines.
 */
import { globMatchPath, globMatchSegment, hasGlob, normalizePath } from '../glob.js';
import { type RootReader, dirOf, joinPath } from '../root-reader.js';
import type { IfupdownEntry, ParentLink } from '../../model/manager-facts.js';

export const INTERFACES_FILE = '/etc/network/interfaces';
/** Names source-directory takes (run-parts' rule). */
const SOURCE_DIR_NAME = /^[a-zA-Z0-9_-]+$/;
const STANZAS = new Set(['iface', 'mapping', 'auto', 'rename', 'source', 'source-directory', 'source-dir', 'no-auto-down', 'no-scripts']);
const MAX_DEPTH = 16;

function isStanza(word: string): boolean {
  return STANZAS.has(word) || word.startsWith('allow-');
}

/** Logical lines (continuations joined) with the number of their first physical line. */
function logicalLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    const first = i + 1;
    let line = raw[i]!;
    if (/^\s*#/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < raw.length) line = `${line.slice(0, -1)} ${raw[++i]!}`;
    if (line.endsWith('\\')) line = line.slice(0, -1);
    const t = line.trim();
    if (t) out.push({ text: t, line: first });
  }
  return out;
}

/** The stanzas of one file, sources not yet followed. */
export function parseInterfaces(text: string, file: string): IfupdownEntry[] {
  const out: IfupdownEntry[] = [];
  let current: IfupdownEntry | undefined;
  for (const { text: l, line } of logicalLines(text)) {
    const words = l.split(/\s+/);
    const first = words[0]!;
    if (isStanza(first)) {
      const directive = first === 'source-dir' ? 'source-directory' : first;
      current = { directive, args: words.slice(1), options: [], file, line };
      out.push(current);
    } else if (current && (current.directive === 'iface' || current.directive === 'mapping')) {
      current.options.push(l);
    }
  }
  return out;
}

/** Expands an absolute glob against the root, like glob(3): sorted, only what exists. */
function expandGlob(reader: RootReader, pattern: string): string[] {
  let paths = ['/'];
  for (const seg of normalizePath(pattern).split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const dir of paths) {
      if (!hasGlob(seg)) {
        const p = joinPath(dir, seg);
        if (reader.info(p)) next.push(p);
        continue;
      }
      for (const name of reader.list(dir)) if (globMatchSegment(seg, name)) next.push(joinPath(dir, name));
    }
    paths = next;
  }
  return paths.sort();
}

/** A source line's pattern, absolute: relative paths are relative to the file holding it. */
export function sourcePattern(entry: IfupdownEntry, word: string): string {
  return normalizePath(word.startsWith('/') ? word : joinPath(dirOf(entry.file), word));
}

/** All stanzas ifup reads, starting at /etc/network/interfaces, sourced files inlined where their line is. */
export function collectInterfaces(reader: RootReader): { file?: string; entries: IfupdownEntry[]; problems: string[] } {
  const problems: string[] = [];
  const text = reader.read(INTERFACES_FILE);
  if (text === undefined) return { entries: [], problems };
  const entries: IfupdownEntry[] = [];
  const visit = (fileText: string, file: string, depth: number, chain: string[]) => {
    for (const e of parseInterfaces(fileText, file)) {
      entries.push(e);
      if (e.directive !== 'source' && e.directive !== 'source-directory') continue;
      const files: string[] = [];
      for (const word of e.args) {
        const pattern = sourcePattern(e, word);
        if (e.directive === 'source') files.push(...expandGlob(reader, pattern).filter((p) => reader.info(p)?.type !== 'dir'));
        else {
          for (const dir of expandGlob(reader, pattern)) {
            for (const name of reader.list(dir)) if (SOURCE_DIR_NAME.test(name) && reader.info(joinPath(dir, name))?.type !== 'dir') files.push(joinPath(dir, name));
          }
        }
      }
      e.included = files;
      for (const f of files) {
        if (chain.includes(f) || depth >= MAX_DEPTH) {
          problems.push(`${e.file}:${e.line}: ${f} sources itself; ifup would refuse it`);
          continue;
        }
        const t = reader.read(f);
        if (t === undefined) problems.push(`${f} (sourced at ${e.file}:${e.line}) could not be read`);
        else visit(t, f, depth + 1, [...chain, f]);
      }
    }
  };
  visit(text, INTERFACES_FILE, 0, [INTERFACES_FILE]);
  return { file: INTERFACES_FILE, entries, problems };
}

/** Whether a source or source-directory line reads the file at `path` (whether it exists yet or not). */
export function sourceIncludes(entry: IfupdownEntry, path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  for (const word of entry.args) {
    const pattern = sourcePattern(entry, word);
    if (entry.directive === 'source' && globMatchPath(pattern, path)) return true;
    if (entry.directive === 'source-directory' && SOURCE_DIR_NAME.test(name) && globMatchPath(pattern, dirOf(path))) return true;
  }
  return false;
}

/** The first line that would read `path` at boot, with its position among all entries. */
export function includingSource(entries: readonly IfupdownEntry[], path: string): { entry: IfupdownEntry; position: number } | undefined {
  const position = entries.findIndex((e) => (e.directive === 'source' || e.directive === 'source-directory') && sourceIncludes(e, path));
  return position < 0 ? undefined : { entry: entries[position]!, position };
}

export interface ParentStanzas {
  /** `iface PARENT …` stanzas. */
  ifaces: IfupdownEntry[];
  /** The first `auto`/`allow-auto` line naming the parent (what ifup -a follows), with its position. */
  auto?: { entry: IfupdownEntry; position: number };
  /** allow-hotplug and other allow- lines naming it. */
  allow: IfupdownEntry[];
}

export function parentStanzas(entries: readonly IfupdownEntry[], parent: string): ParentStanzas {
  const out: ParentStanzas = { ifaces: [], allow: [] };
  entries.forEach((e, position) => {
    if (e.directive === 'iface' && e.args[0] === parent) out.ifaces.push(e);
    else if ((e.directive === 'auto' || e.directive === 'allow-auto') && e.args.includes(parent)) out.auto ??= { entry: e, position };
    else if (e.directive.startsWith('allow-') && e.args.includes(parent)) out.allow.push(e);
  });
  return out;
}

/** Options by which ifupdown itself creates the interface (bridge-utils, ifenslave, vlan). */
const CREATES = /^(bridge[-_]ports|bond[-_]slaves|bond[-_]mode|vlan[-_]raw[-_]device)\b/;

/**
 * Whether the parent exists only once ifup brought it up (a bridge, bond or
 * VLAN it creates), so nothing that ifup runs before it can attach to it.
 */
export function ifupdownCreatesParent(stanzas: ParentStanzas, parent: ParentLink): boolean {
  if (stanzas.ifaces.some((e) => e.options.some((o) => CREATES.test(o)))) return true;
  return parent.kind === 'bridge' || parent.kind === 'bond' || parent.kind === 'vlan';
}

export function describeEntry(e: IfupdownEntry): string {
  return `${e.file}:${e.line} \`${[e.directive, ...e.args].join(' ')}\``;
}

/**
 * The problems found in one declaration file, each at its place
 * (`FILE:LINE:COL` and YAML path), collected so that a file with five mistakes
 * is reported once with all five, and thrown together as one MacvlanError.
 */
import type { LineCounter } from 'yaml';
import type { z } from 'zod';
import { MacvlanError } from '../model/errors.js';
import { issueMessages } from './file-messages.js';
import { hasOwn, isPlainMap } from './plain-map.js';
import type { Loc, Path } from './yaml-tree.js';

export interface ConfigProblem {
  /** `FILE:LINE:COL` (1-based). */
  place: string;
  /** YAML path such as `networks.lan.ipam.config[0].subnet`; empty for the file as a whole. */
  path: string;
  message: string;
}

interface Problem extends ConfigProblem {
  offset: number;
}

/** `networks.lan.ipam.config[0].subnet`; keys that are not plain words in brackets and quotes. */
function pathText(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(seg)) out += (out ? '.' : '') + seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** One file's text places, its values as read, and the problems found so far. */
export class FileContext {
  readonly problems: Problem[] = [];
  rootLoc: Loc = { pos: 0, empty: true };
  rootValue: unknown = undefined;

  constructor(
    readonly fileName: string,
    private readonly lines: LineCounter,
  ) {}

  placeOf(offset: number): string {
    const { line, col } = this.lines.linePos(offset);
    return `${this.fileName}:${line}:${col}`;
  }

  addAt(offset: number, path: Path, message: string): void {
    this.problems.push({ offset, place: this.placeOf(offset), path: pathText(path), message });
  }

  /** The node at `path`, or the nearest ancestor that exists. */
  private locAt(path: Path): { loc: Loc; exact: boolean; broken: boolean } {
    let loc = this.rootLoc;
    let broken = loc.broken === true;
    for (const seg of path) {
      const next = loc.children?.get(seg);
      if (!next) return { loc, exact: false, broken };
      loc = next;
      broken ||= loc.broken === true;
    }
    return { loc, exact: true, broken };
  }

  offsetOf(path: Path, which: 'value' | 'key' = 'value'): number {
    const { loc, exact } = this.locAt(path);
    if (!exact) return loc.pos;
    if (which === 'key' && loc.keyPos !== undefined) return loc.keyPos;
    return loc.empty && loc.keyPos !== undefined ? loc.keyPos : loc.pos;
  }

  hasProblemsUnder(path: Path): boolean {
    const prefix = pathText(path);
    return this.problems.some((p) => p.path === prefix || p.path.startsWith(`${prefix}.`) || p.path.startsWith(`${prefix}[`));
  }

  isBroken(path: Path): boolean {
    return this.locAt(path).broken;
  }

  add(path: Path, message: string, which: 'value' | 'key' = 'value'): void {
    this.addAt(this.offsetOf(path, which), path, message);
  }

  /** `FILE:LINE:COL networks.lan.subnet`, as stored in RawNetwork.origins. */
  originOf(path: Path, which: 'value' | 'key' = 'value'): string {
    return `${this.placeOf(this.offsetOf(path, which))} ${pathText(path)}`;
  }

  valueAt(path: Path): unknown {
    let v: unknown = this.rootValue;
    for (const seg of path) {
      if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
      else if (isPlainMap(v) && typeof seg === 'string' && hasOwn(v, seg)) v = v[seg];
      else return undefined;
    }
    return v;
  }

  /** Validates `value` (found at `base`) against `schema`; each zod issue becomes a problem at its place. */
  check(schema: z.ZodType, value: unknown, base: Path): boolean {
    const result = schema.safeParse(value);
    if (result.success) return true;
    for (const issue of result.error.issues) {
      for (const m of issueMessages(issue, base, schema, this)) this.add(m.path, m.message, m.which);
    }
    return false;
  }
}

/** Throws the problems as one error: one `FILE:LINE:COL PATH: what is wrong` line each, in file order. */
export function failWith(code: 'CONFIG_SYNTAX' | 'CONFIG_INVALID', fileName: string, problems: Problem[]): never {
  const sorted = [...problems].sort((a, b) => a.offset - b.offset);
  const lines = sorted.map((p) => `${p.place}${p.path ? ` ${p.path}` : ''}: ${p.message}`);
  const message = lines.length === 1 ? lines[0]! : `${fileName}: ${lines.length} problems:\n${lines.map((l) => `  ${l}`).join('\n')}`;
  throw new MacvlanError(code, message, {
    file: fileName,
    problems: sorted.map(({ place, path, message: m }) => ({ place, path, message: m })),
  });
}

/**
 * A parsed YAML document → plain values, with the place (text offset) of
 * every node kept in a parallel `Loc` tree, so that a problem found later in a
 * value can point at its text. Aliases and `<<` merge keys are resolved here;
 * what cannot be read (an alias without anchor, a loop, a key that is not
 * text) is reported through `report` and marked `broken`, so that no second
 * problem is reported at the same place.
 */
import { type Document, isAlias, isMap, isScalar, isSeq, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { defineKey, hasOwn } from './plain-map.js';

/** A YAML path: map keys and list indices from the top. */
export type Path = (string | number)[];

export interface Loc {
  /** Offset of the value's text (for aliases and merges: of the anchored text). */
  pos: number;
  /** Offset of the key, for map entries. */
  keyPos?: number;
  /** An empty value (`key:` with nothing after it). */
  empty: boolean;
  /** Already reported (an unresolved alias, a loop): no further problems here. */
  broken?: boolean;
  children?: Map<string | number, Loc>;
}

export interface Read {
  value: unknown;
  loc: Loc;
}

export type ReportProblem = (offset: number, path: Path, message: string) => void;

const MAX_ALIASES = 1000;

type AliasNode = { source: string; range?: [number, number, number] | null; resolve(doc: Document): unknown };

export class TreeReader {
  private aliases = 0;

  constructor(
    private readonly doc: Document,
    private readonly report: ReportProblem,
  ) {}

  read(node: unknown, path: Path, fallbackPos: number, stack: Set<unknown> = new Set()): Read {
    if (node === null || node === undefined) return { value: null, loc: { pos: fallbackPos, empty: true } };
    if (isAlias(node)) return this.readAlias(node, path, fallbackPos, stack);
    if (isScalar(node)) return readScalar(node, fallbackPos);
    if (isSeq(node)) return this.readSeq(node, path, fallbackPos, stack);
    if (isMap(node)) return this.readMap(node, path, fallbackPos, stack);
    this.report(fallbackPos, path, 'this YAML node is not supported here');
    return { value: undefined, loc: { pos: fallbackPos, empty: false, broken: true } };
  }

  private readAlias(node: AliasNode, path: Path, fallbackPos: number, stack: Set<unknown>): Read {
    const pos = node.range?.[0] ?? fallbackPos;
    const target = this.resolveAlias(node, path, pos, stack);
    if (!target) return { value: undefined, loc: { pos, empty: false, broken: true } };
    return this.read(target, path, pos, stack);
  }

  private readSeq(node: YAMLSeq, path: Path, fallbackPos: number, stack: Set<unknown>): Read {
    const pos = node.range?.[0] ?? fallbackPos;
    stack.add(node);
    const value: unknown[] = [];
    const children = new Map<string | number, Loc>();
    node.items.forEach((item, i) => {
      const r = this.read(item, [...path, i], pos, stack);
      value.push(r.value);
      children.set(i, r.loc);
    });
    stack.delete(node);
    return { value, loc: { pos, empty: false, children } };
  }

  private readMap(node: YAMLMap, path: Path, fallbackPos: number, stack: Set<unknown>): Read {
    const pos = node.range?.[0] ?? fallbackPos;
    stack.add(node);
    const value: Record<string, unknown> = {};
    const children = new Map<string | number, Loc>();
    const merges: { value: unknown; pos: number }[] = [];
    for (const pair of node.items) {
      const keyPos = keyOffset(pair) ?? pos;
      const k = pair.key;
      if (isScalar(k) && typeof k.value === 'symbol') {
        merges.push({ value: pair.value, pos: keyPos });
        continue;
      }
      if (!isScalar(k)) {
        this.report(keyPos, path, 'a key must be plain text, not a list, a map or an alias');
        continue;
      }
      const key = k.value === null || k.value === undefined ? '' : String(k.value);
      const r = this.read(pair.value, [...path, key], keyPos, stack);
      defineKey(value, key, r.value);
      children.set(key, { ...r.loc, keyPos });
    }
    for (const merge of merges) this.mergeInto(value, children, merge, path, stack);
    stack.delete(node);
    return { value, loc: { pos, empty: false, children } };
  }

  /** Keys written in the map win over merged ones; earlier merge sources win over later ones. */
  private mergeInto(value: Record<string, unknown>, children: Map<string | number, Loc>, merge: { value: unknown; pos: number }, path: Path, stack: Set<unknown>): void {
    for (const source of this.mergeSources(merge.value, path, merge.pos, stack)) {
      const r = this.read(source, path, merge.pos, stack);
      const merged = r.value as Record<string, unknown>;
      for (const key of Object.keys(merged)) {
        if (hasOwn(value, key)) continue;
        defineKey(value, key, merged[key]);
        const loc = r.loc.children?.get(key);
        if (loc) children.set(key, loc);
      }
    }
  }

  private resolveAlias(node: AliasNode, path: Path, pos: number, stack: Set<unknown>): unknown {
    if (++this.aliases > MAX_ALIASES) {
      if (this.aliases === MAX_ALIASES + 1) {
        this.report(pos, path, `more than ${MAX_ALIASES} aliases are used; simplify the file`);
      }
      return undefined;
    }
    const target = node.resolve(this.doc);
    if (!target) {
      this.report(pos, path, `alias *${node.source} refers to no anchor; define &${node.source} on a value before it is used`);
      return undefined;
    }
    if (stack.has(target)) {
      this.report(pos, path, `alias *${node.source} refers to a value that contains it (a loop)`);
      return undefined;
    }
    return target;
  }

  /** The maps a `<<` merge key brings in: a map, an alias of one, or a list of those. */
  private mergeSources(value: unknown, path: Path, pos: number, stack: Set<unknown>): unknown[] {
    const one = (v: unknown, at: number): unknown[] => {
      const target = isAlias(v) ? this.resolveAlias(v, path, v.range?.[0] ?? at, stack) : v;
      if (target === undefined) return [];
      if (!isMap(target)) {
        this.report(at, path, 'a << merge key takes a map or an alias of one (<<: *name), or a list of those');
        return [];
      }
      return [target];
    };
    const direct = isAlias(value) ? this.resolveAlias(value, path, value.range?.[0] ?? pos, stack) : value;
    if (direct === undefined) return [];
    if (isSeq(direct)) return direct.items.flatMap((item) => one(item, pos));
    return one(direct, pos);
  }
}

function readScalar(node: Scalar, fallbackPos: number): Read {
  const range = node.range;
  const pos = range?.[0] ?? fallbackPos;
  const empty = node.value === null && (range === undefined || range === null || range[0] === range[1]);
  return { value: node.value, loc: { pos, empty } };
}

function keyOffset(pair: Pair): number | undefined {
  const k = pair.key;
  return isScalar(k) || isAlias(k) || isMap(k) || isSeq(k) ? k.range?.[0] : undefined;
}

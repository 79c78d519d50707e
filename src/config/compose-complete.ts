/**
 * `--write-compose`: puts the values a Compose network depends on (see
 * src/plan/compose-incomplete.ts) into the Compose file itself, so that
 * `docker compose down` + `up` re-creates the same network.
 *
 * The yaml Document API finds where each value belongs (node ranges); the new
 * lines are then inserted into the original text at those places, so every
 * comment, blank line, quote and indentation of the file stays exactly as it
 * was. Keys the file already has are never changed. A flow-style map
 * (`{subnet: …}`) is refused: the lines cannot be added to it without
 * rewriting it. Pure: text in, text out.
 */
import { isMap, isScalar, isSeq, parseDocument, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { MacvlanError } from '../model/errors.js';

export interface ComposeEntryValues {
  subnet: string;
  gateway: string;
  ipRange: string;
  auxAddresses: Record<string, string>;
}

export interface ComposeNetworkValues {
  /** The network's key under `networks:`. */
  key: string;
  parent: string;
  /** Only when not bridge. */
  mode?: string;
  entries: ComposeEntryValues[];
}

interface Insertion {
  offset: number;
  text: string;
}

function refuse(fileName: string, message: string): never {
  throw new MacvlanError('CONFIG_INVALID', `${fileName}: ${message}; add the lines shown by plan by hand`, { file: fileName });
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset just after the end of the line holding `offset` (after its newline, or the end of the text). */
function afterLine(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl < 0 ? text.length : nl + 1;
}

function column(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

function pairs(map: YAMLMap): Pair[] {
  return map.items as Pair[];
}

function keyOf(p: Pair): string | undefined {
  return isScalar(p.key) ? String(p.key.value) : undefined;
}

function get(map: YAMLMap, key: string): Pair | undefined {
  return pairs(map).find((p) => keyOf(p) === key);
}

/** Where lines go at the end of a block map, and their indentation. */
function endOf(fileName: string, text: string, map: YAMLMap, what: string): { offset: number; indent: string } {
  if (map.flow) refuse(fileName, `${what} is written as a flow map ({…})`);
  const items = pairs(map);
  const first = items[0];
  const last = items[items.length - 1];
  if (!first || !last || !isScalar(first.key) || !first.key.range) refuse(fileName, `${what} is empty`);
  const lastNode = (last.value as Node | null) ?? (last.key as Node);
  const end = lastNode?.range?.[1] ?? (last.key as Node).range![1];
  return { offset: afterLine(text, Math.max(end - 1, 0)), indent: ' '.repeat(column(text, first.key.range[0])) };
}

function block(indent: string, lines: string[]): string {
  return lines.map((l) => `${indent}${l}\n`).join('');
}

function entryLines(e: ComposeEntryValues): string[] {
  const aux = Object.entries(e.auxAddresses);
  return [
    `- subnet: ${e.subnet}`,
    `  gateway: ${e.gateway}`,
    `  ip_range: ${e.ipRange}`,
    ...(aux.length ? ['  aux_addresses:', ...aux.map(([k, v]) => `    ${k}: ${v}`)] : []),
  ];
}

function subnetOf(m: YAMLMap): string | undefined {
  const p = get(m, 'subnet');
  return p && isScalar(p.value) ? String(p.value.value) : undefined;
}

/** The file's text with the missing values added; the text itself when nothing is missing. */
export function completeComposeText(fileName: string, original: string, values: ComposeNetworkValues): string {
  const text = original.endsWith('\n') || original === '' ? original : `${original}\n`;
  const doc = parseDocument(text);
  if (doc.errors.length > 0) refuse(fileName, `it does not parse as YAML (${doc.errors[0]!.message})`);
  const net = doc.getIn(['networks', values.key], true);
  if (!isMap(net)) refuse(fileName, `networks.${values.key} is not a map`);
  const adds: Insertion[] = [];
  const at = (offset: number, indent: string, lines: string[]) => adds.push({ offset, text: block(indent, lines) });
  const netEnd = () => endOf(fileName, text, net, `networks.${values.key}`);

  const opts = get(net, 'driver_opts');
  const wantOpts: [string, string][] = [['parent', values.parent], ...(values.mode ? [['macvlan_mode', values.mode] as [string, string]] : [])];
  if (!opts || !isMap(opts.value)) {
    if (opts) refuse(fileName, `networks.${values.key}.driver_opts is not a map`);
    const e = netEnd();
    at(e.offset, e.indent, ['driver_opts:', ...wantOpts.map(([k, v]) => `  ${k}: ${v}`)]);
  } else {
    const missing = wantOpts.filter(([k]) => !get(opts.value as YAMLMap, k));
    if (missing.length) {
      const e = endOf(fileName, text, opts.value as YAMLMap, `networks.${values.key}.driver_opts`);
      at(e.offset, e.indent, missing.map(([k, v]) => `${k}: ${v}`));
    }
  }

  const ipam = get(net, 'ipam');
  if (!ipam || !isMap(ipam.value)) {
    if (ipam) refuse(fileName, `networks.${values.key}.ipam is not a map`);
    const e = netEnd();
    at(e.offset, e.indent, ['ipam:', '  config:', ...values.entries.flatMap(entryLines).map((l) => `    ${l}`)]);
  } else {
    const config = get(ipam.value as YAMLMap, 'config');
    if (!config || !isSeq(config.value)) {
      if (config) refuse(fileName, `networks.${values.key}.ipam.config is not a list`);
      const e = endOf(fileName, text, ipam.value as YAMLMap, `networks.${values.key}.ipam`);
      at(e.offset, e.indent, ['config:', ...values.entries.flatMap(entryLines).map((l) => `  ${l}`)]);
    } else {
      completeEntries(fileName, text, config.value as YAMLSeq, values, at);
    }
  }
  if (adds.length === 0) return original;
  // What is now in driver_opts/ipam must not stay in x-macvlanctl too (it would be given twice).
  const removals = movedOutOfExtension(fileName, text, net, values);
  // From the end backwards, so earlier offsets stay valid. At one offset the one planned first must end
  // up first (a nested map's new lines before its parent's new keys), so it is inserted last.
  let out = text;
  const edits = [...adds.map((a, i) => ({ ...a, end: a.offset, i })), ...removals.map((r, i) => ({ offset: r.start, end: r.end, text: '', i: adds.length + i }))];
  for (const a of edits.sort((x, y) => y.offset - x.offset || y.i - x.i)) out = out.slice(0, a.offset) + a.text + out.slice(a.end);
  return out;
}

function completeEntries(
  fileName: string,
  text: string,
  seq: YAMLSeq,
  values: ComposeNetworkValues,
  at: (offset: number, indent: string, lines: string[]) => void,
): void {
  const where = `networks.${values.key}.ipam.config`;
  if (seq.flow) refuse(fileName, `${where} is written as a flow list ([…])`);
  const items = seq.items.filter(isMap) as YAMLMap[];
  const pending: ComposeEntryValues[] = [];
  for (const e of values.entries) {
    const m = items.find((i) => subnetOf(i) === e.subnet);
    if (!m) {
      pending.push(e);
      continue;
    }
    const missing: string[] = [];
    if (!get(m, 'gateway')) missing.push(`gateway: ${e.gateway}`);
    if (!get(m, 'ip_range')) missing.push(`ip_range: ${e.ipRange}`);
    const aux = get(m, 'aux_addresses');
    const wantAux = Object.entries(e.auxAddresses);
    if (!aux && wantAux.length) missing.push('aux_addresses:', ...wantAux.map(([k, v]) => `  ${k}: ${v}`));
    if (aux) {
      if (!isMap(aux.value)) refuse(fileName, `${where} aux_addresses is not a map`);
      const lack = wantAux.filter(([k]) => !get(aux.value as YAMLMap, k));
      if (lack.length) {
        const end = endOf(fileName, text, aux.value as YAMLMap, `${where} aux_addresses`);
        at(end.offset, end.indent, lack.map(([k, v]) => `${k}: ${v}`));
      }
    }
    if (missing.length) {
      const end = endOf(fileName, text, m, `${where} entry ${e.subnet}`);
      at(end.offset, end.indent, missing);
    }
  }
  if (pending.length) {
    const first = seq.items[0] as Node | undefined;
    const last = seq.items[seq.items.length - 1] as Node | undefined;
    if (!first?.range || !last?.range) refuse(fileName, `${where} is empty`);
    const dash = text.lastIndexOf('-', first.range[0]);
    at(afterLine(text, Math.max(last.range[1] - 1, 0)), ' '.repeat(column(text, dash)), pending.flatMap(entryLines));
  }
}

/** The lines of x-macvlanctl keys whose values are now written where Compose reads them. */
function movedOutOfExtension(fileName: string, text: string, net: YAMLMap, values: ComposeNetworkValues): { start: number; end: number }[] {
  const own = get(net, 'x-macvlanctl');
  if (!own || !isMap(own.value)) return [];
  const ext = own.value as YAMLMap;
  const out: { start: number; end: number }[] = [];
  const remove = (map: YAMLMap, key: string, what: string) => {
    const p = get(map, key);
    if (!p) return;
    if (map.flow) refuse(fileName, `${what} is written as a flow map ({…}) and holds ${key}, which now goes under ipam`);
    const start = lineStart(text, (p.key as Node).range![0]);
    const valueEnd = (p.value as Node | null)?.range?.[1] ?? (p.key as Node).range![1];
    out.push({ start, end: afterLine(text, Math.max(valueEnd - 1, 0)) });
  };
  const where = `networks.${values.key}.x-macvlanctl`;
  for (const key of ['parent', 'subnet', 'gateway', 'ip_range', 'host_address']) remove(ext, key, where);
  const access = get(ext, 'host_access');
  if (access && isMap(access.value)) remove(access.value as YAMLMap, 'address', `${where}.host_access`);
  return out;
}

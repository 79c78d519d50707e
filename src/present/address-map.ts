/**
 * The address map: an IPv4 subnet drawn as a grid, one cell per address,
 * rows labelled with their first address, and a legend. Pure: addresses in,
 * text out; colour is a parameter (the caller knows whether there is a
 * terminal), and every kind has its own character, so the map reads the same
 * without colour (NO_COLOR, a pipe, a log file).
 *
 * Large subnets stay compact in two steps, so the map never takes more than
 * `maxRows` rows:
 * 1. rows with nothing in them (every cell free) collapse into one line that
 *    says how many were left out; a /16 with a few dozen hosts is still drawn
 *    one cell per address;
 * 2. if that is still too many rows, cells are widened to 2, 4, 8, …
 *    addresses each (the header says so), and a wide cell shows the most
 *    important thing in it (a conflict before the gateway before … before free: CELL_PRIORITY),
 *    so a lone host in a block of free addresses is never hidden.
 */
import pc from 'picocolors';
import { type Cidr, cidrLast, cidrSize, formatValue, parseAddress, parseCidr } from '../net/address.js';
import { type Interval, normalize } from '../net/intervals.js';

export type CellKind = 'conflict' | 'gateway' | 'host' | 'shim' | 'container' | 'live' | 'offer' | 'pool' | 'docker' | 'reserved' | 'free';

/** Most important first: what a cell shows when several apply (and a wide cell holds several addresses). */
export const CELL_PRIORITY: readonly CellKind[] = ['conflict', 'gateway', 'host', 'shim', 'container', 'live', 'offer', 'docker', 'pool', 'reserved', 'free'];

export const CELL_CHAR: Record<CellKind, string> = {
  conflict: '!',
  gateway: 'G',
  host: 'H',
  shim: 'S',
  container: 'C',
  live: '#',
  offer: 'o',
  pool: '~',
  docker: '=',
  reserved: 'x',
  free: '.',
};

export const CELL_MEANING: Record<CellKind, string> = {
  conflict: 'live host or DHCP offer inside a Docker range',
  gateway: 'gateway',
  host: 'this host',
  shim: 'shim',
  container: 'container',
  live: 'live host',
  offer: 'DHCP offer',
  pool: 'DHCP pool (estimated)',
  docker: 'Docker ip-range',
  reserved: 'network/broadcast',
  free: 'free',
};

type Paint = (s: string) => string;

function painters(color: boolean): Record<CellKind, Paint> {
  const c = pc.createColors(color);
  return {
    conflict: (s) => c.bgRed(c.white(c.bold(s))),
    gateway: (s) => c.magenta(c.bold(s)),
    host: (s) => c.blue(c.bold(s)),
    shim: (s) => c.cyan(c.bold(s)),
    container: (s) => c.green(c.bold(s)),
    live: (s) => c.yellow(s),
    offer: (s) => c.red(c.bold(s)),
    pool: (s) => c.red(s),
    docker: (s) => c.green(s),
    reserved: (s) => c.dim(s),
    free: (s) => c.dim(s),
  };
}

export interface AddressMapInput {
  /** IPv4 subnet, e.g. 198.51.100.0/24. */
  subnet: string;
  gateway?: string;
  /** This host's own addresses. */
  host?: readonly string[];
  shims?: readonly string[];
  containers?: readonly string[];
  /** Hosts that answered a scan; those that are this host, a shim or a container are drawn as such. */
  live?: readonly string[];
  offers?: readonly string[];
  pools?: readonly { first: string; last: string }[];
  /** Docker ip-ranges (CIDRs) on this LAN. */
  dockerRanges?: readonly string[];
}

export interface AddressMapOptions {
  /** ANSI colours (default off: the caller decides, e.g. from picocolors.isColorSupported). */
  color?: boolean;
  /** Cells per row (default 64: with a 15-character label that is 80 columns). */
  width?: 32 | 64;
  /** At most this many grid rows (default 16). */
  maxRows?: number;
}

type Kinds = Record<CellKind, Interval[]>;

function point(text: string): Interval[] {
  try {
    const a = parseAddress(text);
    return a.family === 4 ? [{ start: a.value, end: a.value }] : [];
  } catch {
    return []; // the map draws what it can read; validation is the caller's
  }
}

function points(list: readonly string[] | undefined): Interval[] {
  return (list ?? []).flatMap(point);
}

function within(subnet: Cidr, list: Interval[]): Interval[] {
  const lo = subnet.base;
  const hi = cidrLast(subnet);
  return normalize(list.filter((iv) => iv.end >= lo && iv.start <= hi).map((iv) => ({ start: iv.start < lo ? lo : iv.start, end: iv.end > hi ? hi : iv.end })));
}

/** Sorted, merged intervals: does any overlap [a, b]? */
function overlapsAny(list: readonly Interval[], a: bigint, b: bigint): boolean {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const iv = list[mid]!;
    if (iv.end < a) lo = mid + 1;
    else if (iv.start > b) hi = mid - 1;
    else return true;
  }
  return false;
}

function minus(list: Interval[], remove: Interval[]): Interval[] {
  // Only single addresses are removed here (live hosts that are ours), so a filter suffices.
  return list.filter((iv) => !(iv.start === iv.end && overlapsAny(remove, iv.start, iv.end)));
}

export function classify(input: AddressMapInput, subnet: Cidr): Kinds {
  const host = within(subnet, points(input.host));
  const shim = within(subnet, points(input.shims));
  const container = within(subnet, points(input.containers));
  const ours = normalize([...host, ...shim, ...container]);
  const docker = within(
    subnet,
    (input.dockerRanges ?? []).flatMap((t) => {
      try {
        const c = parseCidr(t);
        return c.family === 4 ? [{ start: c.base, end: cidrLast(c) }] : [];
      } catch {
        return [];
      }
    }),
  );
  const live = minus(within(subnet, points(input.live)), ours);
  const offer = within(subnet, points(input.offers));
  // Somebody else at an address Docker may hand out: the thing to see first.
  const conflict = normalize([...live, ...offer].filter((iv) => overlapsAny(docker, iv.start, iv.end)));
  const reserved: Interval[] = subnet.prefix <= 30 ? [{ start: subnet.base, end: subnet.base }, { start: cidrLast(subnet), end: cidrLast(subnet) }] : [];
  return {
    conflict,
    gateway: within(subnet, input.gateway ? point(input.gateway) : []),
    host,
    shim,
    container,
    live,
    offer,
    pool: within(
      subnet,
      (input.pools ?? []).flatMap((p) => {
        const a = point(p.first)[0];
        const b = point(p.last)[0];
        return a && b && a.start <= b.start ? [{ start: a.start, end: b.start }] : [];
      }),
    ),
    docker,
    reserved,
    free: [],
  };
}

function cellKind(kinds: Kinds, a: bigint, b: bigint): CellKind {
  for (const k of CELL_PRIORITY) {
    if (k !== 'free' && overlapsAny(kinds[k], a, b)) return k;
  }
  return 'free';
}

/**
 * Row indexes (relative to the subnet) that hold anything but free cells, for
 * a row span of `span` addresses; stops early past `limit` (then the cells
 * must widen anyway), so a /8 full of pool costs no more than a /24.
 */
function busyRows(kinds: Kinds, base: bigint, span: bigint, limit: number): bigint[] {
  const all = normalize(CELL_PRIORITY.filter((k) => k !== 'free').flatMap((k) => kinds[k]));
  const rows: bigint[] = [];
  for (const iv of all) {
    let r = (iv.start - base) / span;
    const last = (iv.end - base) / span;
    if (rows.length && rows[rows.length - 1]! >= r) r = rows[rows.length - 1]! + 1n;
    for (; r <= last; r++) {
      rows.push(r);
      if (rows.length > limit) return rows;
    }
  }
  return rows;
}

interface Layout {
  cellSize: bigint;
  width: number;
  /** Rows to draw, in order; a gap between two of them is drawn as one "empty rows" line. */
  rows: bigint[];
  totalRows: bigint;
}

function layout(kinds: Kinds, subnet: Cidr, width: number, maxRows: number): Layout {
  const size = cidrSize(subnet);
  for (let cellSize = 1n; ; cellSize *= 2n) {
    const cells = size / cellSize < 1n ? 1n : size / cellSize;
    const w = cells < BigInt(width) ? Number(cells) : width;
    const span = cellSize * BigInt(w);
    const totalRows = (size + span - 1n) / span;
    if (totalRows <= BigInt(maxRows)) {
      const rows: bigint[] = [];
      for (let r = 0n; r < totalRows; r++) rows.push(r);
      return { cellSize, width: w, rows, totalRows };
    }
    // Rows with something in them, plus one line per run of empty rows between or around them.
    const rows = busyRows(kinds, subnet.base, span, maxRows);
    let lines = rows.length;
    let prev = -1n;
    for (const r of rows) {
      if (r > prev + 1n) lines++;
      prev = r;
    }
    if (prev < totalRows - 1n) lines++;
    if (lines <= maxRows) return { cellSize, width: w, rows, totalRows };
  }
}

function legend(used: Set<CellKind>, paint: Record<CellKind, Paint>): string[] {
  const entries = CELL_PRIORITY.filter((k) => used.has(k) || k === 'free').map((k) => `${paint[k](CELL_CHAR[k])} ${CELL_MEANING[k]}`);
  // Two lines at most, each within 80 columns.
  const lines: string[] = [];
  let line = '';
  let visible = 0;
  for (const e of entries) {
    const len = e.replace(/\x1b\[[0-9;]*m/g, '').length; // eslint-disable-line no-control-regex
    if (visible > 0 && visible + 2 + len > 78) {
      lines.push(line);
      line = '';
      visible = 0;
    }
    line += (visible > 0 ? '  ' : '') + e;
    visible += (visible > 0 ? 2 : 0) + len;
  }
  if (line) lines.push(line);
  return lines.map((l) => `  ${l}`);
}

/** Draws the map; ends with a newline. IPv6 subnets get one line saying they are not drawn. */
export function renderAddressMap(input: AddressMapInput, options: AddressMapOptions = {}): string {
  const subnet = parseCidr(input.subnet);
  if (subnet.family !== 4) return `${input.subnet}: IPv6 subnets are too large to draw as an address map\n`;
  const paint = painters(options.color === true);
  const kinds = classify(input, subnet);
  const L = layout(kinds, subnet, options.width ?? 64, options.maxRows ?? 16);
  const span = L.cellSize * BigInt(L.width);
  const labelOf = (r: bigint) => formatValue(4, subnet.base + r * span);
  const labelWidth = Math.max(...L.rows.map((r) => labelOf(r).length), 7);
  const used = new Set<CellKind>();
  const out: string[] = [];
  const per = L.cellSize === 1n ? '1 cell = 1 address' : `1 cell = ${L.cellSize} addresses (shows the most important)`;
  out.push(`${input.subnet}  ${per}, ${L.width} per row`);
  const gap = (from: bigint, to: bigint) => {
    const n = to - from;
    const first = formatValue(4, subnet.base + from * span);
    const last = formatValue(4, subnet.base + to * span - 1n);
    out.push(`${' '.repeat(labelWidth)}  ... ${n} empty row${n === 1n ? '' : 's'} (${first}-${last})`);
  };
  let next = 0n;
  for (const r of L.rows) {
    if (r > next) gap(next, r);
    let line = '';
    let run: CellKind | undefined;
    let runText = '';
    for (let i = 0; i < L.width; i++) {
      const a = subnet.base + r * span + BigInt(i) * L.cellSize;
      const k = cellKind(kinds, a, a + L.cellSize - 1n);
      used.add(k);
      if (k !== run) {
        if (run) line += paint[run](runText);
        run = k;
        runText = '';
      }
      runText += CELL_CHAR[k];
    }
    if (run) line += paint[run](runText);
    out.push(`${labelOf(r).padEnd(labelWidth)}  ${line}`);
    next = r + 1n;
  }
  if (next < L.totalRows) gap(next, L.totalRows);
  out.push(...legend(used, paint));
  return `${out.join('\n')}\n`;
}

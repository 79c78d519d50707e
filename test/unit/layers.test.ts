/**
 * The layers of src/, lowest first. A module may import from its own folder
 * and from folders below it, never from one above: so the pure planner can be
 * read (and tested) without the I/O around it, and a change in the CLI cannot
 * reach down into the model. The pure folders also import no Node module that
 * touches the outside world.
 *
 * The imports are read from the source text (static `from '…'` and dynamic
 * `import('…')`, type-only ones included: a type cycle is still a cycle).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** Lowest first. */
export const LAYERS = ['model', 'net', 'system', 'config', 'backends', 'plan', 'probe', 'gather', 'apply', 'doctor', 'present', 'lab', 'cli'] as const;

/** Folders (or single files) that must stay pure: no filesystem, processes, sockets or OS queries. */
// A backend's index.ts is pure too: its load() imports the backend's load.ts (the I/O) only when called.
const PURE = [
  'model',
  'net',
  'plan',
  'backends/backend.ts',
  'backends/registry.ts',
  'backends/render.ts',
  'backends/render-common.ts',
  'backends/rendered-file.ts',
  'backends/detect.ts',
  'backends/*/index.ts',
  'backends/*/claims.ts',
  'backends/*/render.ts',
];
const IO_MODULES = ['fs', 'fs/promises', 'child_process', 'net', 'http', 'https', 'dgram', 'os', 'dns', 'tls', 'worker_threads'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

export function importsOf(text: string): string[] {
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/^import\s+['"]([^'"]+)['"]/gm)) specs.push(m[1]!);
  return specs;
}

/** The top-level folder of a path under src/ (a file directly in src/, like version.ts, is in no layer). */
function layerOf(file: string): string | undefined {
  const parts = relative(SRC, file).split('/');
  return parts.length > 1 ? parts[0] : undefined;
}

export function layerViolations(files: readonly { path: string; text: string }[]): string[] {
  const rank = new Map<string, number>(LAYERS.map((l, i) => [l, i]));
  const out: string[] = [];
  for (const f of files) {
    const from = layerOf(f.path);
    if (from === undefined) continue;
    for (const spec of importsOf(f.text)) {
      if (!spec.startsWith('.')) continue;
      const to = layerOf(resolve(dirname(f.path), spec));
      if (to === undefined || to === from) continue;
      const a = rank.get(from);
      const b = rank.get(to);
      if (a === undefined) out.push(`${relative(SRC, f.path)}: folder ${from} is not in LAYERS`);
      else if (b === undefined) out.push(`${relative(SRC, f.path)} imports ${spec}: folder ${to} is not in LAYERS`);
      else if (b > a) out.push(`${relative(SRC, f.path)} (${from}) imports ${spec} (${to}, a higher layer)`);
    }
  }
  return out;
}

function isPure(file: string): boolean {
  const rel = relative(SRC, file);
  return PURE.some((p) => {
    if (p.endsWith('.ts')) {
      const re = new RegExp(`^${p.replace(/\./g, '\\.').replace(/\*/g, '[^/]+')}$`);
      return re.test(rel);
    }
    return rel.startsWith(`${p}/`);
  });
}

export function impurities(files: readonly { path: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    if (!isPure(f.path)) continue;
    for (const spec of importsOf(f.text)) {
      const name = spec.replace(/^node:/, '');
      if (IO_MODULES.includes(name)) out.push(`${relative(SRC, f.path)} imports ${spec}`);
    }
  }
  return out;
}

const files = sourceFiles(SRC).map((path) => ({ path, text: readFileSync(path, 'utf8') }));

describe('layers of src/', () => {
  it('every import points down the layers (or stays in its folder)', () => {
    expect(layerViolations(files)).toEqual([]);
  });

  it('the pure folders import nothing that does I/O', () => {
    expect(impurities(files)).toEqual([]);
  });

  it('every top-level folder is a layer', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => !(LAYERS as readonly string[]).includes(f))).toEqual([]);
  });

  // The checks themselves, on made-up files: they must catch what they are for.
  it('catches an upward import, a type-only one, and a dynamic one', () => {
    const fake = (rel: string, text: string) => ({ path: join(SRC, rel), text });
    expect(
      layerViolations([
        fake('plan/x.ts', "import { a } from '../gather/y.js';"),
        fake('model/x.ts', "import type { B } from '../net/address.js';"),
        fake('doctor/x.ts', "const m = await import('../cli/output.js');"),
        fake('cli/x.ts', "import { c } from '../model/errors.js';"),
      ]),
    ).toEqual([
      'plan/x.ts (plan) imports ../gather/y.js (gather, a higher layer)',
      'model/x.ts (model) imports ../net/address.js (net, a higher layer)',
      'doctor/x.ts (doctor) imports ../cli/output.js (cli, a higher layer)',
    ]);
  });

  it('catches I/O in a pure folder and in a renderer, not in gather', () => {
    const fake = (rel: string, text: string) => ({ path: join(SRC, rel), text });
    expect(
      impurities([
        fake('plan/x.ts', "import { readFileSync } from 'node:fs';"),
        fake('backends/networkd/render.ts', "import { execFile } from 'child_process';"),
        fake('gather/x.ts', "import { readFileSync } from 'node:fs';"),
      ]),
    ).toEqual(['plan/x.ts imports node:fs', 'backends/networkd/render.ts imports child_process']);
  });
});

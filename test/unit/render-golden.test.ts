/**
 * Every backend's files for every golden scenario, compared byte for byte
 * with test/golden/<scenario>/<backend>/. Each folder also holds _files.txt:
 * one "<mode> <absolute path>" line per file, so paths and modes are pinned
 * too. UPDATE_GOLDEN=1 rewrites the folders from the renderers (review the
 * diff before committing it).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPersistence } from '../../src/backends/render.js';
import { RENDER_BACKENDS, type RenderedFile } from '../../src/backends/rendered-file.js';
import { SCENARIOS, scenarioNetwork } from '../golden/scenarios.js';

const GOLDEN = join(import.meta.dirname, '..', 'golden');
const MANIFEST = '_files.txt';
const update = process.env.UPDATE_GOLDEN === '1';

function manifest(files: RenderedFile[]): string {
  return files.map((f) => `${f.mode.toString(8).padStart(4, '0')} ${f.path}\n`).join('');
}

describe.each(SCENARIOS)('golden scenario $name', (s) => {
  const network = scenarioNetwork(s);

  it.each(RENDER_BACKENDS)('%s', (backend) => {
    const files = renderPersistence(backend, network, s.context);
    expect(files.length).toBeGreaterThan(0);
    const dir = join(GOLDEN, s.name, backend);
    const names = files.map((f) => basename(f.path));
    expect(new Set(names).size, 'file names within one backend folder must be unique').toBe(names.length);

    if (update) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const f of files) writeFileSync(join(dir, basename(f.path)), f.content);
      writeFileSync(join(dir, MANIFEST), manifest(files));
    }

    expect(existsSync(dir), `${dir} is missing: run UPDATE_GOLDEN=1 npx vitest run test/unit/render-golden.test.ts`).toBe(true);
    const expected = readdirSync(dir).filter((n) => n !== MANIFEST).sort();
    expect([...names].sort()).toEqual(expected);
    expect(manifest(files)).toBe(readFileSync(join(dir, MANIFEST), 'utf8'));
    for (const f of files) {
      expect(f.content, `${s.name}/${backend}/${basename(f.path)}`).toBe(readFileSync(join(dir, basename(f.path)), 'utf8'));
    }
  });
});

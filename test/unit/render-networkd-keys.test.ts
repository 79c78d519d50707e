/**
 * Every `[Section] Key=` our networkd files use must be one the installed
 * systemd-networkd knows. networkd's parser tables are compiled in as
 * "Section.Key" strings (gperf), so they can be read from the binary without
 * running it. Debian 12 ships systemd 252; skipped where networkd is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderNetworkd } from '../../src/backends/networkd/render.js';
import { SCENARIOS, scenarioNetwork } from '../golden/scenarios.js';

const BINARY = ['/lib/systemd/systemd-networkd', '/usr/lib/systemd/systemd-networkd'].find((p) => existsSync(p));
if (!BINARY) console.warn('render-networkd-keys: SKIPPED — systemd-networkd is not installed (Debian package: systemd)');

function knownKeys(path: string): Set<string> {
  const text = readFileSync(path).toString('latin1');
  return new Set(text.match(/(?<=\0)[A-Z][A-Za-z0-9]*\.[A-Z][A-Za-z0-9]*(?=\0)/g) ?? []);
}

function usedKeys(content: string): string[] {
  let section = '';
  const out: string[] = [];
  for (const line of content.split('\n')) {
    const s = /^\[([^\]]+)\]$/.exec(line);
    if (s) section = s[1]!;
    else if (/^[A-Za-z]/.test(line)) out.push(`${section}.${line.slice(0, line.indexOf('='))}`);
  }
  return out;
}

describe.skipIf(!BINARY)(`networkd keys known to ${BINARY}`, () => {
  const known = BINARY ? knownKeys(BINARY) : new Set<string>();

  it('reads the key tables (sanity: known keys in, made-up keys out)', () => {
    expect(known.has('Network.Address')).toBe(true);
    expect(known.has('NetDev.Kind')).toBe(true);
    expect(known.has('Network.NoSuchKey')).toBe(false);
  });

  it.each(SCENARIOS)('$name', (s) => {
    const files = renderNetworkd(scenarioNetwork(s), s.context.networkd!);
    for (const f of files.filter((x) => x.path.startsWith('/etc/systemd/network/'))) {
      const keys = usedKeys(f.content);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((k) => !known.has(k)), f.path).toEqual([]);
    }
  });
});

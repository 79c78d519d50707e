/**
 * apply's record under <root>/var/lib/macvlanctl: a corrupt one is reported
 * as corrupt (where, why, what to do), never as missing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runUpDown } from '../../src/cli/commands/up-down.js';
import { MacvlanError } from '../../src/model/errors.js';
import { readState, readStateLenient, statePath } from '../../src/system/state-store.js';

describe('a corrupt record', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'macvlanctl-record-'));
    mkdirSync(join(root, 'var', 'lib', 'macvlanctl'), { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const corrupt = (text: string) => writeFileSync(statePath(root, 'mynet'), text);
  const refusal = (f: () => unknown): MacvlanError => {
    try {
      f();
    } catch (e) {
      return e as MacvlanError;
    }
    throw new Error('did not throw');
  };

  it('a missing record is undefined', () => {
    expect(readState(root, 'mynet')).toBeUndefined();
    expect(readStateLenient(root, 'mynet')).toEqual({});
  });

  it.each([
    ['cut short', '{"schemaVersion": 1, "name": "my', /not JSON/],
    ['not a record', '[1, 2]', /schemaVersion undefined, expected 1/],
    ['another network', JSON.stringify({ schemaVersion: 1, network: { name: 'other', parent: 'eno1' } }), /it names network "other"/],
    ['a shim without MAC', JSON.stringify({ schemaVersion: 1, network: { name: 'mynet', parent: 'eno1', shim: { interface: 'mynet-shim', address: '198.51.100.223' } } }), /its shim lacks/],
  ])('%s: RECORD_CORRUPT, naming the file and what to do', (_what, text, why) => {
    corrupt(text);
    const e = refusal(() => readState(root, 'mynet'));
    expect(e.code).toBe('RECORD_CORRUPT');
    expect(e.message).toContain(statePath(root, 'mynet'));
    expect(e.message).toMatch(why);
    expect(e.message).toMatch(/run macvlanctl apply for mynet again/);
    expect(readStateLenient(root, 'mynet').corrupt?.code).toBe('RECORD_CORRUPT');
  });

  it('up says the record is corrupt, not that there is none', async () => {
    corrupt('{"half');
    const e = await runUpDown('up', 'mynet', { root }).then(
      () => undefined,
      (x: unknown) => x as MacvlanError,
    );
    expect(e?.code).toBe('RECORD_CORRUPT');
    expect(e?.message).not.toMatch(/no record/);
  });
});

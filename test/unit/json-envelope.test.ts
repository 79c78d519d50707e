import { describe, expect, it } from 'vitest';
import { jsonEnvelope, jsonErrorEnvelope } from '../../src/cli/output.js';
import { MacvlanError } from '../../src/model/errors.js';
import { watchJsonLine } from '../../src/present/watch.js';

describe('the JSON documents', () => {
  it('carry schemaVersion 2 (plans with before/after and replace), the same on every document and watch line', () => {
    expect(JSON.parse(jsonEnvelope('plan', { changes: [] }))).toEqual({ schemaVersion: 2, command: 'plan', ok: true, result: { changes: [] } });
    const err = JSON.parse(jsonErrorEnvelope('apply', new MacvlanError('RANGE_CONFLICT', 'taken', { range: 'x' })));
    expect(err).toEqual({ schemaVersion: 2, command: 'apply', ok: false, error: { code: 'RANGE_CONFLICT', message: 'taken', details: { range: 'x' } } });
    const line = JSON.parse(watchJsonLine({ event: 'started', networks: [] } as never, new Date(0)));
    expect(line.schemaVersion).toBe(2);
  });
});

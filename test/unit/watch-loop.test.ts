/**
 * The watcher's pure decisions: what a network needs against the facts (the
 * same hostSideChanges as `up`), waiting for a missing parent rather than
 * failing, and the report lines.
 */
import { describe, expect, it } from 'vitest';
import { flagsToRaw } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { repairsFor } from '../../src/apply/watch.js';
import { watchJsonLine, watchLine } from '../../src/present/watch.js';
import { hostFacts } from '../support/fixture-facts.js';

const planned = () =>
  computePlan([toDesired(flagsToRaw('mynet', { parent: 'eno1', ipRange: ['198.51.100.192/27'], auxAddress: ['host=198.51.100.223'], persist: 'none' }))], hostFacts()).networks[0]!;

describe('what a watched network needs', () => {
  it('a missing shim: the same changes up would make', () => {
    const v = repairsFor(planned(), hostFacts());
    expect(v.kind).toBe('repair');
    if (v.kind === 'repair') expect(v.changes.map((c) => c.kind)).toEqual(expect.arrayContaining(['shim-link', 'shim-address', 'shim-up', 'shim-route']));
  });

  it('a missing parent is waited for, not an error', () => {
    const f = hostFacts();
    expect(repairsFor(planned(), { ...f, interfaces: f.interfaces.filter((i) => i.name !== 'eno1') })).toEqual({ kind: 'no-parent' });
  });

  it('a stranger at the shim’s name is a problem to report, never touched', () => {
    const f = hostFacts();
    const eno1 = f.interfaces.find((i) => i.name === 'eno1')!;
    const v = repairsFor(planned(), { ...f, interfaces: [...f.interfaces, { ...eno1, name: 'mynet-shim', index: 50, kind: 'veth' }] });
    expect(v.kind).toBe('problem');
    if (v.kind === 'problem') expect(v.error.code).toBe('PLAN_UNSAFE');
  });

  it('a network without host access needs nothing', () => {
    const n = { ...planned() };
    delete n.shim;
    expect(repairsFor(n, hostFacts())).toEqual({ kind: 'ok' });
  });
});

describe('report lines', () => {
  it('one human line per repair, saying what was found and what was done', () => {
    const r = { event: 'repaired' as const, network: 'mynet', found: ['link mynet-shim: mynet-shim does not exist'], done: ['create shim mynet-shim', 'route 198.51.100.192/27 via mynet-shim'], ms: 9 };
    expect(watchLine(r)).toBe('mynet: found link mynet-shim: mynet-shim does not exist → create shim mynet-shim, route 198.51.100.192/27 via mynet-shim (9 ms)\n');
    expect(JSON.parse(watchJsonLine(r, new Date('2026-12-06T04:00:00Z')))).toEqual({ schemaVersion: 2, command: 'watch', time: '2026-12-06T04:00:00.000Z', ...r });
  });

  it('a container that lost its interface, restarted or only reported', () => {
    expect(watchLine({ event: 'container-lost', network: 'mynet', container: 'web', action: 'restarted' })).toMatch(/container web had lost its interface .* restarted it/);
    expect(watchLine({ event: 'container-lost', network: 'mynet', container: 'web', action: 'reported', detail: 'its interface is gone' })).toMatch(/--no-restart-containers/);
  });
});

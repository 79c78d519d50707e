/**
 * The two neighbour-state sets (src/model/neighbour-states.ts), and that the
 * readers of `ip -json neigh` use them: a hand-set entry holds a MAC but is
 * no answer; INCOMPLETE and FAILED are neither.
 */
import { describe, expect, it } from 'vitest';
import { neighbourAnswered, neighbourHoldsMac } from '../../src/model/neighbour-states.js';
import { resolvedMac } from '../../src/gather/neighbour-table.js';
import { answeredNeighbours } from '../../src/probe/sweep.js';

const STATES: [string, boolean, boolean][] = [
  // state, answered, holds a MAC
  ['REACHABLE', true, true],
  ['STALE', true, true],
  ['DELAY', true, true],
  ['PROBE', true, true],
  ['PERMANENT', false, true],
  ['NOARP', false, true],
  ['INCOMPLETE', false, false],
  ['FAILED', false, false],
  ['NONE', false, false],
];

describe('neighbour states', () => {
  for (const [state, answered, holds] of STATES) {
    it(`${state}: ${answered ? 'answered' : 'not answered'}, ${holds ? 'holds' : 'holds no'} MAC`, () => {
      expect(neighbourAnswered([state])).toBe(answered);
      expect(neighbourHoldsMac([state])).toBe(holds);
    });
  }
  it('no state at all is neither', () => {
    expect(neighbourAnswered(undefined)).toBe(false);
    expect(neighbourHoldsMac([])).toBe(false);
  });
  it('the scan and the gateway-MAC lookup read the same set', () => {
    const entry = (state: string) => JSON.stringify([{ dst: '198.51.100.1', lladdr: '02:00:00:00:00:01', state: [state] }]);
    for (const [state, , holds] of STATES) {
      expect(resolvedMac(entry(state), '198.51.100.1') !== undefined, state).toBe(holds);
      expect(answeredNeighbours(entry(state)).length === 1, state).toBe(holds);
    }
  });
});

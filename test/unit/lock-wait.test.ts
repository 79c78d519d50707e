import { describe, expect, it } from 'vitest';
import { lockWaitMs } from '../../src/cli/lock-wait.js';
import { refusalOf } from '../support/refusal.js';

describe('--lock-wait', () => {
  it('takes seconds, 0 included, and defaults to 5', () => {
    expect(lockWaitMs(undefined)).toBe(5000);
    expect(lockWaitMs('0')).toBe(0);
    expect(lockWaitMs('2.5')).toBe(2500);
  });

  for (const bad of ['-1', 'NaN', 'soon', '', '1e9', '100000']) {
    it(`refuses '${bad}' with exit 2`, () => {
      const e = refusalOf(() => lockWaitMs(bad));
      expect(e.code).toBe('USAGE');
      expect(e.exitCode).toBe(2);
      expect(e.message).toMatch(/^--lock-wait /);
    });
  }

  it('says what a negative wait should be', () => {
    expect(refusalOf(() => lockWaitMs('-1')).message).toMatch(/^--lock-wait -1: give the seconds to wait for another macvlanctl as a number from 0 to 86400/);
  });
});

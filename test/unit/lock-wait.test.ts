import { describe, expect, it } from 'vitest';
import { lockWaitMs } from '../../src/cli/lock-wait.js';
import { runMainCaptured } from '../support/run-main.js';
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

describe('--lock-wait on every command that takes the lock', () => {
  // destroy, up and down waited a fixed 5 s, while an apply may hold the lock through a LAN scan.
  for (const cmd of [['apply', 'lan', '--parent', 'eno1'], ['destroy', 'lan'], ['up', 'lan'], ['down', 'lan']]) {
    it(`${cmd[0]} takes it, and refuses a bad one with exit 2 before anything else`, async () => {
      const { code, stdout } = await runMainCaptured([...cmd, '--lock-wait', '-1', '--json', '--root', '/nonexistent-macvlanctl-root']);
      expect(code).toBe(2);
      const doc = JSON.parse(stdout) as { error: { code: string; message: string } };
      expect(doc.error.code).toBe('USAGE');
      expect(doc.error.message).toMatch(/^--lock-wait -1: give the seconds to wait/);
    });
  }
});

import { describe, expect, it } from 'vitest';
import { AggregateMacvlanError, MacvlanError } from '../../src/model/errors.js';

describe('MacvlanError identity', () => {
  it('recognises errors made by another copy of the class (the separately bundled file reader)', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('macvlanctl.MacvlanError')]: true, code: 'CONFIG_INVALID' });
    expect(foreign instanceof MacvlanError).toBe(true);
    expect(new Error('plain') instanceof MacvlanError).toBe(false);
  });

  it('keeps the ordinary check for subclasses', () => {
    const base = new MacvlanError('USAGE', 'x');
    expect(base instanceof AggregateMacvlanError).toBe(false);
    expect(new AggregateMacvlanError('USAGE', 'y', [base]) instanceof AggregateMacvlanError).toBe(true);
    expect(new AggregateMacvlanError('USAGE', 'y', [base]) instanceof MacvlanError).toBe(true);
  });
});

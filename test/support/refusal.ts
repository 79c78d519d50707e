/**
 * The MacvlanError a planner call throws, for tests that look at how a plan
 * is refused; the test fails when it throws anything else, or nothing.
 */
import { expect } from 'vitest';
import { MacvlanError } from '../../src/model/errors.js';

export function refusalOf(run: () => unknown): MacvlanError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(MacvlanError);
    return e as MacvlanError;
  }
  throw new Error('expected the plan to be refused');
}

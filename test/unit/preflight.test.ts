/**
 * requireDocker picks its error code from the facts' `code`, never from the
 * `reason` text (which is for people, and may be reworded or carry any text).
 */
import { describe, expect, it } from 'vitest';
import { requireDocker } from '../../src/cli/preflight.js';
import { MacvlanError } from '../../src/model/errors.js';
import type { HostFacts } from '../../src/model/facts.js';

function factsWith(docker: HostFacts['docker']): HostFacts {
  return { docker } as HostFacts;
}

function codeOf(facts: HostFacts): string | undefined {
  try {
    requireDocker(facts);
  } catch (e) {
    return e instanceof MacvlanError ? e.code : 'not a MacvlanError';
  }
  return undefined;
}

describe('requireDocker', () => {
  it('NOT_PERMITTED when the engine refused us, whatever the reason says', () => {
    const facts = factsWith({ available: false, endpoint: 'unix:///run/docker.sock', reason: 'the Docker engine socket refused this user.', code: 'NOT_PERMITTED' });
    expect(codeOf(facts)).toBe('NOT_PERMITTED');
  });

  it('DOCKER_UNAVAILABLE when the engine is unreachable, even if the reason mentions a permission', () => {
    const facts = factsWith({
      available: false,
      endpoint: 'tcp://198.51.100.7:2376',
      reason: 'TLS with the Docker engine at tcp://198.51.100.7:2376 failed (open /certs/key.pem: permission denied).',
      code: 'DOCKER_UNAVAILABLE',
    });
    expect(codeOf(facts)).toBe('DOCKER_UNAVAILABLE');
  });

  it('passes when Docker is available', () => {
    expect(codeOf(factsWith({ available: true, endpoint: 'unix:///run/docker.sock', apiVersion: '1.41', engineVersion: '20.10', networks: [] }))).toBeUndefined();
  });
});

/**
 * Checks before apply and destroy touch anything: the right to change
 * interfaces, and access to the Docker engine.
 */
import type { HostFacts } from '../model/facts.js';
import { MacvlanError } from '../model/errors.js';
import { hasNetAdmin } from '../system/capabilities.js';

export function requireNetAdmin(what: string): void {
  if (!hasNetAdmin()) {
    throw new MacvlanError(
      'NOT_PERMITTED',
      `${what} needs the CAP_NET_ADMIN capability to create interfaces and routes, and this process does not have it; run it as root (sudo macvlanctl …)`,
    );
  }
}

export function requireDocker(facts: HostFacts): void {
  if (!facts.docker.available) {
    const { reason, code } = facts.docker;
    // Decided by the error's code, kept in the facts; the reason is for people and never parsed.
    const denied = code === 'NOT_PERMITTED';
    // The client's reasons are complete sentences that say what to do.
    throw new MacvlanError(denied ? 'NOT_PERMITTED' : 'DOCKER_UNAVAILABLE', `${reason} Nothing was changed.`, { endpoint: facts.docker.endpoint });
  }
}

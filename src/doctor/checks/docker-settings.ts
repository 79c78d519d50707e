/**
 * Docker's network against what it should be: the declaration with -f, else
 * apply's record. The field-by-field comparison is the planner's
 * (dockerDifferences), so doctor and plan name the same differences.
 */
import { isManagedNetwork } from '../../model/labels.js';
import { dockerDifferences } from '../../plan/docker-diff.js';
import { isComposeNetworkOf } from '../../plan/compose-network.js';
import { expectedNetwork } from '../expected.js';
import type { Check } from '../types.js';

export const dockerSettingsCheck: Check = (f) => {
  const id = 'docker-settings';
  const title = `Docker network ${f.name}`;
  const docker = f.host.docker;
  if (!docker.available) {
    return {
      id,
      title,
      verdict: 'fail',
      detail: `Docker is not reachable at ${docker.endpoint}: ${docker.reason}`,
      fix: docker.code === 'NOT_PERMITTED'
        ? 'run doctor as root (sudo), or as a member of the docker group'
        : 'start the Docker engine, or name it with --docker-host (or DOCKER_HOST)',
    };
  }
  if (f.declared && 'error' in f.declared) {
    return { id, title, verdict: 'fail', detail: `the declaration cannot be planned on this host: ${f.declared.error}`, fix: 'correct the declaration (macvlanctl plan -f FILE says the same)' };
  }
  // A Compose network (not external) is Compose's to make: `docker compose down` removed it, `up` makes it again from the file.
  const compose = (f.declared && 'network' in f.declared ? f.declared.network.compose : undefined) ?? f.record?.network.compose;
  if (!f.docker) {
    if (compose && !compose.external) {
      return {
        id,
        title,
        verdict: 'fail',
        detail: `the Docker network ${f.name} is gone (Compose project ${compose.project} removes it on down); \`docker compose up\` re-creates it from the file`,
        fix: `run docker compose up -d in the directory of project ${compose.project} (the shim left behind routes only the ip-range, so it does no harm meanwhile)`,
      };
    }
    return { id, title, verdict: 'fail', detail: `Docker has no network named ${f.name}`, fix: `create it: ${f.commands.apply}` };
  }
  const expected = expectedNetwork(f);
  if (!expected || expected.source === 'Docker labels') {
    return {
      id,
      title,
      verdict: 'warn',
      detail: `there is nothing to compare Docker's settings with: no record of apply (${f.record ? 'present' : 'missing'}) and no declaration given (-f)`,
      fix: `give the declaration: macvlanctl doctor ${f.name} -f FILE; ${f.commands.apply} also restores the record`,
    };
  }
  const diffs = dockerDifferences(f.docker, expected.network);
  if (diffs.length > 0) {
    const attached = f.docker.containers.length;
    return {
      id,
      title,
      verdict: 'fail',
      detail: `Docker's network differs from the ${expected.source}: ${diffs.join('; ')}`,
      fix:
        `${f.commands.apply} --replace re-creates it as declared` +
        (attached > 0 ? ` (stop or disconnect its ${attached} container(s) first: Docker cannot change a network in use)` : ''),
      data: { source: expected.source, differences: diffs },
    };
  }
  const s = f.status;
  const settings = `macvlan ${s.mode ?? 'bridge'} on ${s.parent ?? '?'}, ${s.subnet ?? '?'} gateway ${s.gateway ?? '?'}, range ${s.ipRange ?? '(whole subnet)'}`;
  // Compose re-created it from the file (after down and up): Compose's labels, not ours, and it stays Compose's (destroy leaves it to Compose anyway).
  if (!isManagedNetwork(f.docker.labels) && compose && isComposeNetworkOf(f.docker.labels, compose)) {
    return { id, title, verdict: 'pass', detail: `${settings}, as the ${expected.source} says (made by Compose for project ${compose.project})` };
  }
  if (!isManagedNetwork(f.docker.labels)) {
    return {
      id,
      title,
      verdict: 'warn',
      detail: `${settings} as the ${expected.source} says, but the network is not labelled as macvlanctl's, so destroy will not remove it`,
      fix: `${f.commands.apply} --replace re-creates it with the labels`,
    };
  }
  return { id, title, verdict: 'pass', detail: `${settings}, as the ${expected.source} says` };
};

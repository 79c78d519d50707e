// The `swarm:` block of macvlanctl.yaml (#13): read with each value's place, parsed into SwarmDeclaration;
// bad input is CONFIG_INVALID (exit 2) with file:line:col.
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config/load-file.js';
import { toDesired } from '../../src/config/to-desired.js';
import { slicesOf } from '../../src/plan/swarm-node.js';
import { MacvlanError } from '../../src/model/errors.js';
import { refusalOf } from '../support/refusal.js';

const FILE = (swarm: string) => `networks:
  lan:
    parent: eno1
    subnet: 198.51.100.0/24
    gateway: 198.51.100.1
    ip_range: 198.51.100.192/26
    swarm:
${swarm}`;

const desired = (text: string) => parseConfigFile('macvlanctl.yaml', text).map(toDesired);
function failure(f: () => unknown): MacvlanError {
  const e = refusalOf(f);
  expect(e.exitCode).toBe(2);
  return e;
}

describe('swarm: in macvlanctl.yaml', () => {
  it('reads nodes in order (names, {name, parent}, ~), slice and attachable', () => {
    const [d] = desired(FILE('      nodes: [h1, {name: h2, parent: enp3s0}, ~, h4]\n      slice: /29\n      attachable: true\n'));
    expect(d!.swarm).toEqual({ nodes: [{ name: 'h1' }, { name: 'h2', parent: 'enp3s0' }, null, { name: 'h4' }], slicePrefix: 29, attachable: true });
    expect(d!.origins['swarm.nodes.1']).toBe('macvlanctl.yaml:8:19 networks.lan.swarm.nodes[1]');
    const [plain] = desired(FILE('      nodes:\n        - h1\n        - h2\n'));
    expect(plain!.swarm).toEqual({ nodes: [{ name: 'h1' }, { name: 'h2' }], attachable: false });
  });

  it('points at the bad value: a node listed twice, a bad slice, a bad parent, an unknown key, a wrong type', () => {
    expect(failure(() => desired(FILE('      nodes: [h1, h2, h1]\n'))).message).toMatch(/^macvlanctl\.yaml:8:23 networks\.lan\.swarm\.nodes\[2\]: node h1 is listed twice \(also at macvlanctl\.yaml:8:15/);
    expect(failure(() => desired(FILE('      nodes: [h1]\n      slice: 28a\n'))).message).toContain("macvlanctl.yaml:9:14 networks.lan.swarm.slice: '28a' is not a block size; write it as /N");
    expect(failure(() => desired(FILE('      nodes: [{name: h1, parent: "a b"}]\n'))).message).toContain('macvlanctl.yaml:8:34 networks.lan.swarm.nodes[0].parent: interface name');
    expect(failure(() => desired(FILE('      nodes: [h1]\n      slices: /28\n'))).message).toContain("macvlanctl.yaml:9:7 networks.lan.swarm.slices: unknown key 'slices'; did you mean 'slice'?");
    expect(failure(() => desired(FILE('      nodes: h1\n'))).message).toMatch(/macvlanctl\.yaml:8:14 networks\.lan\.swarm\.nodes.*list/s);
    expect(failure(() => desired(FILE('      nodes: []\n'))).message).toContain('networks.lan.swarm.nodes: list the swarm nodes');
    expect(failure(() => desired(FILE('      nodes: [h1]\n      attachable: yes\n'))).message).toContain('write true or false');
  });

  it('a slice or a list that does not fit the range points at its place too (checked when the slices are cut)', () => {
    const [tooWide] = desired(FILE('      nodes: [h1, h2]\n      slice: /20\n'));
    expect(failure(() => slicesOf(tooWide!)).message).toBe('macvlanctl.yaml:9:14 networks.lan.swarm.slice: /20 must lie between /26 (the whole ip_range 198.51.100.192/26) and /32');
    const [crowded] = desired(FILE('      nodes: [h1, h2, h3]\n      slice: /27\n'));
    expect(failure(() => slicesOf(crowded!)).message).toMatch(/^macvlanctl\.yaml:8:14 networks\.lan\.swarm\.nodes: 3 slots do not fit/);
  });
});

describe('swarm: in a Compose file', () => {
  it('is refused, at its place: a swarm network is declared in macvlanctl.yaml', () => {
    const compose = `services:
  web:
    image: nginx
    networks: [lan]
networks:
  lan:
    driver: macvlan
    driver_opts: { parent: eno1 }
    ipam:
      config:
        - subnet: 198.51.100.0/24
          ip_range: 198.51.100.192/26
    x-macvlanctl:
      swarm:
        nodes: [h1, h2]
`;
    const e = failure(() => parseConfigFile('compose.yaml', compose).map(toDesired));
    expect(e.message).toMatch(/compose\.yaml:15:9 networks\.lan\.x-macvlanctl\.swarm: swarm: belongs in macvlanctl\.yaml, not in a Compose file/);
  });
});

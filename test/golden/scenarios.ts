/**
 * The golden scenarios of issue 4, each a PlannedNetwork made the way `plan`
 * makes it (flags → desired state → computePlan over captured fixture facts;
 * the fixture's hostId is fixed, so shim MACs are deterministic), plus the
 * render context each backend gets. The expected files live next to this
 * file: test/golden/<scenario>/<backend>/<file name>, with _files.txt
 * listing each file's mode and absolute path.
 */
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import type { PlannedNetwork } from '../../src/model/plan.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import type { RenderContext } from '../../src/backends/rendered-file.js';
import { type IpFixture, hostFacts } from '../support/fixture-facts.js';

export interface Scenario {
  name: string;
  network: string;
  flags: NetworkFlags;
  fixture: IpFixture;
  context: RenderContext;
}

const RECIPE: NetworkFlags = { parent: 'eno1', ipRange: ['198.51.100.192/27'], auxAddress: ['host=198.51.100.223'] };
const INSTALLED = { command: ['/usr/local/bin/macvlanctl'] };

export const SCENARIOS: Scenario[] = [
  {
    name: 'recipe',
    network: 'mynet',
    flags: RECIPE,
    fixture: 'fresh-host',
    context: { networkd: { parentNetworkFile: '/etc/systemd/network/10-eno1.network' }, systemd: INSTALLED },
  },
  {
    name: 'long-name',
    network: 'homeassistant-lan',
    flags: RECIPE,
    fixture: 'fresh-host',
    // Run through node from a checkout, as `npm link`-less installs do.
    context: {
      networkd: { parentNetworkFile: '/etc/systemd/network/10-eno1.network' },
      systemd: { command: ['/usr/bin/node', '/opt/macvlanctl/bin/macvlanctl'] },
    },
  },
  {
    name: 'mode-vepa',
    network: 'mynet',
    flags: { ...RECIPE, mode: 'vepa' },
    fixture: 'fresh-host',
    context: { networkd: { parentNetworkFile: '/etc/systemd/network/10-eno1.network' }, systemd: INSTALLED },
  },
  {
    name: 'ipv6',
    network: 'mynet',
    flags: { ...RECIPE, subnet: ['2001:db8:1::/64'] },
    fixture: 'fresh-host',
    // A netplan host: the parent's .network is generated under /run; the drop-in still goes to /etc.
    context: { networkd: { parentNetworkFile: '/run/systemd/network/10-netplan-eno1.network' }, systemd: INSTALLED },
  },
  {
    name: 'bridge-parent',
    network: 'lan',
    flags: { parent: 'br-lan', subnet: ['198.51.100.0/24'], gateway: ['198.51.100.1'], ipRange: ['198.51.100.64/27'] },
    fixture: 'lab-host',
    context: { networkd: { parentNetworkFile: '/etc/systemd/network/20-br-lan.network' }, systemd: INSTALLED },
  },
  {
    // A VLAN parent that does not exist yet: Docker creates eno1.10 with the network; at boot each backend brings it up before the shim.
    // The networkd context is the base link's .network (detection asks the manager of eno1).
    name: 'vlan-parent',
    network: 'iot',
    flags: { parent: 'eno1.10', subnet: ['203.0.113.0/24'], gateway: ['203.0.113.1'], ipRange: ['203.0.113.64/27'] },
    fixture: 'fresh-host',
    context: { networkd: { parentNetworkFile: '/etc/systemd/network/10-eno1.network' }, systemd: INSTALLED },
  },
];

export function scenarioNetwork(s: Scenario): PlannedNetwork {
  const plan = computePlan([toDesired(flagsToRaw(s.network, s.flags))], hostFacts(s.fixture));
  return plan.networks[0]!;
}

export function scenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`no golden scenario ${name}`);
  return s;
}

/**
 * Issue #11: apply works from the plan alone, and `--show-commands` is printed
 * from the very operations apply runs, so no step can be missing from it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Operation, planOperations } from '../../src/apply/operations.js';
import { type Ports, runOperations } from '../../src/apply/run-operations.js';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { gatherManagerFacts } from '../../src/gather/persist-facts.js';
import type { HostFacts } from '../../src/model/facts.js';
import type { ManagerFacts } from '../../src/model/manager-facts.js';
import type { Plan } from '../../src/model/plan.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { commandLines, operationCommands } from '../../src/present/commands.js';
import { docker, hostFacts, mynetWithOtherSettings } from '../support/fixture-facts.js';

const RECIPE: NetworkFlags = { parent: 'eno1', ipRange: ['198.51.100.192/27'], auxAddress: ['host=198.51.100.223'] };
const DUAL: NetworkFlags = { parent: 'eno1', ipRange: ['198.51.100.192/27', '2001:db8:1::c000/116'], subnet: ['2001:db8:1::/64'], persist: 'none' };

let managers: ManagerFacts;
beforeAll(async () => {
  const empty = mkdtempSync(join(tmpdir(), 'mvl-ops-root-'));
  managers = await gatherManagerFacts(empty, { live: false });
  rmSync(empty, { recursive: true });
});

const plan = (flags: NetworkFlags, facts: HostFacts = hostFacts(), replace = false) => computePlan([toDesired(flagsToRaw('mynet', flags))], facts, { replace });

const existing = mynetWithOtherSettings();

/** What of an operation its command line must name, so a step cannot hide behind another's line. */
function essence(op: Operation): string {
  switch (op.kind) {
    case 'ip':
      return `ip ${op.line}`;
    case 'sysctl':
      return `${op.key}=${op.value}`;
    case 'docker-disconnect':
      return `disconnect -f ${op.network} ${op.container.name}`;
    case 'docker-create':
    case 'docker-remove':
      return `${op.kind === 'docker-create' ? 'create' : 'rm'}`;
    case 'state-write':
      return op.network.name;
    case 'state-remove':
      return op.network;
    case 'file-write':
    case 'file-link':
    case 'file-remove':
      return op.path;
    case 'persist-load':
      return op.backend;
  }
}

const plans: [string, () => Plan][] = [
  ['the recipe on a fresh host', () => plan(RECIPE)],
  ['dual stack (accept_ra, nodad, proxy NDP)', () => plan(DUAL)],
  ['IPv4 only without host access', () => plan({ ...RECIPE, auxAddress: [], hostAccess: false })],
  ['the systemd unit persisted (files, enable link, load)', () => plan({ ...RECIPE, persist: 'systemd' }, hostFacts('fresh-host', { persistence: { managed: [], selfCommand: ['/usr/bin/macvlanctl'], managers, evidence: 'e0' } }))],
  ['a replace (--replace)', () => plan(RECIPE, hostFacts('fresh-host', { docker: docker([existing]) }), true)],
  // the lab host's shim carries a MAC the kernel chose: re-created, and moved to a new range (stale address and route off)
  ['a drifted shim moved to a new range', () => plan({ parent: 'eno1', ipRange: ['198.51.100.160/27'], auxAddress: ['host=198.51.100.191'] }, hostFacts('lab-host', { docker: docker([]), appliedShimMacs: { mynet: '02:42:c6:33:64:99' } }))],
];

describe('--show-commands is printed from apply’s operations', () => {
  for (const [what, make] of plans) {
    it(`every operation appears: ${what}`, () => {
      const ops = planOperations(make());
      expect(ops.length).toBeGreaterThan(0);
      const lines = commandLines(ops);
      for (const op of ops) {
        const own = operationCommands(op);
        expect(own.length, op.title).toBeGreaterThan(0);
        expect(own.join('\n'), op.title).toContain(essence(op));
      }
      expect(lines).toEqual(ops.flatMap(operationCommands));
    });
  }

  it('shows the sysctls apply sets, and nodad on an IPv6 address (they were missing)', () => {
    const lines = commandLines(planOperations(plan(DUAL)));
    expect(lines).toEqual(expect.arrayContaining(['sysctl -w net.ipv4.conf.mynet-shim.arp_notify=1', 'sysctl -w net.ipv6.conf.mynet-shim.accept_ra=0']));
    expect(lines.some((l) => /^ip addr add 2001:db8:1::\S+\/128 dev mynet-shim nodad$/.test(l))).toBe(true);
    expect(commandLines(planOperations(plan({ ...RECIPE, persist: 'none' })))).toContain('sysctl -w net.ipv6.conf.mynet-shim.disable_ipv6=1');
  });

  it('shows docker network rm only where apply removes: a refused plan has no operations, only its refusal', () => {
    const refused = plan(RECIPE, hostFacts('fresh-host', { docker: docker([existing]) }));
    expect(() => planOperations(refused)).toThrow(/left alone; pass --replace/);
    const replaced = commandLines(planOperations(plan(RECIPE, hostFacts('fresh-host', { docker: docker([existing]) }), true)));
    expect(replaced.slice(0, 2).map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual(['docker network rm', 'docker network create']);
  });
});

describe('planOperations reads the plan alone', () => {
  it('takes no facts or options, and a plan that went through JSON (plan --json) gives the same operations', () => {
    expect(planOperations.length).toBe(1);
    for (const [, make] of plans) {
      const p = make();
      expect(planOperations(JSON.parse(JSON.stringify(p)) as Plan)).toEqual(planOperations(p));
    }
  });
});

describe('runOperations', () => {
  it('logs a failed sysctl as a warning, never with a check mark', async () => {
    const log: string[] = [];
    const ports = {
      ip: {
        sysctl: () => {
          throw new Error('EACCES');
        },
      },
      log: (l: string) => void log.push(l),
    } as unknown as Ports;
    const report = await runOperations([{ kind: 'sysctl', title: 'no IPv6 on x', family: 'ipv6', iface: 'x', key: 'disable_ipv6', value: '1' }], ports);
    expect(log).toEqual(['warning: no IPv6 on x: EACCES']);
    expect(report.done).toEqual([]);
  });
});

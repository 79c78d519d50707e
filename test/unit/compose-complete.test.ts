/**
 * --write-compose's edit (src/config/compose-complete.ts): golden input → output
 * pairs. Only lines are added; comments, order, quoting and indentation of the
 * file stay as they were, and the result plans without COMPOSE_FILE_INCOMPLETE.
 */
import { describe, expect, it } from 'vitest';
import { completeComposeText } from '../../src/config/compose-complete.js';
import { parseConfigFile } from '../../src/config/load-file.js';
import { toDesired } from '../../src/config/to-desired.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { hostFacts } from '../support/fixture-facts.js';
import { refusalOf } from '../support/refusal.js';

const V4 = { subnet: '198.51.100.0/24', gateway: '198.51.100.1', ipRange: '198.51.100.192/27', auxAddresses: { host: '198.51.100.223' } };

describe('completeComposeText', () => {
  it('adds a carved ip_range and the shim’s aux address into the entry, keeping comments and quotes, and moves x-macvlanctl’s ip_range out', () => {
    const before = [
      '# my stack',
      'services:',
      '  dns: {image: busybox, networks: [lan]}',
      'networks:',
      '  lan:',
      '    driver: macvlan   # on the LAN',
      '    driver_opts:',
      '      parent: "eno1"',
      '    ipam:',
      '      config:',
      '        - subnet: 198.51.100.0/24   # the LAN',
      '          gateway: 198.51.100.1',
      '    x-macvlanctl:',
      '      ip_range: auto/27',
      '',
    ].join('\n');
    const after = completeComposeText('compose.yaml', before, { key: 'lan', parent: 'eno1', entries: [V4] });
    expect(after).toBe(
      [
        '# my stack',
        'services:',
        '  dns: {image: busybox, networks: [lan]}',
        'networks:',
        '  lan:',
        '    driver: macvlan   # on the LAN',
        '    driver_opts:',
        '      parent: "eno1"',
        '    ipam:',
        '      config:',
        '        - subnet: 198.51.100.0/24   # the LAN',
        '          gateway: 198.51.100.1',
        '          ip_range: 198.51.100.192/27',
        '          aux_addresses:',
        '            host: 198.51.100.223',
        '    x-macvlanctl:', // its ip_range now lives in ipam: kept there only, or it would be given twice
        '',
      ].join('\n'),
    );
    const p = computePlan(parseConfigFile('compose.yaml', after, { directory: '/srv/x' }).map(toDesired), hostFacts());
    expect(p.warnings.map((w) => w.code)).not.toContain('COMPOSE_FILE_INCOMPLETE');
    expect(p.networks[0]).toMatchObject({ ipRange: '198.51.100.192/27', shim: { address: '198.51.100.223' } });
  });

  it('adds host into an existing aux_addresses map, and a missing key of the entry after it', () => {
    const before = ['networks:', '  lan:', '    driver: macvlan', '    driver_opts: {parent: eno1}', '    ipam:', '      config:', '        - subnet: 198.51.100.0/24', '          gateway: 198.51.100.1', '          aux_addresses:', '            nas: 198.51.100.20', ''].join('\n');
    const after = completeComposeText('c.yml', before, { key: 'lan', parent: 'eno1', entries: [{ ...V4, auxAddresses: { host: '198.51.100.223', nas: '198.51.100.20' } }] });
    expect(after).toBe(
      ['networks:', '  lan:', '    driver: macvlan', '    driver_opts: {parent: eno1}', '    ipam:', '      config:', '        - subnet: 198.51.100.0/24', '          gateway: 198.51.100.1', '          aux_addresses:', '            nas: 198.51.100.20', '            host: 198.51.100.223', '          ip_range: 198.51.100.192/27', ''].join('\n'),
    );
  });

  it('writes the whole ipam block and driver_opts when the file has none', () => {
    const before = ['networks:', '  lan:', '    driver: macvlan', 'services:', '  a: {image: busybox}', ''].join('\n');
    const after = completeComposeText('c.yml', before, { key: 'lan', parent: 'eno1', entries: [V4] });
    expect(after).toBe(
      [
        'networks:',
        '  lan:',
        '    driver: macvlan',
        '    driver_opts:',
        '      parent: eno1',
        '    ipam:',
        '      config:',
        '        - subnet: 198.51.100.0/24',
        '          gateway: 198.51.100.1',
        '          ip_range: 198.51.100.192/27',
        '          aux_addresses:',
        '            host: 198.51.100.223',
        'services:',
        '  a: {image: busybox}',
        '',
      ].join('\n'),
    );
  });

  it('changes nothing when the file says everything, and refuses a flow-style entry', () => {
    const full = ['networks:', '  lan:', '    driver: macvlan', '    driver_opts:', '      parent: eno1', '    ipam:', '      config:', '        - subnet: 198.51.100.0/24', '          gateway: 198.51.100.1', '          ip_range: 198.51.100.192/27', '          aux_addresses:', '            host: 198.51.100.223'].join('\n');
    expect(completeComposeText('c.yml', full, { key: 'lan', parent: 'eno1', entries: [V4] })).toBe(full);
    const flow = ['networks:', '  lan:', '    driver: macvlan', '    driver_opts: {parent: eno1}', '    ipam:', '      config:', '        - {subnet: 198.51.100.0/24}', ''].join('\n');
    const e = refusalOf(() => completeComposeText('c.yml', flow, { key: 'lan', parent: 'eno1', entries: [V4] }));
    expect(e.message).toMatch(/^c\.yml: networks\.lan\.ipam\.config entry 198\.51\.100\.0\/24 is written as a flow map/);
  });
});

describe('lineDiff (the diff --write-compose shows)', () => {
  it('marks added and removed lines, with context', async () => {
    const { lineDiff } = await import('../../src/present/line-diff.js');
    expect(lineDiff('a\nb\nc\nd\ne\nf\ng', 'a\nb\nc\nX\nd\ne\nf\ng')).toEqual(['  b', '  c', '+ X', '  d', '  e', '  …']);
    expect(lineDiff('a\nb\nc', 'a\nc')).toEqual(['  a', '- b', '  c']);
  });
});

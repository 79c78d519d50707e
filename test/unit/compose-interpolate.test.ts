/**
 * Compose interpolation (src/config/compose-interpolate.ts), checked against
 * the forms compose-go's template package documents, and end to end through a
 * Compose file with a .env beside it.
 */
import { describe, expect, it } from 'vitest';
import { InterpolationError, interpolate } from '../../src/config/compose-interpolate.js';
import { parseConfigFile } from '../../src/config/load-file.js';
import { refusalOf } from '../support/refusal.js';

const vars: Record<string, string> = { PARENT: 'eno1', EMPTY: '', NET: '198.51.100' };
const lookup = (n: string) => vars[n];

describe('interpolate', () => {
  it.each([
    ['${PARENT}', 'eno1'],
    ['$PARENT', 'eno1'],
    ['${NET}.0/24', '198.51.100.0/24'],
    ['$NET.0/24', '198.51.100.0/24'],
    ['${MISSING:-eth0}', 'eth0'],
    ['${EMPTY:-eth0}', 'eth0'],
    ['${EMPTY-eth0}', ''],
    ['${MISSING-eth0}', 'eth0'],
    ['${PARENT:?set PARENT}', 'eno1'],
    ['${PARENT:+on}', 'on'],
    ['${EMPTY:+on}', ''],
    ['${EMPTY+on}', 'on'],
    ['${MISSING:-${NET}.1}', '198.51.100.1'],
    ['cost $$5 and $${PARENT}', 'cost $5 and ${PARENT}'],
    ['no variables', 'no variables'],
  ])('%s → %s', (text, want) => {
    expect(interpolate(text, lookup)).toBe(want);
  });

  it.each([
    ['${MISSING}', /variable MISSING is not set and has no default/],
    ['$MISSING', /variable MISSING is not set and has no default/],
    ['${EMPTY:?the LAN interface}', /variable EMPTY is required \(and must not be empty\): the LAN interface/],
    ['${MISSING?say it}', /variable MISSING is required: say it/],
    ['${PARENT', /opens \$\{ without a closing \}/],
    ['${1X}', /not a valid variable reference/],
    ['${PARENT:=x}', /is not understood/],
    ['5$', /a lone '\$'/],
  ])('%s is refused', (text, message) => {
    expect(() => interpolate(text, lookup)).toThrow(InterpolationError);
    expect(() => interpolate(text, lookup)).toThrow(message);
  });
});

describe('a Compose file with variables', () => {
  const text = [
    'name: ${STACK:-media}',
    'networks:',
    '  lan:',
    '    driver: macvlan',
    '    driver_opts: {parent: "${PARENT:-eth0}"}',
    '    ipam:',
    '      config:',
    '        - subnet: ${NET}.0/24',
    '          ip_range: ${NET}.192/27',
    '',
  ].join('\n');

  it('takes values from the environment first, then the .env file, then the defaults', () => {
    const [n] = parseConfigFile('compose.yaml', text, { directory: '/srv/x', env: { PARENT: 'eno2' }, dotEnv: { NET: '203.0.113', PARENT: 'eno9' } });
    expect(n).toMatchObject({ name: 'media_lan', parent: 'eno2', subnet: '203.0.113.0/24', ipRange: '203.0.113.192/27' });
    expect(n!.origins.subnet).toBe('compose.yaml:8:19 networks.lan.ipam.config[0].subnet');
    expect(n!.compose!.driverOpts).toEqual({ parent: 'eno2' });
  });

  it('a variable named like an Object method (constructor) is unset, not a function (the real process.env)', () => {
    const [n] = parseConfigFile('compose.yaml', text.replace('${PARENT:-eth0}', '${constructor:-eth0}'), { directory: '/srv/x', env: process.env, dotEnv: { NET: '203.0.113' } });
    expect(n).toMatchObject({ parent: 'eth0' });
  });

  it('names each missing variable and its place (exit 2)', () => {
    const e = refusalOf(() => parseConfigFile('compose.yaml', text, { directory: '/srv/x' }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain("compose.yaml:8:19 networks.lan.ipam.config[0].subnet: '${NET}.0/24': variable NET is not set");
    expect(e.message).toContain("compose.yaml:9:21 networks.lan.ipam.config[0].ip_range: '${NET}.192/27': variable NET is not set");
  });
});

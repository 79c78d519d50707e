/**
 * Issue #14 item 11: names printed visibly, deep YAML refused with its place.
 */
import { describe, expect, it } from 'vitest';
import { flagsToRaw } from '../../src/config/flags.js';
import { parseConfigFile } from '../../src/config/load-file.js';
import { escapeInvisible, shownName, terminalSafe } from '../../src/config/shown-name.js';
import { toDesired } from '../../src/config/to-desired.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { hostFacts } from '../support/fixture-facts.js';
import { refusalOf } from '../support/refusal.js';

describe('control characters in names are shown, not obeyed', () => {
  it('escapes \\r, escape sequences and bidi overrides', () => {
    expect(shownName('lan\rEVIL')).toBe("'lan\\rEVIL'");
    expect(escapeInvisible('s\x1b[31m')).toBe('s\\e[31m');
    expect(escapeInvisible('l\u202ean\u0000')).toBe('l\\u{202e}an\\x00');
    expect(escapeInvisible('plain-name_1.0')).toBe('plain-name_1.0');
  });

  it('keeps line breaks of multi-problem messages', () => {
    expect(terminalSafe('a:\n  - b\r\n  - c\x07')).toBe('a:\n  - b\\r\n  - c\\x07');
  });

  it('a network, parent or shim name with a \\r is refused with the \\r visible', () => {
    expect(refusalOf(() => toDesired(flagsToRaw('lan\rEVIL', { parent: 'eno1' }))).message).toMatch(/network name 'lan\\rEVIL' is not valid/);
    expect(refusalOf(() => toDesired(flagsToRaw('lan', { parent: 'eno1\r' }))).message).toMatch(/--parent: interface name 'eno1\\r' is not valid/);
    expect(refusalOf(() => toDesired(flagsToRaw('lan', { parent: 'eno1', shim: 's\x1b[2K' }))).message).toMatch(/--shim: interface name 's\\e\[2K' is not valid/);
    const e = refusalOf(() => toDesired(flagsToRaw('l\rx', { parent: 'eno1', mode: 'x\r' })));
    expect(e.message).not.toMatch(/[\r\x1b]/);
    expect(e.message).toMatch(/^network l\\rx: 2 problems/);
  });

  it('a parent that does not exist is named visibly', () => {
    const e = refusalOf(() => computePlan([toDesired(flagsToRaw('lan', { parent: 'eno9' }))], hostFacts()));
    expect(e.message).toMatch(/interface 'eno9' does not exist on this host\. Did you mean 'eno1'\?/);
  });
});

describe('deeply nested YAML', () => {
  it('flow brackets: CONFIG_INVALID at the place, no stack overflow', () => {
    const text = `networks:\n  lan: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    const e = refusalOf(() => parseConfigFile('deep.yaml', text));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^deep\.yaml:2:\d+: the YAML nests more than 64 levels deep here/);
    expect(e.message).not.toMatch(/call stack/);
  });

  it('block indentation: the same, with the line of the first level too deep', () => {
    let text = 'networks:\n';
    for (let i = 1; i <= 3000; i++) text += `${'  '.repeat(i)}k:\n`;
    const e = refusalOf(() => parseConfigFile('deep.yaml', text));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/^deep\.yaml:65:\d+: the YAML nests more than 64 levels deep/);
  });

  it('an ordinary Compose file is well within the bound', () => {
    const text = 'networks:\n  lan:\n    driver: macvlan\n    driver_opts: {parent: eno1}\n    ipam:\n      config:\n        - subnet: 198.51.100.0/24\n';
    expect(parseConfigFile('compose.yaml', text)[0]!.name).toMatch(/_lan$/); // Compose's <project>_<key>
  });
});

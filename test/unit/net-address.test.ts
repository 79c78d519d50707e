import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { normalizeCidr } from 'cidr-tools';
import ipaddr from 'ipaddr.js';
import {
  BITS,
  cidrContains,
  cidrLast,
  cidrSize,
  formatAddress,
  formatCidr,
  formatValue,
  hostMask,
  looksLikeFamily,
  networkOf,
  parseAddress,
  parseCidr,
  parseInterfaceAddress,
  sameAddress,
} from '../../src/net/address.js';
import { MacvlanError } from '../../src/model/errors.js';

/** Run `fn`, expect a MacvlanError with code ADDRESS_INVALID, and hand it back for more checks. */
function addressError(fn: () => unknown): MacvlanError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error to be thrown').toBeInstanceOf(MacvlanError);
  const err = caught as MacvlanError;
  expect(err.code).toBe('ADDRESS_INVALID');
  expect(err.exitCode).toBe(2);
  return err;
}

/** Independent RFC 5952 formatter, the oracle for formatValue(6, …). */
function rfc5952(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':'); // 4.2.2: never "::" for a single zero group
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

describe('parseAddress: good input', () => {
  it.each([
    ['198.51.100.7', 0xc6336407n],
    ['0.0.0.0', 0n],
    ['255.255.255.255', 0xffffffffn],
    ['10.0.0.1', 0x0a000001n],
    ['  203.0.113.9 ', 0xcb007109n],
  ])('IPv4 %s', (text, value) => {
    const a = parseAddress(text);
    expect(a).toEqual({ family: 4, value });
    expect(formatAddress(a)).toBe(text.trim());
  });

  it.each([
    // input, canonical RFC 5952 form
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8::A', '2001:db8::a'], // lower case (4.3)
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // no leading zeros (4.1), :: (4.2.1)
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // equal runs: the first one (4.2.3)
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run (4.2.3)
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single 0 group is not shortened (4.2.2)
    ['::1:2:3:4:5:6:7', '0:1:2:3:4:5:6:7'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::', '::'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['64:ff9b::198.51.100.7', '64:ff9b::c633:6407'], // embedded IPv4, strict
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ])('IPv6 %s -> %s', (text, canonical) => {
    const a = parseAddress(text);
    expect(a.family).toBe(6);
    expect(formatAddress(a)).toBe(canonical);
    // canonical form round-trips to the same value and text
    expect(parseAddress(canonical)).toEqual(a);
    expect(formatAddress(parseAddress(canonical))).toBe(canonical);
  });

  it('reads IPv4-compatible ::a.b.c.d as ::a.b.c.d, not as IPv4-mapped ::ffff:a.b.c.d', () => {
    expect(parseAddress('::1.2.3.4').value).toBe(0x01020304n);
    expect(parseAddress('::ffff:1.2.3.4').value).toBe(0xffff01020304n);
  });

  it('IPv4 values round-trip through format and parse', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (value) => {
        const text = formatValue(4, value);
        expect(parseAddress(text)).toEqual({ family: 4, value });
        expect(normalizeCidr(text)).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('IPv6 values round-trip and format as RFC 5952', () => {
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    const value = fc.array(group, { minLength: 8, maxLength: 8 }).map((gs) => gs.reduce((v, g) => (v << 16n) | BigInt(g), 0n));
    fc.assert(
      fc.property(value, (v) => {
        const text = formatValue(6, v);
        expect(text).toBe(rfc5952(v));
        expect(parseAddress(text)).toEqual({ family: 6, value: v });
        // the uncompressed, upper-case, zero-padded spelling parses to the same value
        const long = Array.from({ length: 8 }, (_, i) => ((v >> BigInt((7 - i) * 16)) & 0xffffn).toString(16).padStart(4, '0'))
          .join(':')
          .toUpperCase();
        expect(parseAddress(long).value).toBe(v);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseAddress: bad input', () => {
  it.each([
    // input, what the message must say
    ['', /empty/],
    ['abc', /'abc' is not a valid IPv4 address: it needs four dot-separated numbers, it has 1/],
    ['10.1', /'10.1' is not a valid IPv4 address: it needs four dot-separated numbers, it has 2/],
    ['1.2.3.4.5', /four dot-separated numbers, it has 5/],
    ['1.2.3.4.', /four dot-separated numbers, it has 5/],
    ['.300', /'\.300' is not a valid IPv4 address: it needs four dot-separated numbers, it has 2/],
    ['198.51.100.300', /'198\.51\.100\.300' is not a valid IPv4 address: 300 is more than 255/],
    ['256.0.0.0', /256 is more than 255/],
    ['01.2.3.4', /'01' is not a number from 0 to 255 \(no leading zeros\)/],
    ['1.2.3.04', /'04' is not a number from 0 to 255 \(no leading zeros\)/],
    ['0x0a.1.2.3', /'0x0a' is not a number from 0 to 255/],
    ['1..3.4', /'' is not a number from 0 to 255/],
    ['-1.2.3.4', /'-1' is not a number/],
    ['1e2.2.3.4', /'1e2' is not a number/],
    ['1.2.3.1000', /'1000' is not a number/],
  ])('IPv4 %j', (text, message) => {
    const err = addressError(() => parseAddress(text));
    expect(err.message).toMatch(message);
    expect(err.details).toEqual({ value: text });
  });

  it.each([
    [':::1', /':::1' is not a valid IPv6 address/],
    ['1::2::3', /not a valid IPv6 address/],
    ['12345::', /not a valid IPv6 address/],
    ['g::1', /not a valid IPv6 address/],
    [':1::', /not a valid IPv6 address/],
    ['::1:', /not a valid IPv6 address/],
    ['1:2:3:4:5:6:7:8:9', /not a valid IPv6 address/],
    ['1:2:3:4:5:6:7', /not a valid IPv6 address/],
    ['[::1]', /not a valid IPv6 address/],
    ['::1/64', /not a valid IPv6 address/],
    ['fe80::1%eth0', /'fe80::1%eth0' is not a valid IPv6 address: zone indexes \(%eth0\) are not allowed/],
    ['fe80::1%2', /zone indexes/],
    // embedded IPv4 follows the strict IPv4 rules (ipaddr.js alone reads 010 as octal 8)
    ['::ffff:010.1.1.1', /embedded IPv4 part: '010' is not a number from 0 to 255 \(no leading zeros\)/],
    ['::ffff:0x0a.1.2.3', /embedded IPv4 part: '0x0a' is not a number/],
    ['::ffff:10.1', /embedded IPv4 part: it needs four dot-separated numbers, it has 2/],
    ['::ffff:1.2.3.256', /embedded IPv4 part: 256 is more than 255/],
    ['1:2:3:4:5:6:7:1.2.3.4', /not a valid IPv6 address/],
    ['1.2.3.4::', /not a valid IPv6 address/],
  ])('IPv6 %j', (text, message) => {
    const err = addressError(() => parseAddress(text));
    expect(err.message).toMatch(message);
    expect(err.details['value']).toBe(text);
  });

  it('puts the label in front of the message and into details.field', () => {
    const err = addressError(() => parseAddress('10.1', 'networks.lan.gateway'));
    expect(err.message).toMatch(/^networks\.lan\.gateway: '10\.1' is not a valid IPv4 address/);
    expect(err.details).toEqual({ value: '10.1', field: 'networks.lan.gateway' });
  });
});

describe('parseCidr', () => {
  it.each([
    ['198.51.100.0/24', 4, 0xc6336400n, 24],
    ['0.0.0.0/0', 4, 0n, 0],
    ['203.0.113.7/32', 4, 0xcb007107n, 32],
    ['10.0.0.0/8', 4, 0x0a000000n, 8],
    ['2001:db8::/32', 6, 0x20010db8n << 96n, 32],
    ['2001:DB8:0:0::/64', 6, 0x20010db8n << 96n, 64],
    ['::/0', 6, 0n, 0],
    ['2001:db8::1/128', 6, (0x20010db8n << 96n) | 1n, 128],
  ])('%s', (text, family, base, prefix) => {
    const c = parseCidr(text);
    expect(c).toEqual({ family, base, prefix });
    expect(parseCidr(formatCidr(c))).toEqual(c);
  });

  it('formats canonically', () => {
    expect(formatCidr(parseCidr('2001:0DB8:0000::/48'))).toBe('2001:db8::/48');
    expect(formatCidr(parseCidr(' 198.51.100.0/24 '))).toBe('198.51.100.0/24');
  });

  it.each([
    ['198.51.100.0/33', /'198\.51\.100\.0\/33' is not a valid CIDR: prefix length \/33 is longer than the 32 bits of an IPv4 address/],
    ['2001:db8::/129', /'2001:db8::\/129' is not a valid CIDR: prefix length \/129 is longer than the 128 bits of an IPv6 address/],
    ['10.1/8', /'10\.1' is not a valid IPv4 address: it needs four dot-separated numbers, it has 2/],
    ['198.51.100.300/24', /300 is more than 255/],
    ['198.51.100.0', /'198\.51\.100\.0' is not a valid CIDR: it needs a prefix length, as in 198\.51\.100\.0\/24/],
    ['2001:db8::', /is not a valid CIDR: it needs a prefix length/],
    ['', /empty|prefix length/],
    ['198.51.100.0/', /prefix length '\/' is not a number/],
    ['198.51.100.0/x', /prefix length '\/x' is not a number/],
    ['198.51.100.0/-1', /prefix length '\/-1' is not a number/],
    ['198.51.100.0/24/8', /prefix length '\/24\/8' is not a number/],
    ['198.51.100.0/1000', /prefix length '\/1000' is not a number/],
    ['fe80::%eth0/64', /zone indexes/],
    [':::1/64', /not a valid IPv6 address/],
  ])('rejects %j', (text, message) => {
    const err = addressError(() => parseCidr(text));
    expect(err.message).toMatch(message);
  });

  it('rejects host bits and suggests the network address', () => {
    const err = addressError(() => parseCidr('198.51.100.5/24'));
    expect(err.message).toMatch(/'198\.51\.100\.5\/24' has host bits set/);
    expect(err.message).toContain('198.51.100.0/24');
    expect(err.details).toEqual({ value: '198.51.100.5/24', suggestion: '198.51.100.0/24' });
  });

  it('suggests the network address for IPv6 too, with the label', () => {
    const err = addressError(() => parseCidr('2001:db8::1/64', 'networks.lan.subnet'));
    expect(err.message).toMatch(/^networks\.lan\.subnet: '2001:db8::1\/64' has host bits set/);
    expect(err.details).toEqual({ value: '2001:db8::1/64', suggestion: '2001:db8::/64', field: 'networks.lan.subnet' });
  });

  it('the suggestion is always a valid CIDR holding the address', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.constant(4 as const), fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.integer({ min: 0, max: 32 })),
          fc.tuple(fc.constant(6 as const), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 128 })),
        ),
        ([family, value, prefix]) => {
          const text = `${formatValue(family, value)}/${prefix}`;
          if ((value & hostMask(family, prefix)) === 0n) {
            expect(parseCidr(text)).toEqual({ family, base: value, prefix });
            return;
          }
          const err = addressError(() => parseCidr(text));
          const suggestion = parseCidr(String(err.details['suggestion']));
          expect(suggestion.prefix).toBe(prefix);
          expect(cidrContains(suggestion, { family, value })).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('parseInterfaceAddress and helpers', () => {
  it('keeps host bits and gives the network', () => {
    const a = parseInterfaceAddress('198.51.100.24/24');
    expect(a).toEqual({ address: { family: 4, value: 0xc6336418n }, prefix: 24 });
    expect(formatCidr(networkOf(a))).toBe('198.51.100.0/24');
    const b = parseInterfaceAddress('2001:db8::5:1/64');
    expect(formatAddress(b.address)).toBe('2001:db8::5:1');
    expect(formatCidr(networkOf(b))).toBe('2001:db8::/64');
  });

  it.each([
    ['198.51.100.24', /'198\.51\.100\.24' is not a valid address with prefix length/],
    ['198.51.100.24/33', /prefix length \/33 is longer than the 32 bits/],
    ['2001:db8::1/129', /prefix length \/129 is longer than the 128 bits/],
    ['10.1/8', /it needs four dot-separated numbers, it has 2/],
    ['fe80::1%eth0/64', /zone indexes/],
  ])('rejects %j', (text, message) => {
    expect(addressError(() => parseInterfaceAddress(text)).message).toMatch(message);
  });

  it('cidrContains, cidrLast, cidrSize, sameAddress, looksLikeFamily', () => {
    const net = parseCidr('198.51.100.0/24');
    expect(cidrSize(net)).toBe(256n);
    expect(formatValue(4, cidrLast(net))).toBe('198.51.100.255');
    expect(cidrContains(net, parseAddress('198.51.100.0'))).toBe(true);
    expect(cidrContains(net, parseAddress('198.51.100.255'))).toBe(true);
    expect(cidrContains(net, parseAddress('198.51.101.0'))).toBe(false);
    expect(cidrContains(net, parseAddress('198.51.99.255'))).toBe(false);
    expect(cidrContains(net, 0xc6336480n)).toBe(true);
    // same value, other family: not contained
    expect(cidrContains(net, { family: 6, value: 0xc6336401n })).toBe(false);
    expect(cidrSize(parseCidr('::/0'))).toBe(1n << 128n);
    expect(cidrLast(parseCidr('::/0'))).toBe((1n << 128n) - 1n);
    expect(cidrSize(parseCidr('0.0.0.0/0'))).toBe(1n << 32n);
    expect(sameAddress(parseAddress('2001:db8::1'), parseAddress('2001:DB8:0::1'))).toBe(true);
    expect(sameAddress(parseAddress('::1.2.3.4'), parseAddress('1.2.3.4'))).toBe(false);
    expect(looksLikeFamily('2001:db8::')).toBe(6);
    expect(looksLikeFamily('198.51.100.0')).toBe(4);
    expect(BITS).toEqual({ 4: 32, 6: 128 });
  });
});

describe('our IPv6 parser and RFC 5952 formatter, held to ipaddr.js', () => {
  const value128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
  // Values with runs of zero groups, where '::' placement matters.
  const sparse = fc.array(fc.constantFrom(0, 0, 0, 1, 0xabcd, 0xffff), { minLength: 8, maxLength: 8 }).map((gs) => gs.reduce((v, g) => (v << 16n) | BigInt(g), 0n));
  const bytes = (v: bigint) => Array.from({ length: 16 }, (_, i) => Number((v >> BigInt((15 - i) * 8)) & 255n));

  it('formats every value as ipaddr.js does, and parses its own text back', () => {
    fc.assert(
      fc.property(fc.oneof(value128, sparse), (v) => {
        const text = formatValue(6, v);
        expect(text).toBe(ipaddr.fromByteArray(bytes(v)).toString());
        expect(parseAddress(text).value).toBe(v);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts exactly the hex forms ipaddr.js accepts (any case, leading zeros, any :: placement), with the same value', () => {
    const group = fc.oneof(fc.constantFrom('0', '00', '0000', 'ffff', 'FFFF', 'aBc', '1', ''), fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFg'), minLength: 1, maxLength: 5 }));
    const candidate = fc.array(group, { minLength: 1, maxLength: 10 }).chain((gs) => fc.constantFrom(gs.join(':'), gs.join('::'), `::${gs.join(':')}`, `${gs.join(':')}::`, `${gs.slice(0, 2).join(':')}::${gs.slice(2).join(':')}`));
    fc.assert(
      fc.property(candidate, (text) => {
        const theirs = ipaddr.IPv6.isValid(text) && !text.includes('.');
        let ours: bigint | undefined;
        try {
          ours = parseAddress(text).value;
        } catch {
          ours = undefined;
        }
        expect(ours !== undefined, text).toBe(theirs);
        if (ours !== undefined) expect(ours).toBe(BigInt(`0x${ipaddr.IPv6.parse(text).toByteArray().map((b) => b.toString(16).padStart(2, '0')).join('')}`));
      }),
      { numRuns: 3000 },
    );
  });
});

/**
 * Our SHA-256 and SHA-1 (src/net/digest.ts) against node:crypto: the shim's
 * MAC and the keyfile's UUID depend on them being exactly the standard ones.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex, sha1, sha256 } from '../../src/net/digest.js';

const node = (algorithm: 'sha256' | 'sha1', data: Uint8Array | string) => createHash(algorithm).update(data).digest('hex');

describe('digests', () => {
  it('match the FIPS 180 examples', () => {
    expect(hex(sha256('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(sha256(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(sha1('abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(hex(sha1('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe('84983e441c3bd26ebaae4aa1f95129e5e54670f1');
  });

  it('match node:crypto for any bytes, across the 55/56/64-byte padding edges, and for UTF-8 text', () => {
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      expect(hex(sha256(bytes))).toBe(node('sha256', bytes));
      expect(hex(sha1(bytes))).toBe(node('sha1', bytes));
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => hex(sha256(bytes)) === node('sha256', bytes) && hex(sha1(bytes)) === node('sha1', bytes)),
    );
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (text) => hex(sha256(text)) === node('sha256', text) && hex(sha1(text)) === node('sha1', text)));
  });
});

/**
 * The DHCP codec: round trips (fast-check), the real dnsmasq OFFER captured by
 * test/fixtures/dhcp/capture-offer.sh, overload and split options, and
 * malformed input.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BOOTREPLY,
  type DhcpMessage,
  DhcpFormatError,
  FLAG_BROADCAST,
  HEADER_LENGTH,
  MessageType,
  Option,
  decodeDhcpMessage,
  encodeDhcpMessage,
  encodeDiscover,
  tryDecodeDhcpMessage,
} from '../../src/probe/dhcp-packet.js';

const offerBytes = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'dhcp', 'dnsmasq-offer.bin'));

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const hw = fc.uint8Array({ minLength: 1, maxLength: 16 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));
const text = (max: number) => fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: max });
// Options the decoder reads out must have their RFC 2132 shapes; any other code carries any bytes.
const TYPED = new Set<number>([Option.SUBNET_MASK, Option.ROUTERS, Option.DNS, Option.LEASE_TIME, Option.MESSAGE_TYPE, Option.SERVER_ID]);
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
const typedOption = fc.oneof(
  fc.record({ code: fc.constantFrom(Option.SUBNET_MASK, Option.LEASE_TIME, Option.SERVER_ID), data: bytes(4, 4) }),
  fc.record({ code: fc.constant<number>(Option.MESSAGE_TYPE), data: bytes(1, 1) }),
  fc.record({ code: fc.constantFrom(Option.ROUTERS, Option.DNS), data: fc.integer({ min: 1, max: 100 }).chain((n) => bytes(4 * n, 4 * n)) }),
);
// Distinct codes (PAD, END and OVERLOAD are framing, not data); values up to 600 bytes so that RFC 3396 splitting is exercised.
const freeOption = fc.record({
  code: fc.integer({ min: 1, max: 254 }).filter((c) => c !== Option.OVERLOAD && !TYPED.has(c)),
  data: bytes(0, 600),
});
const options = fc.uniqueArray(fc.oneof(typedOption, freeOption), { selector: (o) => o.code, maxLength: 8 });
const message: fc.Arbitrary<DhcpMessage> = hw.chain((chaddr) =>
  fc.record({
    op: fc.constantFrom(1, 2),
    htype: fc.nat(255),
    hlen: fc.constant(chaddr.split(':').length),
    hops: fc.nat(255),
    xid: fc.nat(0xffffffff),
    secs: fc.nat(0xffff),
    flags: fc.nat(0xffff),
    ciaddr: ipv4,
    yiaddr: ipv4,
    siaddr: ipv4,
    giaddr: ipv4,
    chaddr: fc.constant(chaddr),
    sname: text(63),
    file: text(127),
    options,
  }),
);

describe('round trip', () => {
  it('decode(encode(m)) is m, for any message without overload', () => {
    fc.assert(
      fc.property(message, (m) => {
        const decoded = decodeDhcpMessage(encodeDhcpMessage(m));
        const { messageType, serverId, leaseSeconds, subnetMask, routers, dns, clientId, ...wire } = decoded;
        void [messageType, serverId, leaseSeconds, subnetMask, routers, dns, clientId];
        expect(wire).toEqual(m);
      }),
      { numRuns: 300 },
    );
  });

  it('encode(decode(b)) is b for what the encoder writes (one canonical form)', () => {
    fc.assert(
      fc.property(message, (m) => {
        const b = encodeDhcpMessage(m);
        expect(encodeDhcpMessage(decodeDhcpMessage(b)).equals(b)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('a value over 255 bytes goes out as several options of the same code and comes back whole', () => {
    const long = Buffer.alloc(600, 7);
    const b = encodeDhcpMessage({ ...baseMessage(), options: [{ code: 224, data: long }] });
    // 224,255,… 224,255,… 224,90,… END
    expect([b[HEADER_LENGTH], b[HEADER_LENGTH + 1], b[HEADER_LENGTH + 257], b[HEADER_LENGTH + 258], b[HEADER_LENGTH + 514], b[HEADER_LENGTH + 515]]).toEqual([224, 255, 224, 255, 224, 90]);
    expect(decodeDhcpMessage(b).options).toEqual([{ code: 224, data: long }]);
  });
});

function baseMessage(): DhcpMessage {
  return {
    op: BOOTREPLY,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 1,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '198.51.100.150',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: '02:00:00:00:00:01',
    sname: '',
    file: '',
    options: [],
  };
}

describe('DISCOVER', () => {
  it('carries the xid, client MAC, broadcast flag, message type, client id and parameter request list', () => {
    const b = encodeDiscover({ xid: 0x5ca9f00d, clientMac: '02:5C:A9:00:00:01', broadcast: true });
    expect(b.length).toBe(300);
    const d = decodeDhcpMessage(b);
    expect(d).toMatchObject({ op: 1, htype: 1, hlen: 6, xid: 0x5ca9f00d, flags: FLAG_BROADCAST, chaddr: '02:5c:a9:00:00:01', yiaddr: '0.0.0.0', messageType: MessageType.DISCOVER });
    expect(d.clientId).toEqual(Buffer.from([1, 0x02, 0x5c, 0xa9, 0, 0, 1]));
    expect([...d.options.find((o) => o.code === Option.PARAMETER_REQUEST_LIST)!.data]).toEqual([1, 3, 6, 51, 54]);
    expect(decodeDhcpMessage(encodeDiscover({ xid: 1, clientMac: '02:00:00:00:00:02', broadcast: false })).flags).toBe(0);
  });

  it('is never a REQUEST: no requested address, no server identifier', () => {
    const d = decodeDhcpMessage(encodeDiscover({ xid: 9, clientMac: '02:00:00:00:00:03', broadcast: true }));
    expect(d.options.map((o) => o.code).sort((a, b) => a - b)).toEqual([Option.MESSAGE_TYPE, Option.PARAMETER_REQUEST_LIST, Option.CLIENT_ID].sort((a, b) => a - b));
  });

  it('refuses a MAC that is not 6 bytes', () => {
    expect(() => encodeDiscover({ xid: 1, clientMac: '02:00:00', broadcast: true })).toThrow(RangeError);
    expect(() => encodeDiscover({ xid: 1, clientMac: 'zz:00:00:00:00:00', broadcast: true })).toThrow(RangeError);
  });
});

describe('the OFFER of a real dnsmasq 2.90 (pool .100–.199, router and DNS .1, 12 h)', () => {
  const d = decodeDhcpMessage(offerBytes);

  it('answers our DISCOVER: same xid and chaddr, broadcast, an address in the pool', () => {
    expect(d).toMatchObject({ op: BOOTREPLY, xid: 0x5ca9f00d, chaddr: '02:5c:a9:00:00:01', flags: FLAG_BROADCAST, messageType: MessageType.OFFER });
    const last = Number(d.yiaddr.split('.')[3]);
    expect(d.yiaddr.startsWith('198.51.100.')).toBe(true);
    expect(last).toBeGreaterThanOrEqual(100);
    expect(last).toBeLessThanOrEqual(199);
  });

  it('reads server id, lease, mask, router and DNS', () => {
    expect(d).toMatchObject({ serverId: '198.51.100.1', leaseSeconds: 12 * 3600, subnetMask: '255.255.255.0', routers: ['198.51.100.1'], dns: ['198.51.100.1'] });
    // dnsmasq also sends T1/T2 (58/59) and the broadcast address (28).
    expect(d.options.map((o) => o.code)).toEqual(expect.arrayContaining([58, 59, 28]));
  });

  it('re-encodes to a message that decodes the same', () => {
    const again = decodeDhcpMessage(encodeDhcpMessage(d));
    expect(again).toEqual(d);
  });
});

describe('overload (option 52) and padding', () => {
  it('reads options from the file and sname fields in the order options, file, sname', () => {
    const b = encodeDhcpMessage({ ...baseMessage(), options: [{ code: Option.MESSAGE_TYPE, data: Buffer.from([2]) }] });
    // Replace END by OVERLOAD=3 then END, put the server id in 'file' and a second router part in 'sname'.
    b.set([Option.OVERLOAD, 1, 3, Option.END], HEADER_LENGTH + 3);
    b.set([Option.SERVER_ID, 4, 198, 51, 100, 9, Option.ROUTERS, 4, 198, 51, 100, 1, Option.END], 108);
    b.set([Option.PAD, Option.PAD, Option.ROUTERS, 4, 198, 51, 100, 2, Option.END], 44);
    const d = decodeDhcpMessage(b);
    expect(d.serverId).toBe('198.51.100.9');
    expect(d.routers).toEqual(['198.51.100.1', '198.51.100.2']);
    expect(d.sname).toBe('');
    expect(d.file).toBe('');
    expect(d.options.map((o) => o.code)).toEqual([Option.MESSAGE_TYPE, Option.SERVER_ID, Option.ROUTERS]);
  });

  it('without overload, file and sname are text', () => {
    const b = encodeDhcpMessage({ ...baseMessage(), sname: 'router', file: 'pxelinux.0' });
    expect(decodeDhcpMessage(b)).toMatchObject({ sname: 'router', file: 'pxelinux.0' });
  });

  it('skips PAD anywhere and tolerates a missing END', () => {
    const b = Buffer.concat([offerBytes.subarray(0, HEADER_LENGTH), Buffer.from([0, 0, Option.MESSAGE_TYPE, 1, 2, 0, Option.SERVER_ID, 4, 198, 51, 100, 1])]);
    expect(decodeDhcpMessage(b)).toMatchObject({ messageType: 2, serverId: '198.51.100.1' });
  });
});

describe('malformed input', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /shorter than the 240/],
    ['a header cut short', offerBytes.subarray(0, 200), /shorter than the 240/],
    ['op 3', Buffer.concat([Buffer.from([3]), offerBytes.subarray(1)]), /op 3/],
    ['no magic cookie (plain BOOTP)', withBytes(offerBytes, 236, [0, 0, 0, 0]), /magic cookie/],
    ['hlen 17', withBytes(offerBytes, 2, [17]), /hlen 17/],
    ['an option running past the end', Buffer.concat([offerBytes.subarray(0, HEADER_LENGTH), Buffer.from([Option.MESSAGE_TYPE, 9, 2])]), /claims 9 bytes but only 1 remain/],
    ['an option without its length byte', Buffer.concat([offerBytes.subarray(0, HEADER_LENGTH), Buffer.from([Option.MESSAGE_TYPE])]), /no length byte/],
    ['a message type of 2 bytes', Buffer.concat([offerBytes.subarray(0, HEADER_LENGTH), Buffer.from([Option.MESSAGE_TYPE, 2, 2, 2, Option.END])]), /option 53/],
    ['a server id of 3 bytes', Buffer.concat([offerBytes.subarray(0, HEADER_LENGTH), Buffer.from([Option.SERVER_ID, 3, 1, 2, 3, Option.END])]), /option 54/],
    ['routers of 6 bytes', Buffer.concat([offerBytes.subarray(0, HEADER_LENGTH), Buffer.from([Option.ROUTERS, 6, 1, 2, 3, 4, 5, 6, Option.END])]), /option 3/],
    ['overload 4', Buffer.concat([offerBytes.subarray(0, HEADER_LENGTH), Buffer.from([Option.OVERLOAD, 1, 4, Option.END])]), /overload/],
  ];
  for (const [what, bytes, why] of cases) {
    it(`${what}: a DhcpFormatError that says so; the probe's decoder returns undefined`, () => {
      expect(() => decodeDhcpMessage(bytes)).toThrow(DhcpFormatError);
      expect(() => decodeDhcpMessage(bytes)).toThrow(why);
      expect(tryDecodeDhcpMessage(bytes)).toBeUndefined();
    });
  }

  it('the probe decoder never throws on random bytes, nor on random corruptions of a real OFFER', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (a) => {
        tryDecodeDhcpMessage(Buffer.from(a));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(offerBytes.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }), fc.nat(offerBytes.length), (edits, cut) => {
        const b = Buffer.from(offerBytes.subarray(0, Math.max(cut, 1)));
        for (const [at, v] of edits) if (at < b.length) b[at] = v;
        tryDecodeDhcpMessage(b);
      }),
      { numRuns: 500 },
    );
  });
});

function withBytes(b: Buffer, at: number, bytes: number[]): Buffer {
  const c = Buffer.from(b);
  c.set(bytes, at);
  return c;
}

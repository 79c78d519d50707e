/**
 * BOOTP/DHCP messages on Buffer (RFC 2131 message format, RFC 2132 options,
 * RFC 3396 long options). Pure: no sockets here.
 *
 * `macvlanctl scan` only ever builds DHCPDISCOVERs and reads what comes back;
 * it never builds a DHCPREQUEST, so it never takes a lease. The decoder is
 * strict (a malformed message is an error that says what is wrong) and the
 * probe uses `tryDecodeDhcpMessage`, which turns any garbage from the network
 * into `undefined` instead of an exception.
 */

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
/** The "magic cookie" that starts the options field (RFC 2131 §3). */
export const DHCP_MAGIC = 0x63825363;
/** The BROADCAST bit of `flags`: "answer me by broadcast, I have no address yet". */
export const FLAG_BROADCAST = 0x8000;
/** Fixed BOOTP header (236 bytes) plus the magic cookie. */
export const HEADER_LENGTH = 240;
/** Pad what we send to the BOOTP minimum of 300 bytes: some servers and relays drop shorter messages. */
const MIN_MESSAGE = 300;

export const MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

export const Option = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTERS: 3,
  DNS: 6,
  REQUESTED_ADDRESS: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  CLIENT_ID: 61,
  END: 255,
} as const;

export interface DhcpOption {
  code: number;
  data: Buffer;
}

/** One message, as on the wire. */
export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The client hardware address: `hlen` bytes as lower-case colon-separated hex (a MAC for Ethernet). */
  chaddr: string;
  /** Server host name; empty when unset or when the field carries options (overload). */
  sname: string;
  /** Boot file name; empty when unset or when the field carries options (overload). */
  file: string;
  /**
   * Options in order of first appearance, each code once: split options
   * (RFC 3396) are joined; PAD, END and OVERLOAD are not listed (the decoder
   * follows OVERLOAD into the file and sname fields).
   */
  options: DhcpOption[];
}

/** A decoded message with the well-known options read out. */
export interface DecodedDhcpMessage extends DhcpMessage {
  messageType?: number;
  serverId?: string;
  leaseSeconds?: number;
  subnetMask?: string;
  routers?: string[];
  dns?: string[];
  clientId?: Buffer;
}

export class DhcpFormatError extends Error {
  constructor(message: string) {
    super(`malformed DHCP message: ${message}`);
    this.name = 'DhcpFormatError';
  }
}

// ---------------------------------------------------------------- helpers

function ipv4ToBytes(text: string, field: string): number[] {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) {
    throw new RangeError(`${field}: '${text}' is not an IPv4 address`);
  }
  return parts.map(Number);
}

function ipv4At(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

function ipv4List(data: Buffer, what: string): string[] {
  if (data.length === 0 || data.length % 4 !== 0) throw new DhcpFormatError(`option ${what} has length ${data.length}, not a non-zero multiple of 4`);
  const out: string[] = [];
  for (let i = 0; i < data.length; i += 4) out.push(ipv4At(data, i));
  return out;
}

/** 'aa:bb:…' (1 to 16 bytes) → bytes. */
export function macToBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length > 16 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new RangeError(`'${mac}' is not a hardware address (colon-separated hex bytes, at most 16)`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function bytesToMac(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** A NUL-terminated text field (sname, file). */
function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString('latin1');
}

// ---------------------------------------------------------------- encode

/** The options as bytes: values over 255 bytes are split into several options of the same code (RFC 3396), then END. */
function encodeOptions(options: readonly DhcpOption[]): Buffer {
  const chunks: Buffer[] = [];
  for (const o of options) {
    if (!Number.isInteger(o.code) || o.code <= Option.PAD || o.code >= Option.END) throw new RangeError(`option code ${o.code} cannot carry data`);
    if (o.code === Option.OVERLOAD) throw new RangeError('option 52 (overload) is not written by this encoder');
    let rest = o.data;
    do {
      const part = rest.subarray(0, 255);
      chunks.push(Buffer.from([o.code, part.length]), part);
      rest = rest.subarray(part.length);
    } while (rest.length > 0);
  }
  chunks.push(Buffer.from([Option.END]));
  return Buffer.concat(chunks);
}

/** A message on the wire. All options go into the options field (no overload); the result is at least 300 bytes. */
export function encodeDhcpMessage(m: DhcpMessage): Buffer {
  const chaddr = macToBytes(m.chaddr);
  if (chaddr.length !== m.hlen) throw new RangeError(`chaddr has ${chaddr.length} bytes but hlen is ${m.hlen}`);
  const sname = Buffer.from(m.sname, 'latin1');
  const file = Buffer.from(m.file, 'latin1');
  if (sname.length > 63 || sname.includes(0)) throw new RangeError('sname must be at most 63 bytes without NUL');
  if (file.length > 127 || file.includes(0)) throw new RangeError('file must be at most 127 bytes without NUL');
  for (const [v, name, max] of [
    [m.op, 'op', 0xff],
    [m.htype, 'htype', 0xff],
    [m.hops, 'hops', 0xff],
    [m.secs, 'secs', 0xffff],
    [m.flags, 'flags', 0xffff],
    [m.xid, 'xid', 0xffffffff],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${name} ${v} is out of range 0..${max}`);
  }
  const options = encodeOptions(m.options);
  const buf = Buffer.alloc(Math.max(MIN_MESSAGE, HEADER_LENGTH + options.length));
  buf[0] = m.op;
  buf[1] = m.htype;
  buf[2] = m.hlen;
  buf[3] = m.hops;
  buf.writeUInt32BE(m.xid, 4);
  buf.writeUInt16BE(m.secs, 8);
  buf.writeUInt16BE(m.flags, 10);
  Buffer.from(ipv4ToBytes(m.ciaddr, 'ciaddr')).copy(buf, 12);
  Buffer.from(ipv4ToBytes(m.yiaddr, 'yiaddr')).copy(buf, 16);
  Buffer.from(ipv4ToBytes(m.siaddr, 'siaddr')).copy(buf, 20);
  Buffer.from(ipv4ToBytes(m.giaddr, 'giaddr')).copy(buf, 24);
  chaddr.copy(buf, 28);
  sname.copy(buf, 44);
  file.copy(buf, 108);
  buf.writeUInt32BE(DHCP_MAGIC, 236);
  options.copy(buf, HEADER_LENGTH); // the rest stays zero: PAD
  return buf;
}

export interface DiscoverSpec {
  xid: number;
  /** The client's MAC (the scan uses random locally administered ones). */
  clientMac: string;
  /** Ask the server to broadcast its answer: the probe has no address to be answered at. */
  broadcast: boolean;
  secs?: number;
}

/** The options every DISCOVER of the scan asks for: mask, router, DNS, lease time, server id. */
export const SCAN_PARAMETER_REQUEST = [Option.SUBNET_MASK, Option.ROUTERS, Option.DNS, Option.LEASE_TIME, Option.SERVER_ID] as const;

export function encodeDiscover(spec: DiscoverSpec): Buffer {
  const mac = macToBytes(spec.clientMac);
  if (mac.length !== 6) throw new RangeError(`client MAC '${spec.clientMac}' must have 6 bytes`);
  return encodeDhcpMessage({
    op: BOOTREQUEST,
    htype: 1, // Ethernet
    hlen: 6,
    hops: 0,
    xid: spec.xid,
    secs: spec.secs ?? 0,
    flags: spec.broadcast ? FLAG_BROADCAST : 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: bytesToMac(mac),
    sname: '',
    file: '',
    options: [
      { code: Option.MESSAGE_TYPE, data: Buffer.from([MessageType.DISCOVER]) },
      // RFC 2132 §9.14: type 1 (Ethernet) followed by the hardware address.
      { code: Option.CLIENT_ID, data: Buffer.concat([Buffer.from([1]), mac]) },
      { code: Option.PARAMETER_REQUEST_LIST, data: Buffer.from(SCAN_PARAMETER_REQUEST) },
    ],
  });
}

// ---------------------------------------------------------------- decode

/**
 * Reads one options area into `into` (joining repeated codes, RFC 3396).
 * Returns the overload value when option 52 was present.
 */
function readOptions(buf: Buffer, where: string, into: Map<number, Buffer[]>, order: number[]): number | undefined {
  let overload: number | undefined;
  let i = 0;
  while (i < buf.length) {
    const code = buf[i]!;
    if (code === Option.PAD) {
      i += 1;
      continue;
    }
    if (code === Option.END) return overload;
    if (i + 1 >= buf.length) throw new DhcpFormatError(`option ${code} in the ${where} has no length byte`);
    const len = buf[i + 1]!;
    const start = i + 2;
    if (start + len > buf.length) throw new DhcpFormatError(`option ${code} in the ${where} claims ${len} bytes but only ${buf.length - start} remain`);
    const data = buf.subarray(start, start + len);
    if (code === Option.OVERLOAD) {
      if (len !== 1 || data[0]! < 1 || data[0]! > 3) throw new DhcpFormatError('option 52 (overload) must be one byte of 1, 2 or 3');
      overload = data[0]!;
    } else {
      const parts = into.get(code);
      if (parts) parts.push(data);
      else {
        into.set(code, [data]);
        order.push(code);
      }
    }
    i = start + len;
  }
  // No END before the area ran out: tolerated (some servers trim it, and the
  // file/sname areas end with their field); every option read was complete.
  return overload;
}

/** Decodes a message; throws DhcpFormatError saying what is wrong when it is not a well-formed DHCP message. */
export function decodeDhcpMessage(buf: Buffer): DecodedDhcpMessage {
  if (buf.length < HEADER_LENGTH) throw new DhcpFormatError(`${buf.length} bytes, shorter than the ${HEADER_LENGTH} of a header with the magic cookie`);
  const op = buf[0]!;
  if (op !== BOOTREQUEST && op !== BOOTREPLY) throw new DhcpFormatError(`op ${op} is neither BOOTREQUEST (1) nor BOOTREPLY (2)`);
  const hlen = buf[2]!;
  if (hlen > 16) throw new DhcpFormatError(`hlen ${hlen} exceeds the 16 bytes of chaddr`);
  const magic = buf.readUInt32BE(236);
  if (magic !== DHCP_MAGIC) throw new DhcpFormatError(`magic cookie is 0x${magic.toString(16)}, not 0x63825363 (a plain BOOTP message?)`);

  const parts = new Map<number, Buffer[]>();
  const order: number[] = [];
  const overload = readOptions(buf.subarray(HEADER_LENGTH), 'options field', parts, order);
  const fileField = buf.subarray(108, 236);
  const snameField = buf.subarray(44, 108);
  // RFC 2131 §4.1: options, then 'file', then 'sname'.
  if (overload === 1 || overload === 3) readOptions(fileField, 'file field', parts, order);
  if (overload === 2 || overload === 3) readOptions(snameField, 'sname field', parts, order);

  const options: DhcpOption[] = order.map((code) => ({ code, data: Buffer.concat(parts.get(code)!) }));
  const msg: DecodedDhcpMessage = {
    op,
    htype: buf[1]!,
    hlen,
    hops: buf[3]!,
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: ipv4At(buf, 12),
    yiaddr: ipv4At(buf, 16),
    siaddr: ipv4At(buf, 20),
    giaddr: ipv4At(buf, 24),
    chaddr: bytesToMac(buf.subarray(28, 28 + hlen)),
    sname: overload === 2 || overload === 3 ? '' : cString(snameField),
    file: overload === 1 || overload === 3 ? '' : cString(fileField),
    options,
  };
  const get = (code: number) => options.find((o) => o.code === code)?.data;
  const type = get(Option.MESSAGE_TYPE);
  if (type !== undefined) {
    if (type.length !== 1) throw new DhcpFormatError(`option 53 (message type) has length ${type.length}, not 1`);
    msg.messageType = type[0]!;
  }
  const server = get(Option.SERVER_ID);
  if (server !== undefined) {
    if (server.length !== 4) throw new DhcpFormatError(`option 54 (server identifier) has length ${server.length}, not 4`);
    msg.serverId = ipv4At(server, 0);
  }
  const lease = get(Option.LEASE_TIME);
  if (lease !== undefined) {
    if (lease.length !== 4) throw new DhcpFormatError(`option 51 (lease time) has length ${lease.length}, not 4`);
    msg.leaseSeconds = lease.readUInt32BE(0);
  }
  const mask = get(Option.SUBNET_MASK);
  if (mask !== undefined) {
    if (mask.length !== 4) throw new DhcpFormatError(`option 1 (subnet mask) has length ${mask.length}, not 4`);
    msg.subnetMask = ipv4At(mask, 0);
  }
  const routers = get(Option.ROUTERS);
  if (routers !== undefined) msg.routers = ipv4List(routers, '3 (routers)');
  const dns = get(Option.DNS);
  if (dns !== undefined) msg.dns = ipv4List(dns, '6 (DNS servers)');
  const clientId = get(Option.CLIENT_ID);
  if (clientId !== undefined) msg.clientId = clientId;
  return msg;
}

/** For the probe: a message from the network, or undefined when it is not a well-formed DHCP message. Never throws. */
export function tryDecodeDhcpMessage(buf: Buffer): DecodedDhcpMessage | undefined {
  try {
    return decodeDhcpMessage(buf);
  } catch {
    return undefined;
  }
}

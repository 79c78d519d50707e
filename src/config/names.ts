/**
 * Validation of names that end up in the kernel or in Docker. Checked before
 * anything is used, so a bad name never reaches `ip` or the Engine API.
 */
import { MacvlanError } from '../model/errors.js';
import { shownName } from './shown-name.js';

/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const IFNAME_MAX_BYTES = 15;

export function interfaceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > IFNAME_MAX_BYTES) return `it is ${bytes} bytes long; Linux allows at most ${IFNAME_MAX_BYTES}`;
  if (name === '.' || name === '..') return `${shownName(name)} is reserved`;
  if (/[/\s:]/.test(name)) return "it contains '/', ':' or white space, which Linux does not allow";
  // Stricter than the kernel on purpose: these names go into file names and
  // systemd unit names, where anything beyond this set needs escaping.
  if (!/^[A-Za-z0-9_.@-]+$/.test(name)) return 'use only letters, digits and . _ - @';
  return undefined;
}

/**
 * Words iproute2 takes as something other than a device name where
 * `ip link add NAME link PARENT type macvlan` expects one (its parser also
 * accepts abbreviations, so `a`, `addr` and `ty` are keywords too), and the
 * kernel's `all` and `default`, which clash with /proc/sys/net/…/conf/all and
 * conf/default. Found with iproute2 6.1 in a throwaway namespace: each of these
 * words, as the shim's name, failed or created a link with another name;
 * every other word tried worked.
 */
export const IPROUTE2_RESERVED_NAMES: ReadonlySet<string> = new Set(
  (
    'a ad add addr addre addres address addrg addrge addrgen addrgenm addrgenmo addrgenmod addrgenmode al ali alia alias all ' +
    'allmulticast arp b br brd bro broa broad broadc broadca broadcas broadcast carrier d default dev down dy dyn dyna dynam ' +
    'dynami dynamic gro_ipv4_max_siz gro_ipv4_max_size gro_max_size group gso_ipv4_max_siz gso_ipv4_max_size gso_max_segs ' +
    'gso_max_size h he hel help index l li lin link link- link-n link-ne link-net link-netn link-netns link-netnsi link-netnsid ' +
    'm ma mas mast maste master mode mtu multicast n name netns no nom noma nomas nomast nomaste nomaster nu num numr numrx ' +
    'numrxq numrxqu numrxque numrxqueu numrxqueue numrxqueues numt numtx numtxq numtxqu numtxque numtxqueu numtxqueue ' +
    'numtxqueues parentdev promisc protodown protodown_reason qlen state t trailers tx txq txql txqle txqlen txqu txque txqueu ' +
    'txqueue txqueuel txqueuele txqueuelen ty typ type up vf vrf xdp xdpdrv xdpgeneric xdpoffload'
  ).split(' '),
);

/** A name for an interface macvlanctl creates: valid for Linux, and never read by iproute2 as a keyword. */
export function checkNewInterfaceName(name: string, origin: string): string {
  checkInterfaceName(name, origin);
  if (IPROUTE2_RESERVED_NAMES.has(name.toLowerCase())) {
    throw new MacvlanError(
      'CONFIG_INVALID',
      `${origin}: interface name ${shownName(name)} is not valid: ${['all', 'default'].includes(name.toLowerCase()) ? 'Linux reserves it (net.ipv4.conf.' + name + ')' : "'ip link' reads it as one of its own keywords, not as a name"}; choose another, for example '${name}-shim'`,
      { field: origin, value: name },
    );
  }
  return name;
}

export function checkInterfaceName(name: string, origin: string): string {
  const problem = interfaceNameProblem(name);
  if (problem) {
    throw new MacvlanError('CONFIG_INVALID', `${origin}: interface name ${shownName(name)} is not valid: ${problem}`, { field: origin, value: name });
  }
  return name;
}

/** Docker's own rule for network names is looser; this is the subset that is also safe for file and unit names. */
export const NETWORK_NAME_RULE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const NETWORK_NAME_MAX = 64;

export function networkNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > NETWORK_NAME_MAX) return `it is ${name.length} characters long; at most ${NETWORK_NAME_MAX} are allowed`;
  if (!NETWORK_NAME_RULE.test(name)) {
    return 'it must start with a letter or digit and contain only letters, digits, _ . and -';
  }
  return undefined;
}

export function checkNetworkName(name: string, origin: string): string {
  const problem = networkNameProblem(name);
  if (problem) {
    throw new MacvlanError('CONFIG_INVALID', `${origin}: network name ${shownName(name)} is not valid: ${problem}`, { field: origin, value: name });
  }
  return name;
}

/**
 * Validation of names that end up in the kernel or in Docker. Checked before
 * anything is used, so a bad name never reaches `ip` or the Engine API.
 */
import { MacvlanError } from '../model/errors.js';

/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const IFNAME_MAX_BYTES = 15;

export function interfaceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > IFNAME_MAX_BYTES) return `it is ${bytes} bytes long; Linux allows at most ${IFNAME_MAX_BYTES}`;
  if (name === '.' || name === '..') return `'${name}' is reserved`;
  if (/[/\s:]/.test(name)) return "it contains '/', ':' or white space, which Linux does not allow";
  // Stricter than the kernel on purpose: these names go into file names and
  // systemd unit names, where anything beyond this set needs escaping.
  if (!/^[A-Za-z0-9_.@-]+$/.test(name)) return 'use only letters, digits and . _ - @';
  return undefined;
}

export function checkInterfaceName(name: string, origin: string): string {
  const problem = interfaceNameProblem(name);
  if (problem) {
    throw new MacvlanError('CONFIG_INVALID', `${origin}: interface name '${name}' is not valid: ${problem}`, { field: origin, value: name });
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
    throw new MacvlanError('CONFIG_INVALID', `${origin}: network name '${name}' is not valid: ${problem}`, { field: origin, value: name });
  }
  return name;
}

/**
 * Where a field came from, for messages. Flags and files record each field's
 * origin (`--gateway`, `macvlanctl.yaml:4:13 networks.lan.gateway`); a field
 * with no recorded origin is named by the flag that sets it.
 */
export function defaultOrigin(key: string): string {
  const flags: Record<string, string> = {
    name: 'network name',
    parent: '--parent',
    subnet: '--subnet',
    gateway: '--gateway',
    ipRange: '--ip-range',
    hostAddress: '--host-address',
    mode: '--mode',
    persist: '--persist',
    shimInterface: '--shim',
    hostAccess: '--host-access',
    'ipv6.subnet': '--subnet (IPv6)',
    'ipv6.gateway': '--gateway (IPv6)',
    'ipv6.ipRange': '--ip-range (IPv6)',
    'ipv6.hostAddress': '--host-address (IPv6)',
  };
  if (flags[key]) return flags[key]!;
  if (key.startsWith('auxAddresses.')) return `--aux-address ${key.slice('auxAddresses.'.length)}`;
  if (key.startsWith('avoid.')) return '--avoid';
  return key;
}

export function originLabel(origins: Record<string, string>, key: string): string {
  return origins[key] ?? defaultOrigin(key);
}

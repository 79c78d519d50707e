/** Docker labels that mark a network as created by macvlanctl and record its host side. */
export const LABEL_MANAGED = 'io.macvlanctl.managed';
export const LABEL_SHIM = 'io.macvlanctl.shim';
export const LABEL_HOST_ADDRESS = 'io.macvlanctl.host-address';
export const LABEL_HOST_ADDRESS6 = 'io.macvlanctl.host-address6';
export const LABEL_SHIM_MAC = 'io.macvlanctl.shim-mac';

export function isManagedNetwork(labels: Record<string, string>): boolean {
  return labels[LABEL_MANAGED] === 'true';
}

/** The ifalias we put on shims: how `status` and `destroy` recognise what is ours. */
export const SHIM_ALIAS_PREFIX = 'macvlanctl:';

export function shimAlias(network: string): string {
  return `${SHIM_ALIAS_PREFIX}${network}`;
}

/** The network a shim alias names, or undefined when the alias is not ours. */
export function networkOfShimAlias(alias: string | undefined): string | undefined {
  return alias?.startsWith(SHIM_ALIAS_PREFIX) ? alias.slice(SHIM_ALIAS_PREFIX.length) : undefined;
}

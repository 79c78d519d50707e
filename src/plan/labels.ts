/** Docker labels that mark a network as created by macvlanctl and record its host side. */
export const LABEL_MANAGED = 'io.macvlanctl.managed';
export const LABEL_SHIM = 'io.macvlanctl.shim';
export const LABEL_HOST_ADDRESS = 'io.macvlanctl.host-address';
export const LABEL_HOST_ADDRESS6 = 'io.macvlanctl.host-address6';
export const LABEL_SHIM_MAC = 'io.macvlanctl.shim-mac';

export function isManagedNetwork(labels: Record<string, string>): boolean {
  return labels[LABEL_MANAGED] === 'true';
}

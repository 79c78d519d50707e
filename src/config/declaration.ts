/**
 * Builds the desired state from the command line: an optional file (-f) and
 * flags, flags winning field by field.
 */
import { type NetworkFlags, flagsToRaw } from './flags.js';
import { mergeRaw } from './merge-raw.js';
import type { RawNetwork } from './raw.js';
import { toDesired } from './to-desired.js';
import type { DesiredNetwork } from '../model/desired.js';
import { MacvlanError } from '../model/errors.js';

export interface DeclarationOptions extends NetworkFlags {
  file?: string;
  /** -p/--project-name: the Compose project name. */
  projectName?: string;
}

const FLAG_KEYS: (keyof NetworkFlags)[] = ['parent', 'subnet', 'gateway', 'ipRange', 'auxAddress', 'avoid', 'mode', 'hostAccess', 'shim', 'hostAddress', 'persist'];

function hasNetworkFlags(o: NetworkFlags): boolean {
  return FLAG_KEYS.some((k) => {
    const v = o[k];
    return Array.isArray(v) ? v.length > 0 : v !== undefined;
  });
}

export async function readDeclaration(name: string | undefined, opts: DeclarationOptions): Promise<DesiredNetwork[]> {
  if (!opts.file) {
    if (opts.projectName !== undefined) throw new MacvlanError('USAGE', '-p/--project-name names a Compose project: give the Compose file with -f');
    if (!name) {
      throw new MacvlanError('USAGE', 'name the network (macvlanctl plan NAME --parent IF …) or give a file with -f macvlanctl.yaml');
    }
    return [toDesired(flagsToRaw(name, opts))];
  }
  const { readConfigFile } = await import('./load-file.js');
  const fromFile: RawNetwork[] = await readConfigFile(opts.file, {
    env: process.env,
    ...(opts.projectName !== undefined ? { projectName: opts.projectName } : {}),
  });
  if (opts.projectName !== undefined && !fromFile.some((n) => n.compose)) {
    throw new MacvlanError('USAGE', `-p/--project-name names a Compose project, but ${opts.file} is a macvlanctl.yaml file`);
  }
  let selected = fromFile;
  if (name) {
    // A Compose network may be named by its Docker name or by its key in the file.
    selected = fromFile.filter((n) => n.name === name || n.compose?.key === name);
    if (selected.length === 0) {
      throw new MacvlanError('CONFIG_INVALID', `${opts.file} has no network named ${name}; it has: ${fromFile.map((n) => n.name).join(', ')}`, {
        networks: fromFile.map((n) => n.name),
      });
    }
  }
  if (hasNetworkFlags(opts)) {
    if (selected.length !== 1) {
      throw new MacvlanError(
        'USAGE',
        `flags change one network, but ${opts.file} declares ${selected.length} (${selected.map((n) => n.name).join(', ')}); name the one to change: macvlanctl plan NAME -f ${opts.file} …`,
      );
    }
    selected = [mergeRaw(selected[0]!, flagsToRaw(selected[0]!.name, opts))];
  }
  return selected.map(toDesired);
}

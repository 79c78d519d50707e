/**
 * Declaration files → RawNetwork[], with every value's place (file:line:col and
 * YAML path) kept in `origins` so that later errors point at the text.
 *
 * Two formats, told apart by content: macvlanctl.yaml (read-macvlanctl.ts) and
 * a Docker Compose file (read-compose.ts: a top-level `services:`, or a
 * network with `driver:`, `driver_opts:`, `ipam:` or `external:`).
 *
 * The steps: yaml-file.ts reads the text into values with their places
 * (yaml-tree.ts); the reader of the format checks shapes against the schemas
 * (file-schema.ts) and builds each network (network-builder.ts). All problems
 * in a file are collected (file-problems.ts, in the words of
 * file-messages.ts) and thrown as one MacvlanError (CONFIG_SYNTAX for YAML
 * syntax, CONFIG_INVALID otherwise) whose message has one
 * `FILE:LINE:COL PATH: what is wrong` line per problem and whose
 * `details.problems` lists them as data.
 *
 * This module and the ones it imports are the only ones that import `zod`,
 * and with compose-complete.ts (the --write-compose edit) the only ones that
 * import `yaml`; the CLI loads them only when a file is given (they are a
 * bundle of their own, see scripts/bundle.mjs).
 */
import { dirname, resolve } from 'node:path';
import { MacvlanError } from '../model/errors.js';
import { FileRefused, readRegularFile } from '../system/read-regular-file.js';
import { parseDotEnv } from './compose-dotenv.js';
import { failWith } from './file-problems.js';
import { type ComposeOptions, looksLikeCompose, readCompose } from './read-compose.js';
import { readMacvlanctl } from './read-macvlanctl.js';
import type { RawNetwork } from './raw.js';
import { readYamlFile } from './yaml-file.js';

export type { ConfigProblem } from './file-problems.js';
export type { ComposeOptions } from './read-compose.js';

/**
 * Parses a macvlanctl.yaml or Docker Compose file's text into one RawNetwork
 * per declared network, in file order. `fileName` is used only in places and
 * origins. Throws MacvlanError (CONFIG_SYNTAX or CONFIG_INVALID) listing every
 * problem found.
 */
export function parseConfigFile(fileName: string, text: string, options: ComposeOptions = {}): RawNetwork[] {
  const { ctx, top } = readYamlFile(fileName, text);
  const networks = looksLikeCompose(top) ? readCompose(ctx, top, options) : readMacvlanctl(ctx, top);
  if (ctx.problems.length > 0) failWith('CONFIG_INVALID', fileName, ctx.problems);
  return networks;
}

/**
 * The largest declaration file read. A macvlanctl.yaml or Compose file is a
 * few kilobytes; a megabyte is far beyond any real one, and the cap keeps a
 * wrong -f (a device, a huge log) from eating memory and time.
 */
export const CONFIG_FILE_MAX_BYTES = 1024 * 1024;

/** Reads a declaration file and parses it (see parseConfigFile). */
export async function readConfigFile(path: string, options: Omit<ComposeOptions, 'dotEnv' | 'directory'> = {}): Promise<RawNetwork[]> {
  const text = await readDeclarationText(path);
  const directory = dirname(resolve(path));
  const dotEnv = await readDotEnv(directory).catch((e: unknown) => e as Error);
  if (!(dotEnv instanceof Error)) return parseConfigFile(path, text, { ...options, directory, dotEnv });
  // A .env file Compose cannot read matters only to a Compose file.
  const networks = parseConfigFile(path, text, { ...options, directory });
  if (networks.some((n) => n.compose)) throw dotEnv;
  return networks;
}

const REFUSED_KIND_FIX: Record<string, string> = {
  directory: 'give the path of a macvlanctl.yaml or Compose file',
  'FIFO (named pipe)': 'macvlanctl reads only regular files; save the declaration to a file and give its path',
};

const ERRNO_REASONS: Record<string, string> = {
  ENOENT: 'there is no such file; check the path given with -f',
  ENOTDIR: 'a part of the path is not a directory; check the path given with -f',
  EACCES: 'permission denied; make the file readable for this user or run as a user who can read it',
  EPERM: 'permission denied; make the file readable for this user or run as a user who can read it',
  EISDIR: 'it is a directory; give the path of a macvlanctl.yaml or Compose file',
  ENXIO: 'it is a socket or a device with nothing behind it, not a regular file; give the path of a macvlanctl.yaml or Compose file',
};

/** The file's text; a MacvlanError (CONFIG_INVALID) saying why when it cannot be read or is no regular file. */
async function readDeclarationText(path: string): Promise<string> {
  try {
    return await readRegularFile(path, CONFIG_FILE_MAX_BYTES);
  } catch (e) {
    if (e instanceof FileRefused) {
      const reason =
        'kind' in e.why
          ? `it is a ${e.why.kind}, not a regular file; ${REFUSED_KIND_FIX[e.why.kind] ?? 'give the path of a macvlanctl.yaml or Compose file'}`
          : `it is larger than ${e.why.tooLarge / 1024 / 1024} MiB, which no macvlanctl.yaml or Compose file is; check the path given with -f`;
      throw new MacvlanError('CONFIG_INVALID', `cannot read ${path}: ${reason}`, { file: path, ...('kind' in e.why ? { fileType: e.why.kind } : { maxBytes: e.why.tooLarge }) });
    }
    const code = (e as NodeJS.ErrnoException).code;
    const reason = (code && ERRNO_REASONS[code]) ?? (e instanceof Error ? e.message : String(e));
    throw new MacvlanError('CONFIG_INVALID', `cannot read ${path}: ${reason}`, { file: path, errno: code }, { cause: e });
  }
}

/** The `.env` file beside a Compose file (Compose reads it from the project directory); none is fine. */
async function readDotEnv(directory: string): Promise<Record<string, string>> {
  const path = resolve(directory, '.env');
  let text: string;
  try {
    // Bounded like the file itself: a FIFO or a device named .env must not block or fill memory.
    text = await readRegularFile(path, CONFIG_FILE_MAX_BYTES);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return {};
    if (e instanceof FileRefused && 'kind' in e.why && e.why.kind === 'directory') return {};
    throw new MacvlanError('CONFIG_INVALID', `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, { file: path, errno: code }, { cause: e });
  }
  return parseDotEnv(path, text);
}

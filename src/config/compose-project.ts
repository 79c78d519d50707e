/**
 * Compose's names for a project and its networks, so that the Docker network
 * macvlanctl creates is the one `docker compose up` looks for.
 *
 * Read from the source of the Compose versions people run:
 * - compose-go (Compose v2+) `NormalizeProjectName`: lower case, keep only
 *   [a-z0-9_-], drop leading `_` and `-`; a name given with `-p` or
 *   COMPOSE_PROJECT_NAME must already match ^[a-z0-9][a-z0-9_-]*$ and is
 *   refused otherwise. The order: `-p`, COMPOSE_PROJECT_NAME (the environment,
 *   then the `.env` file beside the Compose file), the file's top-level
 *   `name:`, else the basename of the Compose file's directory.
 * - Compose 1.29 (`compose/cli/command.py` get_project_name) has no top-level
 *   `name:` and does not strip leading `_`/`-`; for every name that v2 accepts
 *   the two agree.
 * - A network's Docker name is its `name:` when set, else `<project>_<key>`
 *   (compose-go's loader; Compose 1.29 `compose/network.py` Network.full_name).
 *
 * Pure: the caller hands in the environment and the directory's name.
 */
import { MacvlanError } from '../model/errors.js';

/** compose-go's rule for a project name given explicitly (-p, COMPOSE_PROJECT_NAME). */
export const PROJECT_NAME_RULE = /^[a-z0-9][a-z0-9_-]*$/;

/** Compose's labels on a network it created (pkg/api/labels.go ProjectLabel, NetworkLabel). */
export const COMPOSE_LABEL_PROJECT = 'com.docker.compose.project';
export const COMPOSE_LABEL_NETWORK = 'com.docker.compose.network';

export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

export type ProjectNameSource = '-p/--project-name' | 'COMPOSE_PROJECT_NAME' | '.env COMPOSE_PROJECT_NAME' | 'name:' | 'directory';

export interface ProjectName {
  name: string;
  source: ProjectNameSource;
  /** Where it came from, for messages: `-p`, `compose.yaml:1:7 name`, `directory /srv/Home_Lab`. */
  origin: string;
}

export interface ProjectNameInputs {
  /** `-p/--project-name`. */
  flag?: string;
  /** COMPOSE_PROJECT_NAME from the process environment. */
  env?: string;
  /** COMPOSE_PROJECT_NAME from the `.env` file beside the Compose file. */
  dotEnv?: string;
  /** The file's top-level `name:`, with its place. */
  fileName?: { value: string; origin: string };
  /** The Compose file's directory (absolute), whose basename is the last resort. */
  directory: string;
}

function refuse(origin: string, message: string, value: string): never {
  throw new MacvlanError('CONFIG_INVALID', `${origin}: ${message}`, { field: origin, value });
}

function explicit(value: string, source: ProjectNameSource, origin: string): ProjectName {
  if (!PROJECT_NAME_RULE.test(value)) {
    const normal = normalizeProjectName(value);
    refuse(
      origin,
      `project name '${value}' is not valid: Compose requires lower-case letters, digits, '_' and '-', starting with a letter or digit${
        normal ? ` (for example '${normal}')` : ''
      }`,
      value,
    );
  }
  return { name: value, source, origin };
}

function normalized(value: string, source: ProjectNameSource, origin: string): ProjectName {
  const name = normalizeProjectName(value);
  if (!name) {
    refuse(
      origin,
      `the project name '${value}' has no letter or digit left once Compose normalises it (lower case, only a-z 0-9 _ -); give one with -p NAME or a top-level name:`,
      value,
    );
  }
  return { name, source, origin };
}

function basename(directory: string): string {
  const parts = directory.split('/').filter((p) => p !== '');
  return parts[parts.length - 1] ?? '';
}

/** The project name, in Compose's order; CONFIG_INVALID when it is not usable. */
export function resolveProjectName(inputs: ProjectNameInputs): ProjectName {
  if (inputs.flag !== undefined) return explicit(inputs.flag, '-p/--project-name', '-p/--project-name');
  if (inputs.env) return explicit(inputs.env, 'COMPOSE_PROJECT_NAME', 'COMPOSE_PROJECT_NAME');
  if (inputs.dotEnv) return explicit(inputs.dotEnv, '.env COMPOSE_PROJECT_NAME', '.env COMPOSE_PROJECT_NAME');
  if (inputs.fileName) return normalized(inputs.fileName.value, 'name:', inputs.fileName.origin);
  return normalized(basename(inputs.directory), 'directory', `directory ${inputs.directory}`);
}

/** The Docker name Compose gives network `key`: its `name:`, else `<project>_<key>`. */
export function composeNetworkName(project: string, key: string, explicitName: string | undefined): string {
  return explicitName ?? `${project}_${key}`;
}

/** The labels that make Compose take the network as its own (and `down` remove it). */
export function composeLabels(project: string, key: string): Record<string, string> {
  return { [COMPOSE_LABEL_PROJECT]: project, [COMPOSE_LABEL_NETWORK]: key };
}

/**
 * The `.env` file beside a Compose file: `KEY=VALUE` lines, as Compose reads
 * them (blank lines and `#` comments skipped, an optional `export ` prefix,
 * single quotes literal, double quotes with \n \t \\ \" escapes, an unquoted
 * value ending at ` #`). Pure: text in, variables out.
 */
import { MacvlanError } from '../model/errors.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function unquoted(value: string): string {
  const comment = value.search(/\s#/);
  return (comment >= 0 ? value.slice(0, comment) : value).trim();
}

function doubleQuoted(body: string): string {
  return body.replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

export function parseDotEnv(fileName: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const body = trimmed.startsWith('export ') ? trimmed.slice(7).trimStart() : trimmed;
    const eq = body.indexOf('=');
    const key = (eq < 0 ? body : body.slice(0, eq)).trim();
    if (!KEY.test(key)) {
      throw new MacvlanError('CONFIG_INVALID', `${fileName}:${i + 1}: '${key}' is not a variable name; write KEY=VALUE lines`, { file: fileName, line: i + 1 });
    }
    if (eq < 0) return; // a bare KEY takes its value from the environment in Compose; nothing to record here
    const raw = body.slice(eq + 1).trim();
    let value: string;
    if (raw.startsWith("'") && raw.indexOf("'", 1) > 0) value = raw.slice(1, raw.indexOf("'", 1));
    else if (raw.startsWith('"')) {
      const end = raw.slice(1).search(/(?<!\\)"/);
      value = doubleQuoted(end >= 0 ? raw.slice(1, end + 1) : raw.slice(1));
    } else value = unquoted(raw);
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  });
  return out;
}

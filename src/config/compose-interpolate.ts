/**
 * Compose's variable interpolation, as compose-go's `template` package does it:
 * `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}`
 * (unset), `${VAR:?message}` / `${VAR?message}` (an error), `${VAR:+other}` /
 * `${VAR+other}`, and `$$` for a literal `$`. Defaults may hold variables
 * themselves. Where Compose substitutes an empty string for an unset variable
 * (with a warning), macvlanctl refuses: an empty parent or subnet is never
 * what was meant. Pure: the caller hands in the lookup.
 */

export type Lookup = (name: string) => string | undefined;

export class InterpolationError extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** The index of the `}` closing the `${` that starts before `from`, counting nested `${ … }`. */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '$') {
      i++;
      continue;
    }
    if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function braced(expr: string, lookup: Lookup): string {
  const m = NAME.exec(expr);
  if (!m) throw new InterpolationError(`'\${${expr}}' is not a valid variable reference: a name starts with a letter or _`);
  const name = m[0];
  const rest = expr.slice(name.length);
  const value = lookup(name);
  if (rest === '') {
    if (value === undefined) throw new InterpolationError(`variable ${name} is not set and has no default; set it in the environment or in the .env file beside the Compose file, or write \${${name}:-default}`);
    return value;
  }
  const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[0];
  if (!op) throw new InterpolationError(`'\${${expr}}' is not understood; Compose takes \${${name}}, \${${name}:-default}, \${${name}-default}, \${${name}:?message}, \${${name}?message} or \${${name}:+value}`);
  const arg = () => interpolate(rest.slice(op.length), lookup);
  const emptyOrUnset = value === undefined || value === '';
  switch (op) {
    case ':-':
      return emptyOrUnset ? arg() : value!;
    case '-':
      return value === undefined ? arg() : value;
    case ':?':
    case '?':
      if (op === ':?' ? emptyOrUnset : value === undefined) {
        const message = rest.slice(op.length);
        throw new InterpolationError(`variable ${name} is required${op === ':?' ? ' (and must not be empty)' : ''}${message ? `: ${interpolate(message, lookup)}` : ''}`);
      }
      return value!;
    case ':+':
      return emptyOrUnset ? '' : arg();
    default:
      return value === undefined ? '' : arg();
  }
}

/** Expands every reference in `text`; InterpolationError names what is missing. */
export function interpolate(text: string, lookup: Lookup): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = closingBrace(text, i + 2);
      if (end < 0) throw new InterpolationError(`'${text.slice(i)}' opens \${ without a closing }`);
      out += braced(text.slice(i + 2, end), lookup);
      i = end + 1;
    } else {
      const m = NAME.exec(text.slice(i + 1));
      if (!m) throw new InterpolationError(`a lone '$' at position ${i + 1}; write $$ for a literal $`);
      const value = lookup(m[0]);
      if (value === undefined) throw new InterpolationError(`variable ${m[0]} is not set and has no default; set it in the environment or in the .env file beside the Compose file, or write \${${m[0]}:-default}`);
      out += value;
      i += 1 + m[0].length;
    }
  }
  return out;
}

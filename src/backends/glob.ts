/**
 * Shell-style glob matching, as fnmatch(3) does it: `*`, `?`, `[...]` with
 * ranges and `!`/`^` negation, `\` escapes. Two flavours:
 * - names (networkd's Name=, NetworkManager's interface-name match): fnmatch
 *   with no flags, so `*` matches anything;
 * - paths (ifupdown's `source` lines, which go through wordexp/glob):
 *   segment by segment, `*` never crosses `/` nor matches a leading `.`.
 */

function toRegExpSource(pattern: string): string {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      // A `]` right after `[` or `[!` is a member, not the end (POSIX).
      let j = i + 1;
      if (pattern[j] === '!' || pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      const end = pattern.indexOf(']', j);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += escapeRegExp(pattern[++i]!);
    } else re += escapeRegExp(c);
  }
  return re;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** fnmatch(pattern, name, 0). */
export function globMatchName(pattern: string, name: string): boolean {
  return new RegExp(`^${toRegExpSource(pattern)}$`, 's').test(name);
}

/** Whether a pattern has glob characters at all. */
export function hasGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/** One path segment as glob(3) matches it: a leading `.` must be matched literally. */
export function globMatchSegment(pattern: string, name: string): boolean {
  if (name.startsWith('.') && !pattern.startsWith('.')) return false;
  return globMatchName(pattern, name);
}

/** A whole absolute path against an absolute pattern, segment by segment. */
export function globMatchPath(pattern: string, path: string): boolean {
  const p = normalizePath(pattern).split('/');
  const s = normalizePath(path).split('/');
  return p.length === s.length && p.every((seg, i) => globMatchSegment(seg, s[i]!));
}

/** Collapses `//`, `/./`, `..` and a trailing `/`. */
export function normalizePath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

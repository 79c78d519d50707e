/**
 * Names and other user text as they appear in messages: quoted, with control
 * and invisible format characters escaped, so that `lan\r` or an ANSI escape
 * in a name cannot hide or rewrite the rest of the line on a terminal. Pure.
 */

/** C0/C1 controls and Unicode format characters (bidi overrides, zero-width joiners). */
const INVISIBLE = /[\p{Cc}\p{Cf}]/gu;

const SHORT: Record<string, string> = { '\r': '\\r', '\n': '\\n', '\t': '\\t', '\x1b': '\\e' };

/** `s` with every control or format character written as an escape (\r, \n, \t, \e, \xHH, \u{HHHH}). */
export function escapeInvisible(s: string): string {
  return s.replace(INVISIBLE, (ch) => {
    if (SHORT[ch]) return SHORT[ch]!;
    const cp = ch.codePointAt(0)!;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
  });
}

/** `'name'`, escaped: for every name or value quoted in a message. */
export function shownName(s: string): string {
  return `'${escapeInvisible(s)}'`;
}

/**
 * A whole message for a terminal: line breaks (multi-problem messages use
 * them) and tabs stay, every other invisible character is escaped. The last
 * line of defence for text that was not quoted with shownName.
 */
export function terminalSafe(message: string): string {
  return message.replace(INVISIBLE, (ch) => (ch === '\n' || ch === '\t' ? ch : escapeInvisible(ch)));
}

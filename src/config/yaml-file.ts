/**
 * A declaration file's text → its top-level map, with a FileContext that
 * knows every value's place. Syntax errors (CONFIG_SYNTAX), an empty file, a
 * nesting too deep to read and a top level that is not a map (CONFIG_INVALID)
 * end the reading here, each at its place.
 */
import { type Document, LineCounter, Parser, parseDocument, visit } from 'yaml';
import { describe } from './file-messages.js';
import { FileContext, failWith } from './file-problems.js';
import { isPlainMap } from './plain-map.js';
import { MAX_YAML_DEPTH, tooDeepAt } from './yaml-depth.js';
import { type Read, TreeReader } from './yaml-tree.js';

const EXAMPLE = 'for example\n      networks:\n        lan:\n          parent: eth0\n          subnet: 192.168.1.0/24';

const SYNTAX_REASONS: Record<string, string> = {
  MULTIPLE_DOCS: 'the file holds more than one YAML document (a second ---); put everything in one document',
  DUPLICATE_KEY: 'this key appears twice in the same map; YAML keys must be unique, so keep one',
  TAB_AS_INDENT: 'a tab is used for indentation; YAML allows only spaces there',
};

/** The file's top-level map, and its context for the problems the readers find. Throws MacvlanError when there is no such map. */
export function readYamlFile(fileName: string, text: string): { ctx: FileContext; top: Record<string, unknown> } {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = new LineCounter();
  refuseTooDeep(fileName, source, lines);
  const doc = parseDocument(source, { lineCounter: lines, merge: true, prettyErrors: false, uniqueKeys: true });
  const ctx = new FileContext(fileName, lines);
  refuseSyntaxErrors(ctx, doc);
  if (doc.contents === null) {
    ctx.addAt(0, [], `the file is empty; declare the networks in it, ${EXAMPLE}`);
    failWith('CONFIG_INVALID', fileName, ctx.problems);
  }
  const { value, loc } = readTree(ctx, doc);
  ctx.rootLoc = loc;
  ctx.rootValue = value;
  if (!isPlainMap(value)) {
    if (!loc.broken) {
      ctx.addAt(loc.pos, [], `the top level of the file must be a map with a networks: key, but it is ${describe(value)}; ${EXAMPLE}`);
    }
    failWith('CONFIG_INVALID', fileName, ctx.problems);
  }
  return { ctx, top: value };
}

/** Counted before the recursive parts run: they would overflow the stack. */
function refuseTooDeep(fileName: string, source: string, lines: LineCounter): void {
  const deep = tooDeepAt(source);
  if (deep === undefined) return;
  for (const _ of new Parser(lines.addNewLine).parse(source)); // fills the line counter for the place
  const ctx = new FileContext(fileName, lines);
  ctx.addAt(deep, [], `the YAML nests more than ${MAX_YAML_DEPTH} levels deep here; a declaration needs fewer than 10, so this is not one (check the brackets and the indentation)`);
  failWith('CONFIG_INVALID', fileName, ctx.problems);
}

function refuseSyntaxErrors(ctx: FileContext, doc: Document): void {
  if (doc.errors.length === 0) return;
  for (const err of doc.errors) {
    const opening = err.code === 'MISSING_CHAR' && /quote/.test(err.message) ? openingQuote(doc, err.pos[0]) : undefined;
    if (opening !== undefined) {
      ctx.addAt(opening, [], `YAML syntax error: the quote opened here is never closed (${err.message})`);
      continue;
    }
    const reason = SYNTAX_REASONS[err.code] ?? err.message;
    ctx.addAt(err.pos[0], [], `YAML syntax error: ${reason}`);
  }
  failWith('CONFIG_SYNTAX', ctx.fileName, ctx.problems);
}

/** Where an unclosed quoted scalar that runs to `end` starts (yaml reports the end). */
function openingQuote(doc: Document, end: number): number | undefined {
  let start: number | undefined;
  visit(doc, {
    Scalar(_key, node) {
      if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && node.range?.[1] === end) {
        start = node.range[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return start;
}

function readTree(ctx: FileContext, doc: Document): Read {
  const reader = new TreeReader(doc, (offset, path, message) => ctx.addAt(offset, path, message));
  try {
    return reader.read(doc.contents, [], 0);
  } catch (e) {
    // Aliases can nest a tree deeper than its text (the text itself was bounded above).
    if (!(e instanceof RangeError)) throw e;
    ctx.addAt(0, [], `the YAML nests too deeply through its aliases (*name) to be read; a declaration needs fewer than 10 levels`);
    failWith('CONFIG_INVALID', ctx.fileName, ctx.problems);
  }
}

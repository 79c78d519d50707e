// bench/RESULTS.md: each benchmark script owns one `## ` section and replaces only that one,
// so the others' figures (and the notes written under them) stay as they were.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = join(import.meta.dirname, 'RESULTS.md');
const HEADER = '# Benchmark results\n\nRecorded by the scripts in bench/; each section says how it was measured.\n';

/**
 * Replaces the section whose heading line starts with `## ${heading}` (up to the next `## ` heading)
 * with `section`, or appends it when there is none. Returns the file's path.
 */
export function replaceResultsSection(heading, section) {
  let text;
  try {
    text = readFileSync(FILE, 'utf8');
  } catch {
    text = HEADER;
  }
  const escaped = heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const start = text.search(new RegExp(`^## ${escaped}(?=[\\s(]|$)`, 'm'));
  const next = start < 0 ? -1 : text.indexOf('\n## ', start + 1);
  // One blank line between sections, whatever the section ends with.
  const rest = next < 0 ? '' : `\n\n${text.slice(next + 1)}`;
  const updated = start < 0 ? `${text.trimEnd()}\n\n${section}` : `${text.slice(0, start)}${section.trimEnd()}${rest}`;
  writeFileSync(FILE, updated.endsWith('\n') ? updated : `${updated}\n`);
  return FILE;
}

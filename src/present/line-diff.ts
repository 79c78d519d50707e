/**
 * A line diff for showing an edit before it is written (--write-compose):
 * `+ line` added, `- line` removed, with two lines of context around each
 * change. Plain longest-common-subsequence; the files are small. Pure.
 */
export function lineDiff(before: string, after: string, context = 2): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const rows: { mark: ' ' | '+' | '-'; text: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) rows.push({ mark: ' ', text: a[i++]! }), j++;
    else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) rows.push({ mark: '+', text: b[j++]! });
    else rows.push({ mark: '-', text: a[i++]! });
  }
  const keep = rows.map((r, k) => rows.slice(Math.max(0, k - context), k + context + 1).some((x) => x.mark !== ' '));
  const out: string[] = [];
  rows.forEach((r, k) => {
    if (keep[k]) out.push(`${r.mark} ${r.text}`);
    else if (keep[k - 1]) out.push('  …');
  });
  return out;
}

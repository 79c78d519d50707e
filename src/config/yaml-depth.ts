/**
 * How deeply a YAML text nests, found without recursion. yaml's composer and
 * our reader recurse once per level, so a file of a few thousand `[` overflowed
 * the stack ("Maximum call stack size exceeded"). The CST parser is iterative:
 * its tokens are walked here with an explicit stack, and the first collection
 * past the limit is reported with its offset, before anything recursive runs.
 */
import { Parser } from 'yaml';

/** Compose and macvlanctl.yaml files nest 6 to 8 levels; 64 leaves room for any real file. */
export const MAX_YAML_DEPTH = 64;

interface Node {
  type?: string;
  offset?: number;
  value?: unknown;
  key?: unknown;
  items?: { key?: unknown; value?: unknown }[];
}

/** The offset of the first collection nested deeper than `limit`, or undefined. */
export function tooDeepAt(text: string, limit = MAX_YAML_DEPTH): number | undefined {
  const todo: [Node, number][] = [];
  for (const token of new Parser().parse(text)) todo.push([token as Node, 0]);
  while (todo.length > 0) {
    const [node, depth] = todo.pop()!;
    if (!node || typeof node !== 'object') continue;
    const collection = node.type === 'block-map' || node.type === 'block-seq' || node.type === 'flow-collection';
    const here = collection ? depth + 1 : depth;
    if (here > limit) return node.offset ?? 0;
    if (node.value) todo.push([node.value as Node, here]);
    for (const item of node.items ?? []) {
      if (item.key) todo.push([item.key as Node, here]);
      if (item.value) todo.push([item.value as Node, here]);
    }
  }
  return undefined;
}

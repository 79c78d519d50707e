/**
 * Walks a zod schema along a YAML path, to find what a place in the file may
 * hold: the keys allowed in a map (for "did you mean") and the alternatives
 * of a union (to follow the one of the value's kind). Uses zod 4's public
 * classes and their accessors (`.shape`, `.valueType`, `.element`,
 * `.options`, `.unwrap()`), not its internal definitions.
 */
import { z } from 'zod';

/** The schema inside any optional/nullable wrappers. */
function unwrap(s: z.ZodType): z.ZodType {
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
  return s;
}

/** The object schema itself, or the (unwrapped) object alternative of a union. */
function objectOption(s: z.ZodType): z.ZodObject | undefined {
  if (s instanceof z.ZodObject) return s;
  if (s instanceof z.ZodUnion) return (s.options as readonly z.ZodType[]).map(unwrap).find((o): o is z.ZodObject => o instanceof z.ZodObject);
  return undefined;
}

/** The schema at `path` below `schema`, unwrapped; undefined where the schema has no such place. */
export function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const seg of path) {
    if (!s) return undefined;
    s = unwrap(s);
    if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else s = objectOption(s)?.shape[String(seg)] as z.ZodType | undefined;
  }
  return s ? unwrap(s) : undefined;
}

/** The keys a map may have here (none when it is not a map). */
export function keysOf(schema: z.ZodType | undefined): string[] {
  if (!schema) return [];
  const obj = objectOption(unwrap(schema));
  return obj ? Object.keys(obj.shape) : [];
}

/** A union's alternatives, in order (none when it is not a union). */
export function unionOptions(schema: z.ZodType): readonly z.ZodType[] {
  return schema instanceof z.ZodUnion ? (schema.options as readonly z.ZodType[]) : [];
}

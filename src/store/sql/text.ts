import type { EngineName } from "../migrations/index.ts";

/**
 * Statements as fixed SQL text with `?` placeholders, rewritten to `$n` for PostgreSQL: no query tree
 * is built per request, and prepared-statement and plan caches see the same text every time.
 */
const rewritten = new Map<string, string>();

export function forEngine(engine: EngineName, text: string): string {
  if (engine === "sqlite") return text;
  let out = rewritten.get(text);
  if (out === undefined) {
    let n = 0;
    out = text.replace(/\?/g, () => `$${++n}`);
    if (rewritten.size < 4096) rewritten.set(text, out);
  }
  return out;
}

/** `?, ?, ?` for a list of n values. */
export function marks(n: number): string {
  return n === 0 ? "NULL" : new Array(n).fill("?").join(", ");
}

/** `(?, ?), (?, ?)` for rows × cols values. */
export function rowMarks(rows: number, cols: number): string {
  const row = `(${marks(cols)})`;
  return new Array(rows).fill(row).join(", ");
}

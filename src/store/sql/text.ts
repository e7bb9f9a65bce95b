import { CompiledQuery } from "kysely";
import type { EngineName } from "../migrations/index.ts";
import type { Conn } from "./engine.ts";

/**
 * Hot-path statements as fixed SQL text with `?` placeholders (rewritten to `$n` for PostgreSQL):
 * no query tree is built per request, and SQLite's statement cache and PostgreSQL's plan cache see
 * the same text every time.
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

export async function query<R>(
  conn: Conn,
  engine: EngineName,
  text: string,
  params: readonly unknown[],
): Promise<R[]> {
  const result = await conn.executeQuery<R>(CompiledQuery.raw(forEngine(engine, text), [...params]));
  return result.rows;
}

/** `?, ?, ?` for a list of n values. */
export function marks(n: number): string {
  return n === 0 ? "NULL" : new Array(n).fill("?").join(", ");
}

import { CompiledQuery, type Kysely, type Transaction } from "kysely";
import type { EngineName } from "../migrations/index.ts";
import type { SqlExec } from "./engine.ts";
import type { DB } from "./schema.ts";

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

/** Runs statements through a Kysely connection or transaction (PostgreSQL). */
export class KyselyExec implements SqlExec {
  constructor(
    private readonly conn: Kysely<DB> | Transaction<DB>,
    private readonly engine: EngineName,
  ) {}

  async query<R>(text: string, params: readonly unknown[]): Promise<R[]> {
    const result = await this.conn.executeQuery<R>(
      CompiledQuery.raw(forEngine(this.engine, text), [...params]),
    );
    return result.rows;
  }

  async rows<T extends unknown[]>(text: string, params: readonly unknown[]): Promise<T[]> {
    const rows = await this.query<Record<string, unknown>>(text, params);
    return rows.map((row) => Object.values(row) as T);
  }

  async column<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    const rows = await this.query<Record<string, T>>(text, params);
    return rows.map((row) => Object.values(row)[0] as T);
  }
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

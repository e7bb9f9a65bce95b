import { createHash } from "node:crypto";
import type pg from "pg";
import { isUnavailable } from "../guard.ts";
import type { SqlExec } from "../sql/engine.ts";
import { forEngine } from "../sql/text.ts";

const names = new Map<string, string | null>();

/**
 * A server-side prepared statement per SQL text (parsed and planned once per connection), except for
 * texts with long value lists, whose many variants would only fill the server's statement cache.
 */
function statementName(text: string, params: number): string | undefined {
  let name = names.get(text);
  if (name === undefined) {
    // The values given, not the `?` in the text: some texts number their placeholders ($1, $2, …).
    name =
      params <= 64 && text.length < 4000
        ? `tagd_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`
        : null;
    if (names.size < 10_000) names.set(text, name);
  }
  return name ?? undefined;
}

/** Statements straight on a `pg` pool or client: prepared by name, rows as arrays where asked. */
export class PgExec implements SqlExec {
  constructor(private readonly client: pg.Pool | pg.PoolClient) {}

  private run(text: string, params: readonly unknown[], rowMode?: "array") {
    return this.client.query({
      name: statementName(text, params.length),
      text: forEngine("postgres", text),
      values: [...params],
      ...(rowMode ? { rowMode } : {}),
    });
  }

  async query<R>(text: string, params: readonly unknown[]): Promise<R[]> {
    return (await this.run(text, params)).rows as R[];
  }

  async rows<T extends unknown[]>(text: string, params: readonly unknown[]): Promise<T[]> {
    return (await this.run(text, params, "array")).rows as T[];
  }

  async column<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    return ((await this.run(text, params, "array")).rows as unknown[][]).map((r) => r[0] as T);
  }
}

/** BEGIN … COMMIT on one pooled connection; a connection that failed mid-way is discarded. */
export async function pgTransaction<T>(pool: pg.Pool, fn: (exec: SqlExec) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    try {
      const result = await fn(new PgExec(client));
      await client.query("COMMIT");
      return result;
    } catch (err) {
      try {
        await client.query("ROLLBACK");
      } catch (rollbackFailed) {
        broken = rollbackFailed as Error;
      }
      throw err;
    }
  } catch (err) {
    if (isUnavailable(err)) broken ??= err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}

import { CompiledQuery } from "kysely";
import type { EngineName } from "../migrations/index.ts";
import type { Conn } from "./engine.ts";

/**
 * Multi-row statements written as SQL text with a placeholder per value: for bulk work, building a
 * query tree of thousands of nodes per statement costs more than running it.
 */
export function placeholders(engine: EngineName, rows: number, cols: number, start = 0): string {
  const out: string[] = [];
  let n = start;
  for (let r = 0; r < rows; r++) {
    const row: string[] = [];
    for (let c = 0; c < cols; c++) row.push(engine === "postgres" ? `$${++n}` : "?");
    out.push(`(${row.join(",")})`);
  }
  return out.join(",");
}

export async function run<R = unknown>(conn: Conn, text: string, params: unknown[]): Promise<R[]> {
  const result = await conn.executeQuery<R>(CompiledQuery.raw(text, params));
  return result.rows;
}

/** Runs `statement` over `rows` in slices that keep each statement under the engines' parameter limits. */
export async function inSlices<T>(
  rows: T[],
  cols: number,
  statement: (slice: T[]) => Promise<unknown>,
  maxParams = 8000,
): Promise<void> {
  const per = Math.max(1, Math.floor(maxParams / cols));
  for (let i = 0; i < rows.length; i += per) await statement(rows.slice(i, i + per));
}

/** Adds signed deltas to the key and value counters, deleting rows that reach zero. */
export async function applyCountDeltas(
  conn: Conn,
  engine: EngineName,
  keyDeltas: Map<string, number>,
  valueDeltas: Map<string, number>,
): Promise<void> {
  const keys = [...keyDeltas].filter(([, d]) => d !== 0).map(([k, d]) => [...k.split("\u0000"), d]);
  const values = [...valueDeltas].filter(([, d]) => d !== 0).map(([k, d]) => [...k.split("\u0000"), d]);
  await inSlices(keys, 4, (slice) =>
    run(
      conn,
      `INSERT INTO tag_keys (account_id, region, key, resources) VALUES ${placeholders(engine, slice.length, 4)}
       ON CONFLICT (account_id, region, key) DO UPDATE SET resources = tag_keys.resources + excluded.resources`,
      slice.flat(),
    ),
  );
  await inSlices(values, 5, (slice) =>
    run(
      conn,
      `INSERT INTO tag_values (account_id, region, key, value, resources) VALUES ${placeholders(engine, slice.length, 5)}
       ON CONFLICT (account_id, region, key, value) DO UPDATE SET resources = tag_values.resources + excluded.resources`,
      slice.flat(),
    ),
  );
  if (keys.some((k) => (k[3] as number) < 0))
    await run(conn, "DELETE FROM tag_keys WHERE resources <= 0", []);
  if (values.some((v) => (v[4] as number) < 0))
    await run(conn, "DELETE FROM tag_values WHERE resources <= 0", []);
}

export function counterKey(...parts: string[]): string {
  return parts.join("\u0000");
}

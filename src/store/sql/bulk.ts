import type { SqlExec } from "./engine.ts";
import { rowMarks } from "./text.ts";

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

/** Upserts rows with one prepared statement per row where the engine offers it, else multi-row statements. */
export async function upsertRows(exec: SqlExec, head: string, tail: string, cols: number, rows: unknown[][]) {
  if (rows.length === 0) return;
  if (exec.runMany) {
    exec.runMany(`${head} VALUES ${rowMarks(1, cols)} ${tail}`, rows);
    return;
  }
  await inSlices(rows, cols, (slice) =>
    exec.query(`${head} VALUES ${rowMarks(slice.length, cols)} ${tail}`, slice.flat()),
  );
}

/** Adds signed deltas to the key and value counters, deleting rows that reach zero. */
export async function applyCountDeltas(
  exec: SqlExec,
  keyDeltas: Map<string, number>,
  valueDeltas: Map<string, number>,
): Promise<void> {
  const keys = [...keyDeltas].filter(([, d]) => d !== 0).map(([k, d]) => [...k.split("\u0000"), d]);
  const values = [...valueDeltas].filter(([, d]) => d !== 0).map(([k, d]) => [...k.split("\u0000"), d]);
  await upsertRows(
    exec,
    "INSERT INTO tag_keys (account_id, region, key, resources)",
    "ON CONFLICT (account_id, region, key) DO UPDATE SET resources = tag_keys.resources + excluded.resources",
    4,
    keys,
  );
  await upsertRows(
    exec,
    "INSERT INTO tag_values (account_id, region, key, value, resources)",
    "ON CONFLICT (account_id, region, key, value) DO UPDATE SET resources = tag_values.resources + excluded.resources",
    5,
    values,
  );
  if (keys.some((k) => (k[3] as number) < 0))
    await exec.query("DELETE FROM tag_keys WHERE resources <= 0", []);
  if (values.some((v) => (v[4] as number) < 0))
    await exec.query("DELETE FROM tag_values WHERE resources <= 0", []);
}

/** Counter map keys: NUL cannot occur in stored text (validation refuses it). */
export function counterKey(...parts: string[]): string {
  return parts.join("\u0000");
}

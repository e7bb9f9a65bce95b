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

/** The tag rows' columns, in key order. */
export const TAG_INSERT = "INSERT INTO tags (account_id, region, key, value, rid)";

/**
 * Deletes tag rows by their full key, `[account_id, region, key, value, rid]` each, one row per
 * statement: equality on every column of the primary key is a unique lookup however the planner
 * sees the table. (An OR of full keys, or `key = ANY(…) AND value = ANY(…)`, was planned on
 * PostgreSQL as a walk of the account's region in the index — 800 pages a delete at 10k resources.)
 */
export async function deleteTagRows(exec: SqlExec, rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const text = "DELETE FROM tags WHERE account_id = ? AND region = ? AND key = ? AND value = ? AND rid = ?";
  if (exec.runMany) {
    exec.runMany(text, rows);
    return;
  }
  for (const row of rows) await exec.query(text, row);
}

/** Changes to the key and value counters, gathered over a transaction and applied once at its end. */
export class CounterDeltas {
  readonly keys = new Map<string, number>();
  readonly values = new Map<string, number>();
  /** Per (account, region, key, value, service, resource type), for Alibaba resources only. */
  readonly typed = new Map<string, number>();
  /** The (account, region) scopes whose tag data changed. */
  readonly scopes = new Set<string>();

  private lastAccount?: string;
  private lastRegion?: string;
  private lastScope = "";

  /** The scope's counter-key prefix; consecutive calls on one scope (the usual case) build it once. */
  private scopeOf(accountId: string, region: string): string {
    if (accountId !== this.lastAccount || region !== this.lastRegion) {
      this.lastAccount = accountId;
      this.lastRegion = region;
      this.lastScope = counterKey(accountId, region);
      this.scopes.add(this.lastScope);
    }
    return this.lastScope;
  }

  touch(accountId: string, region: string): void {
    this.scopeOf(accountId, region);
  }

  key(accountId: string, region: string, key: string, d: number): void {
    const id = `${this.scopeOf(accountId, region)}\u0000${key}`;
    this.keys.set(id, (this.keys.get(id) ?? 0) + d);
  }

  /** `kind`, for the resources counted by type too (Alibaba's DescribeTags): see `countedKind`. */
  value(accountId: string, region: string, key: string, value: string, d: number, kind?: CountedKind): void {
    const id = `${this.scopeOf(accountId, region)}\u0000${key}\u0000${value}`;
    this.values.set(id, (this.values.get(id) ?? 0) + d);
    if (kind) {
      const typed = `${id}\u0000${kind.service}\u0000${kind.resourceType}`;
      this.typed.set(typed, (this.typed.get(typed) ?? 0) + d);
    }
  }

  add(other: CounterDeltas): void {
    for (const [k, d] of other.keys) this.keys.set(k, (this.keys.get(k) ?? 0) + d);
    for (const [k, d] of other.values) this.values.set(k, (this.values.get(k) ?? 0) + d);
    for (const [k, d] of other.typed) this.typed.set(k, (this.typed.get(k) ?? 0) + d);
    for (const scope of other.scopes) this.scopes.add(scope);
  }

  /** Applies the counters, then (when asked) raises the revision of every touched scope, in order. */
  async apply(exec: SqlExec, bumpRevisions: boolean): Promise<void> {
    await applyCountDeltas(exec, this.keys, this.values, this.typed);
    if (!bumpRevisions) return;
    for (const scope of [...this.scopes].sort()) {
      await exec.query(
        `INSERT INTO revisions (account_id, region, revision) VALUES (?, ?, 1)
         ON CONFLICT (account_id, region) DO UPDATE SET revision = revisions.revision + 1`,
        scope.split("\u0000"),
      );
    }
  }
}

/**
 * Adds signed deltas to the key and value counters, in key order (concurrent writers lock the shared
 * counter rows in the same order, so they cannot deadlock), then deletes the rows that reached zero
 * among those it lowered.
 */
export async function applyCountDeltas(
  exec: SqlExec,
  keyDeltas: Map<string, number>,
  valueDeltas: Map<string, number>,
  typedDeltas: Map<string, number> = new Map(),
): Promise<void> {
  const split = (m: Map<string, number>) =>
    [...m]
      .filter(([, d]) => d !== 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, d]) => [...k.split("\u0000"), d]);
  const keys = split(keyDeltas);
  const values = split(valueDeltas);
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
  const typed = split(typedDeltas);
  await upsertRows(
    exec,
    "INSERT INTO tag_type_values (account_id, region, key, value, service, resource_type, resources)",
    `ON CONFLICT (account_id, region, key, value, service, resource_type)
     DO UPDATE SET resources = tag_type_values.resources + excluded.resources`,
    7,
    typed,
  );
  for (const [account, region, key, value, service, type] of typed.filter((t) => (t[6] as number) < 0)) {
    await exec.query(
      `DELETE FROM tag_type_values WHERE account_id = ? AND region = ? AND key = ? AND value = ? AND service = ?
       AND resource_type = ? AND resources <= 0`,
      [account, region, key, value, service, type],
    );
  }
  for (const [account, region, key] of keys.filter((k) => (k[3] as number) < 0)) {
    await exec.query(
      "DELETE FROM tag_keys WHERE account_id = ? AND region = ? AND key = ? AND resources <= 0",
      [account, region, key],
    );
  }
  for (const [account, region, key, value] of values.filter((v) => (v[4] as number) < 0)) {
    await exec.query(
      "DELETE FROM tag_values WHERE account_id = ? AND region = ? AND key = ? AND value = ? AND resources <= 0",
      [account, region, key, value],
    );
  }
}

export interface CountedKind {
  service: string;
  resourceType: string;
}

/**
 * Alibaba resources are also counted per (key, value) by service and resource type, for DescribeTags'
 * ResourceTypeCount; AWS resources are not (no AWS action asks, and every counter costs each write).
 */
export function countedKind(row: {
  cloud: string;
  service: string;
  resource_type: string;
}): CountedKind | undefined {
  return row.cloud === "alibaba" ? { service: row.service, resourceType: row.resource_type } : undefined;
}

/** Counter map keys: NUL cannot occur in stored text (validation refuses it). */
export function counterKey(...parts: string[]): string {
  return parts.join("\u0000");
}

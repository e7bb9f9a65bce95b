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

/** One (account, region)'s key counter changes. */
interface ScopeDeltas {
  accountId: string;
  region: string;
  keys: Map<string, number>;
}

/**
 * Changes to the key counters (and Alibaba's typed value counters), gathered over a transaction and
 * applied once at its end.
 * Kept as maps within maps (scope, key, value) rather than under joined strings: an import adds one per
 * tag, and joining then hashing a new string each time cost more than the lookups.
 */
export class CounterDeltas {
  private readonly byScope = new Map<string, ScopeDeltas>();
  /** Per (account, region, key, value, service, resource type), for Alibaba resources only. */
  private readonly typed = new Map<string, number>();
  private last?: ScopeDeltas;

  /** The scope's deltas; consecutive calls on one scope (the usual case) find them at once. */
  private scopeOf(accountId: string, region: string): ScopeDeltas {
    const last = this.last;
    if (last && last.accountId === accountId && last.region === region) return last;
    const id = counterKey(accountId, region);
    let scope = this.byScope.get(id);
    if (!scope) {
      scope = { accountId, region, keys: new Map() };
      this.byScope.set(id, scope);
    }
    this.last = scope;
    return scope;
  }

  touch(accountId: string, region: string): void {
    this.scopeOf(accountId, region);
  }

  key(accountId: string, region: string, key: string, d: number): void {
    const keys = this.scopeOf(accountId, region).keys;
    keys.set(key, (keys.get(key) ?? 0) + d);
  }

  /**
   * A (key, value) pair gained or lost a resource. Only the resources counted by type (Alibaba's
   * DescribeTags, `kind`: see `countedKind`) keep per-value counters: the value listings and the filter
   * planner read the tag tree itself, so a new value costs no counter row in a tree of its own.
   */
  value(accountId: string, region: string, key: string, value: string, d: number, kind?: CountedKind): void {
    // The scope's revision rises (PostgreSQL) even when no key count changes.
    this.scopeOf(accountId, region);
    if (!kind) return;
    const typed = counterKey(accountId, region, key, value, kind.service, kind.resourceType);
    this.typed.set(typed, (this.typed.get(typed) ?? 0) + d);
  }

  add(other: CounterDeltas): void {
    for (const scope of other.byScope.values()) {
      this.touch(scope.accountId, scope.region);
      for (const [key, d] of scope.keys) this.key(scope.accountId, scope.region, key, d);
    }
    for (const [k, d] of other.typed) this.typed.set(k, (this.typed.get(k) ?? 0) + d);
  }

  /** Applies the counters, then (when asked) raises the revision of every touched scope, in order. */
  async apply(exec: SqlExec, bumpRevisions: boolean): Promise<void> {
    // Every list in key order (scopes, then keys: the order of the joined keys, since NUL sorts first
    // and never occurs in stored text), so concurrent writers lock alike.
    const scopes = [...this.byScope.keys()].sort().map((id) => this.byScope.get(id) as ScopeDeltas);
    const keys: unknown[][] = [];
    for (const { accountId, region, keys: keyDeltas } of scopes) {
      for (const key of [...keyDeltas.keys()].sort()) {
        const d = keyDeltas.get(key) as number;
        if (d !== 0) keys.push([accountId, region, key, d]);
      }
    }
    const typed: unknown[][] = [];
    for (const id of [...this.typed.keys()].sort()) {
      const d = this.typed.get(id) as number;
      if (d !== 0) typed.push([...id.split("\u0000"), d]);
    }
    // One account only: a distributed engine (docs/citus.md) routes such a statement to one node as a
    // whole; an import of several accounts' resources goes statement by statement.
    const oneAccount = scopes.every((scope) => scope.accountId === scopes[0]?.accountId);
    if (
      bumpRevisions &&
      scopes.length > 0 &&
      oneAccount &&
      keys.length * 4 + typed.length * 7 + scopes.length * 2 <= AT_ONCE_MAX_PARAMS
    ) {
      await countAndBumpAtOnce(exec, keys, typed, scopes);
      await deleteZeroCounts(exec, keys, typed);
      return;
    }
    await applyCountDeltas(exec, keys, typed);
    if (!bumpRevisions) return;
    for (const { accountId, region } of scopes) {
      await exec.query(
        `INSERT INTO revisions (account_id, region, revision) VALUES (?, ?, 1)
         ON CONFLICT (account_id, region) DO UPDATE SET revision = revisions.revision + 1`,
        [accountId, region],
      );
    }
  }
}

/** The counter upserts, as `upsertRows` takes them: the INSERT's head, the conflict clause after VALUES. */
const KEY_COUNT = {
  head: "INSERT INTO tag_keys (account_id, region, key, resources)",
  tail: "ON CONFLICT (account_id, region, key) DO UPDATE SET resources = tag_keys.resources + excluded.resources",
};
const TYPE_COUNT = {
  head: "INSERT INTO tag_type_values (account_id, region, key, value, service, resource_type, resources)",
  tail: `ON CONFLICT (account_id, region, key, value, service, resource_type)
     DO UPDATE SET resources = tag_type_values.resources + excluded.resources`,
};

/** Parameters of the one-statement counter write, at most; larger ones (imports) go statement by statement. */
const AT_ONCE_MAX_PARAMS = 2000;

/**
 * PostgreSQL: the counters and the scopes' revisions in one statement instead of one round trip
 * each (two per TagResources). The revisions are raised only after the counter CTEs have run — the
 * scalar subquery over their RETURNING rows is evaluated first (an unreferenced data-modifying CTE
 * would run after the main statement) — so the shared rows are locked in the same order as
 * statement by statement: key counters, typed counters, revisions, each list in key order.
 */
async function countAndBumpAtOnce(
  exec: SqlExec,
  keys: unknown[][],
  typed: unknown[][],
  scopes: { accountId: string; region: string }[],
): Promise<void> {
  const ctes: string[] = [];
  const waits: string[] = [];
  const params: unknown[] = [];
  if (keys.length > 0) {
    ctes.push(
      `counted_keys AS (${KEY_COUNT.head} VALUES ${rowMarks(keys.length, 4)} ${KEY_COUNT.tail} RETURNING 1)`,
    );
    waits.push("(SELECT count(*) FROM counted_keys)");
    params.push(...keys.flat());
  }
  if (typed.length > 0) {
    ctes.push(
      `counted_types AS (${TYPE_COUNT.head} VALUES ${rowMarks(typed.length, 7)} ${TYPE_COUNT.tail} RETURNING 1)`,
    );
    waits.push("(SELECT count(*) FROM counted_types)");
    params.push(...typed.flat());
  }
  for (const { accountId, region } of scopes) params.push(accountId, region);
  const rows = scopes.map(() => "(?::text, ?::text)").join(", ");
  await exec.query(
    `${ctes.length > 0 ? `WITH ${ctes.join(",\n")}\n` : ""}INSERT INTO revisions (account_id, region, revision)
     SELECT scope.account_id, scope.region, 1 FROM (VALUES ${rows}) AS scope(account_id, region)
     ${waits.length > 0 ? `WHERE ${waits.join(" + ")} >= 0` : ""}
     ON CONFLICT (account_id, region) DO UPDATE SET revision = revisions.revision + 1`,
    params,
  );
}

/**
 * Adds signed deltas to the key and typed value counters — rows of the counter's key columns then the
 * delta, in key order (concurrent writers lock the shared counter rows in the same order, so they
 * cannot deadlock) — then deletes the rows that reached zero among those it lowered.
 */
async function applyCountDeltas(exec: SqlExec, keys: unknown[][], typed: unknown[][]): Promise<void> {
  await upsertRows(exec, KEY_COUNT.head, KEY_COUNT.tail, 4, keys);
  await upsertRows(exec, TYPE_COUNT.head, TYPE_COUNT.tail, 7, typed);
  await deleteZeroCounts(exec, keys, typed);
}

/** Deletes the counter rows that reached zero among those the deltas lowered. */
async function deleteZeroCounts(exec: SqlExec, keys: unknown[][], typed: unknown[][]): Promise<void> {
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

import type { Tag } from "../../domain/resource.ts";
import type { TagChange, TagChangeResult } from "../store.ts";
import { type CounterDeltas, countedKind, deleteTagRows, TAG_INSERT, upsertRows } from "./bulk.ts";
import type { ComplianceKeeper } from "./compliance.ts";
import type { SqlExec } from "./engine.ts";
import {
  decodeTags,
  encodeTags,
  RESOURCE_COLUMN_COUNT,
  RESOURCE_COLUMNS,
  RESOURCE_SELECT,
  type ResourceRow,
  resourceValues,
  toRecord,
} from "./rows.ts";
import { rowMarks } from "./text.ts";

const INSERT_RESOURCE = `INSERT INTO resources (${RESOURCE_COLUMNS}) VALUES ${rowMarks(1, RESOURCE_COLUMN_COUNT)}
  ON CONFLICT (account_id, name) DO NOTHING RETURNING ${RESOURCE_SELECT}`;
const UPDATE_RESOURCE =
  "UPDATE resources SET tagged = ?, tag_count = ?, tags_json = ? WHERE account_id = ? AND rid = ?";
/**
 * The same without `tagged`: SQLite rewrites an index holding a column named in SET (its entry deleted
 * and inserted again) even when the value stays, and the listing index holds `tagged`. (PostgreSQL
 * compares the values before touching an index; there this only saves a parameter.)
 */
const UPDATE_TAGS = "UPDATE resources SET tag_count = ?, tags_json = ? WHERE account_id = ? AND rid = ?";

/**
 * PostgreSQL: a changed resource's whole write in one statement — the tag rows that go, the ones that
 * come and its own row — where the statements one at a time cost a round trip each (~60-140 µs here,
 * and on tagd's side a socket write: a quarter of its time in TagResources). Data-modifying CTEs all
 * run, to completion, whether the outer statement reads them or not; the rows that go and the ones
 * that come never overlap (a replaced key's old value goes, its new one comes), so one snapshot is
 * safe. Every row that goes is deleted by its whole key, one CTE each: a join of the key against a
 * list was planned as a walk of the account's region while the table had no statistics yet (as after
 * a bulk import). Parameters: $1 account, $2 region, $3 rid, $4 tagged, $5 tag count, $6 tags JSON,
 * then a (key, value) pair per row that goes and per row that comes. One text per pair of counts.
 */
function writeAtOnce(gone: number, added: number): string {
  const id = `${gone}/${added}`;
  let text = writeTexts.get(id);
  if (text !== undefined) return text;
  let n = 6;
  const pair = () => {
    n += 2;
    return [`$${n - 1}`, `$${n}`];
  };
  const ctes: string[] = [];
  for (let i = 0; i < gone; i++) {
    const [key, value] = pair();
    ctes.push(`gone${i} AS (DELETE FROM tags WHERE account_id = $1 AND region = $2 AND key = ${key}
      AND value = ${value} AND rid = $3)`);
  }
  if (added > 0) {
    const rows: string[] = [];
    for (let i = 0; i < added; i++) {
      const [key, value] = pair();
      rows.push(`($1, $2, ${key}, ${value}, $3)`);
    }
    ctes.push(`added AS (INSERT INTO tags (account_id, region, key, value, rid) VALUES ${rows.join(", ")}
      ON CONFLICT DO NOTHING)`);
  }
  text = `${ctes.length > 0 ? `WITH ${ctes.join(",\n  ")}\n` : ""}UPDATE resources SET tagged = $4, tag_count = $5, tags_json = $6 WHERE account_id = $1 AND rid = $3`;
  if (writeTexts.size < 1024) writeTexts.set(id, text);
  return text;
}
const writeTexts = new Map<string, string>();

function asList(m: Map<string, string>): Tag[] {
  return [...m].map(([key, value]) => ({ key, value }));
}

/**
 * One resource's tag change, inside the caller's write transaction: lock (or register) the row, read
 * its tags, let the domain check the result, then write only what differs in a few statements — the
 * removed tag rows, the set ones and the resource's own tag list. The key counters (what
 * keeps GetTagKeys from scanning) change by `deltas`, which the caller applies at the
 * end of the transaction: the counter rows every writer shares are then locked last, in key order,
 * and for the shortest time.
 */
export class TagWriter {
  private readonly selectResource: string;

  constructor(
    rowLocks: boolean,
    private readonly compliance: ComplianceKeeper,
    /** Write a changed resource in one statement (SqlEngine.writesAtOnce; see writeAtOnce). */
    private readonly atOnce = false,
  ) {
    this.selectResource = `SELECT ${RESOURCE_SELECT} FROM resources WHERE account_id = ? AND name = ?${rowLocks ? " FOR UPDATE" : ""}`;
  }

  async apply(
    tx: SqlExec,
    accountId: string,
    change: TagChange,
    deltas: CounterDeltas,
  ): Promise<TagChangeResult> {
    const name = change.resource.name;
    let [row] = await tx.query<ResourceRow>(this.selectResource, [accountId, name]);
    if (!row) {
      if (!change.register)
        return { ok: false, kind: "ResourceNotFound", message: `resource ${name} not found` };
      // In the account the change is applied for, as the lookup above.
      [row] = await tx.query<ResourceRow>(INSERT_RESOURCE, resourceValues({ ...change.resource, accountId }));
      // Registered by a concurrent writer between the two statements: take its row, locked.
      if (!row) [row] = await tx.query<ResourceRow>(this.selectResource, [accountId, name]);
      if (!row) throw new Error(`resource ${name} vanished during registration`);
    }
    const current = decodeTags(row.tags_json);
    const next = new Map(change.removeAll ? [] : current);
    for (const key of change.remove) next.delete(key);
    for (const t of change.set) next.set(t.key, t.value);

    const refusal = change.check?.(asList(current), asList(next), toRecord(row));
    if (typeof refusal === "string") return { ok: false, kind: "TagLimitExceeded", message: refusal };
    if (refusal) return { ok: false, ...refusal };
    // After the lock and before any write: a refusal writes nothing. An account without a policy pays
    // one read of the policy revision here.
    const policy = await this.compliance.policyFor(tx, accountId);
    if (policy && change.enforce) {
      const violation = policy.refuse(change.set, { service: row.service, resourceType: row.resource_type });
      if (violation) return { ok: false, ...violation };
    }

    const removed = [...current].filter(([key]) => !next.has(key));
    const written = [...next].filter(([key, value]) => current.get(key) !== value);
    const changed = removed.length > 0 || written.length > 0;
    const tagged = row.tagged === 1 || next.size > 0 ? 1 : 0;
    if (changed && this.atOnce) {
      const { gone, added } = this.tagRows(accountId, row, current, removed, written, deltas);
      await tx.query(writeAtOnce(gone.length, added.length), [
        accountId,
        row.region,
        row.rid,
        tagged,
        next.size,
        encodeTags(next),
        ...gone.flat(),
        ...added.flat(),
      ]);
    } else {
      if (tagged !== row.tagged) {
        await tx.query(UPDATE_RESOURCE, [
          tagged,
          next.size,
          changed ? encodeTags(next) : row.tags_json,
          accountId,
          row.rid,
        ]);
      } else if (changed) {
        await tx.query(UPDATE_TAGS, [next.size, encodeTags(next), accountId, row.rid]);
      }
      if (changed) await this.writeTags(tx, accountId, row, current, removed, written, deltas);
    }
    if (changed && policy) await this.compliance.record(tx, policy, accountId, row, asList(next));
    return { ok: true, resource: toRecord(row), tags: asList(next) };
  }

  /** Removes every tag of a resource that is being deregistered, with their counts. */
  async dropAll(
    tx: SqlExec,
    accountId: string,
    row: Pick<ResourceRow, "rid" | "region" | "tags_json" | "cloud" | "service" | "resource_type">,
    deltas: CounterDeltas,
  ) {
    const current = decodeTags(row.tags_json);
    await this.writeTags(tx, accountId, row, current, [...current], [], deltas);
  }

  private async writeTags(
    tx: SqlExec,
    accountId: string,
    row: Pick<ResourceRow, "rid" | "region" | "cloud" | "service" | "resource_type">,
    current: Map<string, string>,
    removed: [string, string][],
    written: [string, string][],
    deltas: CounterDeltas,
  ): Promise<void> {
    const { rid, region } = row;
    const { gone, added } = this.tagRows(accountId, row, current, removed, written, deltas);
    await deleteTagRows(
      tx,
      gone.map(([key, value]) => [accountId, region, key, value, rid]),
    );
    await upsertRows(
      tx,
      TAG_INSERT,
      "ON CONFLICT DO NOTHING",
      5,
      added.map(([key, value]) => [accountId, region, key, value, rid]),
    );
  }

  /**
   * The (key, value) rows a change removes and adds — rows are keyed by value, so a replaced value's
   * row goes like a removed key's — with their counter changes added to `deltas`.
   */
  private tagRows(
    accountId: string,
    row: Pick<ResourceRow, "region" | "cloud" | "service" | "resource_type">,
    current: Map<string, string>,
    removed: [string, string][],
    written: [string, string][],
    deltas: CounterDeltas,
  ): { gone: [string, string][]; added: [string, string][] } {
    const { region } = row;
    const kind = countedKind(row);
    const gone: [string, string][] = [];
    for (const [key, value] of removed) {
      gone.push([key, value]);
      deltas.key(accountId, region, key, -1);
      deltas.value(accountId, region, key, value, -1, kind);
    }
    for (const [key, value] of written) {
      const old = current.get(key);
      if (old === undefined) deltas.key(accountId, region, key, 1);
      else {
        gone.push([key, old]);
        deltas.value(accountId, region, key, old, -1, kind);
      }
      deltas.value(accountId, region, key, value, 1, kind);
    }
    return { gone, added: written };
  }
}

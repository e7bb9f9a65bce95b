import type { Tag } from "../../domain/resource.ts";
import { DomainError } from "../../errors.ts";
import type { AccountPolicy, ImportResult, ResourceImport } from "../store.ts";
import { CounterDeltas, countedKind, deleteTagRows, TAG_INSERT, upsertRows } from "./bulk.ts";
import type { ComplianceKeeper } from "./compliance.ts";
import type { SqlExec } from "./engine.ts";
import { chunks, decodeTags, encodeTags, groupNames, toRow } from "./rows.ts";
import { marks, rowMarks } from "./text.ts";

const CHUNK = 500;

function laterHasKey(tags: Tag[], i: number, key: string): boolean {
  for (let j = i + 1; j < tags.length; j++) if ((tags[j] as Tag).key === key) return true;
  return false;
}

type TagRow = [accountId: string, region: string, key: string, value: string, rid: number];

/**
 * The rows in the tree's order, (account, region, key) then value, for locality only: grouped through
 * hash maps and ordered with the built-in string sort, several times cheaper than a comparator called on
 * every pair of tuples (a call holds hundreds of thousands of rows). JavaScript's string order is not
 * quite the engines' byte order; that costs a page here and there, never a wrong row.
 */
function sortRows(rows: TagRow[]): TagRow[] {
  const groups = new Map<string, Map<string, TagRow[]>>();
  for (const row of rows) {
    const scopeKey = `${row[0]}\u0000${row[1]}\u0000${row[2]}`;
    let byValue = groups.get(scopeKey);
    if (!byValue) {
      byValue = new Map();
      groups.set(scopeKey, byValue);
    }
    const same = byValue.get(row[3]);
    if (same) same.push(row);
    else byValue.set(row[3], [row]);
  }
  const out: TagRow[] = [];
  for (const scopeKey of [...groups.keys()].sort()) {
    const byValue = groups.get(scopeKey) as Map<string, TagRow[]>;
    for (const value of [...byValue.keys()].sort())
      for (const row of byValue.get(value) as TagRow[]) out.push(row);
  }
  return out;
}

/**
 * Registers resources in bulk inside the caller's write transaction and merges the tags that come
 * with them. Written for millions of rows: per 500 resources one read of what exists, one multi-row
 * upsert, the tag rows in index order, and the key and value counters adjusted once at the end.
 */
export async function importResources(
  exec: SqlExec,
  rowLocks: boolean,
  bumpRevisions: boolean,
  items: ResourceImport[],
  compliance: ComplianceKeeper,
): Promise<ImportResult> {
  let created = 0;
  const tagRows: TagRow[] = [];
  const replaced: TagRow[] = [];
  const deltas = new CounterDeltas();
  const lock = rowLocks ? " FOR UPDATE" : "";

  for (const chunk of chunks(items, CHUNK)) {
    const existing = new Map<string, { tagged: number; tags: Map<string, string> }>();
    for (const [accountId, names] of groupNames(chunk.map((i) => i.resource))) {
      const rows = await exec.query<{ name: string; tagged: number; tags_json: string }>(
        `SELECT name, tagged, tags_json FROM resources WHERE account_id = ? AND name IN (${marks(names.length)})${lock}`,
        [accountId, ...names],
      );
      for (const r of rows)
        existing.set(`${accountId}\n${r.name}`, { tagged: r.tagged, tags: decodeTags(r.tags_json) });
    }
    const finals = chunk.map((item) => {
      const before = existing.get(`${item.resource.accountId}\n${item.resource.name}`);
      const tags = new Map(before?.tags ?? []);
      for (const t of item.tags ?? []) tags.set(t.key, t.value);
      if (item.maxTags !== undefined && tags.size > item.maxTags) {
        throw new DomainError(
          "InvalidParameter",
          `${item.resource.name} would have ${tags.size} tags; at most ${item.maxTags} are allowed`,
        );
      }
      return { item, before, tags };
    });
    created += finals.filter((f) => !f.before).length;

    const rows = finals.map(({ item, before, tags }) => {
      const r = toRow(item.resource);
      return [
        r.account_id,
        r.cloud,
        r.region,
        r.partition,
        r.service,
        r.resource_type,
        r.resource_id,
        r.name,
        r.resource_group_id,
        r.state,
        (before?.tagged ?? 0) === 1 || tags.size > 0 ? 1 : 0,
        tags.size,
        encodeTags(tags),
      ];
    });
    const upserted = await exec.query<{
      rid: number;
      account_id: string;
      name: string;
      region: string;
      cloud: string;
      service: string;
      resource_type: string;
    }>(
      `INSERT INTO resources (account_id, cloud, region, partition, service, resource_type, resource_id, name,
         resource_group_id, state, tagged, tag_count, tags_json)
       VALUES ${rowMarks(rows.length, 13)}
       ON CONFLICT (account_id, name) DO UPDATE SET
         resource_group_id = COALESCE(excluded.resource_group_id, resources.resource_group_id),
         state = COALESCE(excluded.state, resources.state),
         tagged = excluded.tagged,
         tag_count = excluded.tag_count,
         tags_json = excluded.tags_json
       RETURNING rid, account_id, name, region, cloud, service, resource_type`,
      rows.flat(),
    );
    const ridOf = new Map(upserted.map((u) => [`${u.account_id}\n${u.name}`, u]));
    // The chunk's rows are locked (or new) by now: the policy revision read here is safe (compliance.ts).
    const policies = new Map<string, AccountPolicy | null>();
    for (const accountId of new Set(chunk.map((i) => i.resource.accountId)))
      policies.set(accountId, await compliance.policyFor(exec, accountId));

    for (const { item, before, tags } of finals) {
      if (!item.tags?.length) continue;
      const at = ridOf.get(`${item.resource.accountId}\n${item.resource.name}`);
      if (!at) throw new Error(`upsert returned no row for ${item.resource.name}`);
      const rid = Number(at.rid);
      const kind = countedKind(at);
      const policy = policies.get(at.account_id);
      if (policy) {
        const list = [...tags].map(([key, value]) => ({ key, value }));
        await compliance.record(exec, policy, at.account_id, { ...at, rid }, list);
      }
      const given = item.tags;
      for (let i = 0; i < given.length; i++) {
        const key = (given[i] as Tag).key;
        // A key given twice in one item: its last value stands, written once.
        if (laterHasKey(given, i, key)) continue;
        const value = tags.get(key) as string;
        const old = before?.tags.get(key);
        if (old === value) continue;
        tagRows.push([at.account_id, at.region, key, value, rid]);
        if (old === undefined) deltas.key(at.account_id, at.region, key, 1);
        else {
          replaced.push([at.account_id, at.region, key, old, rid]);
          deltas.value(at.account_id, at.region, key, old, -1, kind);
        }
        deltas.value(at.account_id, at.region, key, value, 1, kind);
      }
    }
  }
  // The whole call's tag rows in the tree's order: consecutive rows land on the same pages of the tree,
  // which at millions of tags no longer fits in the page cache.
  await deleteTagRows(exec, sortRows(replaced));
  await upsertRows(exec, TAG_INSERT, "ON CONFLICT DO NOTHING", 5, sortRows(tagRows));
  await deltas.apply(exec, bumpRevisions);
  return { created, updated: items.length - created, tags: tagRows.length };
}

import { innerMap } from "../../bounded-map.ts";
import type { Tag } from "../../domain/resource.ts";
import { DomainError } from "../../errors.ts";
import { nextTurn } from "../../turns.ts";
import type { AccountPolicy, ImportResult, ResourceImport } from "../store.ts";
import { CounterDeltas, countedKind, deleteTagRows, TAG_INSERT, upsertRows } from "./bulk.ts";
import type { ComplianceKeeper } from "./compliance.ts";
import type { SqlExec } from "./engine.ts";
import {
  chunks,
  decodeTags,
  encodeTags,
  groupNames,
  RESOURCE_COLUMN_COUNT,
  RESOURCE_COLUMNS,
  resourceValues,
} from "./rows.ts";
import { marks, rowMarks } from "./text.ts";

const CHUNK = 500;
/**
 * Tag rows per insert, with a turn of the event loop between two (see `nextTurn`): ~25 ms of SQLite
 * work at a million resources, where a call's whole insert took ~300 ms. (Slices of 8,192 took 40–70
 * ms each, as long as the commit, the longest piece left.)
 */
const TAG_SLICE = 4096;

/**
 * The item's keys, each once. A resource's few tags are compared pairwise; a long list (merged
 * duplicates of one resource) goes through a set, so that it costs linear time.
 */
function distinctKeys(tags: Tag[]): string[] {
  if (tags.length > 16) return [...new Set(tags.map((t) => t.key))];
  const out: string[] = [];
  for (let i = 0; i < tags.length; i++) {
    const key = (tags[i] as Tag).key;
    let later = false;
    for (let j = i + 1; j < tags.length && !later; j++) later = (tags[j] as Tag).key === key;
    if (!later) out.push(key);
  }
  return out;
}

type TagRow = [accountId: string, region: string, key: string, value: string, rid: number];

/** What the upsert answers for each resource row. */
interface Registered {
  rid: number;
  account_id: string;
  name: string;
  region: string;
  cloud: string;
  service: string;
  resource_type: string;
}

/**
 * The rows in the tree's order, (account, region, key) then value, for locality only: grouped through
 * hash maps and ordered with the built-in string sort, several times cheaper than a comparator called on
 * every pair of tuples (a call holds hundreds of thousands of rows). JavaScript's string order is not
 * quite the engines' byte order; that costs a page here and there, never a wrong row.
 */
function sortRows(rows: TagRow[]): TagRow[] {
  // account → region → key → value → rows; each level sorted on its own gives the order of the
  // NUL-joined tuple (NUL sorts first and never occurs in stored text) without joining strings.
  const tree = new Map<string, Map<string, Map<string, Map<string, TagRow[]>>>>();
  for (const row of rows) {
    const byRegion = innerMap(tree, row[0]);
    const byKey = innerMap(byRegion, row[1]);
    const byValue = innerMap(byKey, row[2]);
    const same = byValue.get(row[3]);
    if (same) same.push(row);
    else byValue.set(row[3], [row]);
  }
  const out: TagRow[] = [];
  for (const byRegion of sortedValues(tree))
    for (const byKey of sortedValues(byRegion))
      for (const byValue of sortedValues(byKey))
        for (const same of sortedValues(byValue)) for (const row of same) out.push(row);
  return out;
}

function sortedValues<V>(map: Map<string, V>): V[] {
  return [...map.keys()].sort().map((k) => map.get(k) as V);
}

/**
 * Registers resources in bulk inside the caller's write transaction and merges the tags that come
 * with them. Written for millions of rows: per 500 resources one read of what exists, one multi-row
 * upsert, the tag rows in index order, and the key (and Alibaba typed) counters adjusted once at the end.
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

  for (const [n, chunk] of chunks(items, CHUNK).entries()) {
    // Other requests are answered between two chunks (~25 ms each at a million resources, on SQLite)
    // rather than after the whole call; writes among them wait for this transaction, as before.
    if (n > 0) await nextTurn();
    // Keyed by account, then name: the names are the parsed body's strings, hashed once.
    const existing = new Map<string, Map<string, { tagged: number; tags: Map<string, string> }>>();
    for (const [accountId, names] of groupNames(chunk.map((i) => i.resource))) {
      const ofAccount = innerMap(existing, accountId);
      const rows = await exec.query<{ name: string; tagged: number; tags_json: string }>(
        `SELECT name, tagged, tags_json FROM resources WHERE account_id = ? AND name IN (${marks(names.length)})${lock}`,
        [accountId, ...names],
      );
      for (const r of rows) ofAccount.set(r.name, { tagged: r.tagged, tags: decodeTags(r.tags_json) });
    }
    const finals = chunk.map((item) => {
      const before = existing.get(item.resource.accountId)?.get(item.resource.name);
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

    const rows = finals.map(({ item, before, tags }) => [
      ...resourceValues(item.resource),
      (before?.tagged ?? 0) === 1 || tags.size > 0 ? 1 : 0,
      tags.size,
      encodeTags(tags),
    ]);
    // The stored row's own region and kind (a region-less ARN keeps the region it was first registered
    // in; a row stored by another version may have been classified otherwise): the counters and the
    // compliance record follow the row, as the tag writer's do.
    const upserted = await exec.query<Registered>(
      `INSERT INTO resources (${RESOURCE_COLUMNS}, tagged, tag_count, tags_json)
       VALUES ${rowMarks(rows.length, RESOURCE_COLUMN_COUNT + 3)}
       ON CONFLICT (account_id, name) DO UPDATE SET
         resource_group_id = COALESCE(excluded.resource_group_id, resources.resource_group_id),
         state = COALESCE(excluded.state, resources.state),
         tagged = excluded.tagged,
         tag_count = excluded.tag_count,
         tags_json = excluded.tags_json
       RETURNING rid, account_id, name, region, cloud, service, resource_type`,
      rows.flat(),
    );
    const ridOf = new Map<string, Map<string, Registered>>();
    for (const u of upserted) innerMap(ridOf, u.account_id).set(u.name, u);
    // The chunk's rows are locked (or new) by now: the policy revision read here is safe (compliance.ts).
    const policies = new Map<string, AccountPolicy | null>();
    for (const accountId of new Set(chunk.map((i) => i.resource.accountId)))
      policies.set(accountId, await compliance.policyFor(exec, accountId));

    for (const { item, before, tags } of finals) {
      if (!item.tags?.length) continue;
      const r = item.resource;
      const row = ridOf.get(r.accountId)?.get(r.name);
      if (!row) throw new Error(`upsert returned no row for ${r.name}`);
      const rid = Number(row.rid);
      const region = row.region;
      const kind = countedKind(row);
      const policy = policies.get(r.accountId);
      if (policy) {
        const list = [...tags].map(([key, value]) => ({ key, value }));
        await compliance.record(exec, policy, r.accountId, { ...row, rid }, list);
      }
      // A key given twice in one item: its last value stands (in `tags`), written once.
      for (const key of distinctKeys(item.tags)) {
        const value = tags.get(key) as string;
        const old = before?.tags.get(key);
        if (old === value) continue;
        tagRows.push([r.accountId, region, key, value, rid]);
        if (old === undefined) deltas.key(r.accountId, region, key, 1);
        else {
          replaced.push([r.accountId, region, key, old, rid]);
          deltas.value(r.accountId, region, key, old, -1, kind);
        }
        deltas.value(r.accountId, region, key, value, 1, kind);
      }
    }
  }
  // The whole call's tag rows in the tree's order: consecutive rows land on the same pages of the tree,
  // which at millions of tags no longer fits in the page cache.
  await deleteTagRows(exec, sortRows(replaced));
  for (const slice of chunks(sortRows(tagRows), TAG_SLICE)) {
    await nextTurn();
    await upsertRows(exec, TAG_INSERT, "ON CONFLICT DO NOTHING", 5, slice);
  }
  await deltas.apply(exec, bumpRevisions);
  return { created, updated: items.length - created, tags: tagRows.length };
}

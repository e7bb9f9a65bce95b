import type { Tag } from "../../domain/resource.ts";
import { DomainError } from "../../errors.ts";
import type { ImportResult, ResourceImport } from "../store.ts";
import { CounterDeltas, countedKind, deleteTagRows, TAG_INSERT, upsertRows } from "./bulk.ts";
import type { ComplianceKeeper } from "./compliance.ts";
import type { SqlExec } from "./engine.ts";
import { chunks, compareText, decodeTags, encodeTags, groupNames, toRow } from "./rows.ts";
import { marks, rowMarks } from "./text.ts";

const CHUNK = 500;

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
  const tagRows: [string, string, string, string, number][] = [];
  const replaced: [string, string, string, string, number][] = [];
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
    /** The chunk's resources whose tags this import sets, by account, for the compliance records. */
    const evaluate = new Map<
      string,
      { rid: number; region: string; service: string; resource_type: string; tags: Tag[] }[]
    >();

    for (const { item, before, tags } of finals) {
      if (!item.tags?.length) continue;
      const at = ridOf.get(`${item.resource.accountId}\n${item.resource.name}`);
      if (!at) throw new Error(`upsert returned no row for ${item.resource.name}`);
      const kind = countedKind(at);
      const list = evaluate.get(at.account_id) ?? [];
      list.push({
        rid: Number(at.rid),
        region: at.region,
        service: at.service,
        resource_type: at.resource_type,
        tags: [...tags].map(([key, value]) => ({ key, value })),
      });
      evaluate.set(at.account_id, list);
      for (const key of new Set(item.tags.map((t: Tag) => t.key))) {
        const value = tags.get(key) as string;
        const old = before?.tags.get(key);
        if (old === value) continue;
        tagRows.push([at.account_id, at.region, key, value, Number(at.rid)]);
        if (old === undefined) deltas.key(at.account_id, at.region, key, 1);
        else {
          replaced.push([at.account_id, at.region, key, old, Number(at.rid)]);
          deltas.value(at.account_id, at.region, key, old, -1, kind);
        }
        deltas.value(at.account_id, at.region, key, value, 1, kind);
      }
    }
    // The chunk's rows are locked (or new) by now: the policy revision read here is safe (compliance.ts).
    for (const [accountId, list] of evaluate) {
      const policy = await compliance.policyFor(exec, accountId);
      if (!policy) continue;
      for (const row of list) await compliance.record(exec, policy, accountId, row, row.tags);
    }
  }
  // The whole call's tag rows in key order: consecutive rows land on the same pages of the tree, which
  // at millions of tags no longer fits in the page cache.
  const byKey = (a: (typeof tagRows)[number], b: (typeof tagRows)[number]) =>
    compareText(a[0], b[0]) ||
    compareText(a[1], b[1]) ||
    compareText(a[2], b[2]) ||
    compareText(a[3], b[3]) ||
    a[4] - b[4];
  await deleteTagRows(exec, replaced.sort(byKey));
  await upsertRows(exec, TAG_INSERT, "ON CONFLICT DO NOTHING", 5, tagRows.sort(byKey));
  await deltas.apply(exec, bumpRevisions);
  return { created, updated: items.length - created, tags: tagRows.length };
}

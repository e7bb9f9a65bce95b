import type { Tag } from "../../domain/resource.ts";
import type { TagChange, TagChangeResult } from "../store.ts";
import type { SqlExec } from "./engine.ts";
import { decodeTags, encodeTags, RESOURCE_SELECT, type ResourceRow, toRecord } from "./rows.ts";

const INSERT_RESOURCE = `INSERT INTO resources (account_id, cloud, region, partition, service, resource_type,
  resource_id, name, resource_group_id, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (account_id, name) DO NOTHING RETURNING ${RESOURCE_SELECT}`;
const UPDATE_RESOURCE =
  "UPDATE resources SET tagged = ?, tag_count = ?, tags_json = ? WHERE account_id = ? AND rid = ?";
const INSERT_TAG = "INSERT INTO tags (account_id, rid, region, key, value) VALUES (?, ?, ?, ?, ?)";
const UPDATE_TAG = "UPDATE tags SET value = ? WHERE account_id = ? AND rid = ? AND key = ?";
const DELETE_TAG = "DELETE FROM tags WHERE account_id = ? AND rid = ? AND key = ?";
const KEY_UP = `INSERT INTO tag_keys (account_id, region, key, resources) VALUES (?, ?, ?, 1)
  ON CONFLICT (account_id, region, key) DO UPDATE SET resources = tag_keys.resources + 1`;
const KEY_DOWN =
  "UPDATE tag_keys SET resources = resources - 1 WHERE account_id = ? AND region = ? AND key = ? RETURNING resources";
const KEY_DROP = "DELETE FROM tag_keys WHERE account_id = ? AND region = ? AND key = ? AND resources <= 0";
const VALUE_UP = `INSERT INTO tag_values (account_id, region, key, value, resources) VALUES (?, ?, ?, ?, 1)
  ON CONFLICT (account_id, region, key, value) DO UPDATE SET resources = tag_values.resources + 1`;
const VALUE_DOWN = `UPDATE tag_values SET resources = resources - 1
  WHERE account_id = ? AND region = ? AND key = ? AND value = ? RETURNING resources`;
const VALUE_DROP =
  "DELETE FROM tag_values WHERE account_id = ? AND region = ? AND key = ? AND value = ? AND resources <= 0";

/**
 * One resource's tag change, inside the caller's write transaction: lock (or register) the row, read
 * its tags, let the domain check the result, then write only what differs — the tag rows, the key and
 * value counters, and the resource's own tag list — so GetTagKeys / GetTagValues never scan.
 */
export class TagWriter {
  private readonly selectResource: string;

  constructor(rowLocks: boolean) {
    this.selectResource = `SELECT ${RESOURCE_SELECT} FROM resources WHERE account_id = ? AND name = ?${rowLocks ? " FOR UPDATE" : ""}`;
  }

  async apply(tx: SqlExec, accountId: string, change: TagChange): Promise<TagChangeResult> {
    const name = change.resource.name;
    let [row] = await tx.query<ResourceRow>(this.selectResource, [accountId, name]);
    if (!row) {
      if (!change.register)
        return { ok: false, kind: "ResourceNotFound", message: `resource ${name} not found` };
      const r = change.resource;
      [row] = await tx.query<ResourceRow>(INSERT_RESOURCE, [
        accountId,
        r.cloud,
        r.region,
        r.partition,
        r.service,
        r.resourceType,
        r.resourceId,
        name,
        r.resourceGroupId,
        r.state,
      ]);
      // Registered by a concurrent writer between the two statements: take its row, locked.
      if (!row) [row] = await tx.query<ResourceRow>(this.selectResource, [accountId, name]);
      if (!row) throw new Error(`resource ${name} vanished during registration`);
    }
    const { rid, region } = row;
    const current = decodeTags(row.tags_json);
    const next = new Map(change.removeAll ? [] : current);
    for (const key of change.remove) next.delete(key);
    for (const t of change.set) next.set(t.key, t.value);

    const asList = (m: Map<string, string>): Tag[] => [...m].map(([key, value]) => ({ key, value }));
    const refusal = change.check?.(asList(current), asList(next));
    if (refusal) return { ok: false, kind: "TagLimitExceeded", message: refusal };

    let changed = false;
    for (const [key, value] of current) {
      if (next.has(key)) continue;
      changed = true;
      await this.removeTag(tx, accountId, rid, region, key, value);
    }
    for (const [key, value] of next) {
      const old = current.get(key);
      if (old === value) continue;
      changed = true;
      if (old === undefined) {
        await tx.query(INSERT_TAG, [accountId, rid, region, key, value]);
        await tx.query(KEY_UP, [accountId, region, key]);
      } else {
        await tx.query(UPDATE_TAG, [value, accountId, rid, key]);
        await this.valueDown(tx, accountId, region, key, old);
      }
      await tx.query(VALUE_UP, [accountId, region, key, value]);
    }
    const tagged = row.tagged === 1 || next.size > 0 ? 1 : 0;
    const tagsJson = changed ? encodeTags(next) : row.tags_json;
    if (changed || tagged !== row.tagged) {
      await tx.query(UPDATE_RESOURCE, [tagged, next.size, tagsJson, accountId, rid]);
    }
    return { ok: true, resource: toRecord(row), tags: asList(next) };
  }

  /** Removes every tag of a resource that is being deregistered, with their counts. */
  async dropAll(tx: SqlExec, accountId: string, row: Pick<ResourceRow, "rid" | "region" | "tags_json">) {
    for (const [key, value] of decodeTags(row.tags_json)) {
      await this.removeTag(tx, accountId, row.rid, row.region, key, value);
    }
  }

  private async removeTag(
    tx: SqlExec,
    accountId: string,
    rid: number,
    region: string,
    key: string,
    value: string,
  ) {
    await tx.query(DELETE_TAG, [accountId, rid, key]);
    await this.valueDown(tx, accountId, region, key, value);
    const [k] = await tx.query<{ resources: number }>(KEY_DOWN, [accountId, region, key]);
    if (k && k.resources <= 0) await tx.query(KEY_DROP, [accountId, region, key]);
  }

  private async valueDown(tx: SqlExec, accountId: string, region: string, key: string, value: string) {
    const [v] = await tx.query<{ resources: number }>(VALUE_DOWN, [accountId, region, key, value]);
    if (v && v.resources <= 0) await tx.query(VALUE_DROP, [accountId, region, key, value]);
  }
}

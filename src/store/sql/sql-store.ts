import { type Expression, type Kysely, Migrator, type SqlBool, sql, type Transaction } from "kysely";
import type { ResourceRecord, Tag, TaggedResource } from "../../domain/resource.ts";
import { DomainError } from "../../errors.ts";
import { type EngineName, migrations } from "../migrations/index.ts";
import type {
  ImportResult,
  InventoryQuery,
  KeyQuery,
  Page,
  ResourceImport,
  ResourceKey,
  TagChange,
  TagChangeResult,
  TaggedQuery,
  TagStore,
  ValueQuery,
} from "../store.ts";
import { applyCountDeltas, counterKey, inSlices, placeholders, run } from "./bulk.ts";
import { SqlJobQueue } from "./jobs.ts";
import type { DB } from "./schema.ts";

type Conn = Kysely<DB> | Transaction<DB>;

/** What differs between the engines behind the shared SQL: how a write transaction starts, locking. */
export interface SqlEngine {
  name: EngineName;
  /** Runs `fn` in a write transaction that serialises with other writers of the same resource. */
  writeTransaction<T>(db: Kysely<DB>, fn: (tx: Conn) => Promise<T>): Promise<T>;
  /** Whether `SELECT … FOR UPDATE` is needed (and understood) to lock a resource row. */
  rowLocks: boolean;
  /**
   * Upserts `[account_id, rid, region, key, value]` rows inside the current write transaction, when
   * the engine has a faster way than multi-row statements (SQLite: one prepared statement, reused).
   */
  writeTagRows?(rows: unknown[][]): void;
  close(): Promise<void>;
}

const UPSERT_CHUNK = 500;
const NAME_CHUNK = 500;

interface ResourceRow {
  rid: number;
  account_id: string;
  cloud: string;
  region: string;
  partition: string;
  service: string;
  resource_type: string;
  resource_id: string;
  name: string;
  resource_group_id: string | null;
  state: string | null;
}

function toRecord(row: ResourceRow): ResourceRecord {
  return {
    cloud: row.cloud as ResourceRecord["cloud"],
    accountId: row.account_id,
    region: row.region,
    partition: row.partition,
    service: row.service,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    name: row.name,
    resourceGroupId: row.resource_group_id,
    state: row.state,
  };
}

function toRow(r: ResourceRecord) {
  return {
    account_id: r.accountId,
    cloud: r.cloud,
    region: r.region,
    partition: r.partition,
    service: r.service,
    resource_type: r.resourceType,
    resource_id: r.resourceId,
    name: r.name,
    resource_group_id: r.resourceGroupId,
    state: r.state,
  };
}

function compareText(a: unknown, b: unknown): number {
  return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
}

function lastValue(tags: Tag[], key: string): string {
  for (let i = tags.length - 1; i >= 0; i--) if (tags[i]?.key === key) return (tags[i] as Tag).value;
  return "";
}

function groupNames(resources: ResourceRecord[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of resources) {
    const list = out.get(r.accountId);
    if (list) list.push(r.name);
    else out.set(r.accountId, [r.name]);
  }
  return out;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const RESOURCE_COLUMNS = [
  "resources.rid",
  "resources.account_id",
  "resources.cloud",
  "resources.region",
  "resources.partition",
  "resources.service",
  "resources.resource_type",
  "resources.resource_id",
  "resources.name",
  "resources.resource_group_id",
  "resources.state",
  "resources.tagged",
  "resources.tag_count",
] as const;

/** The TagStore over Kysely; one implementation for both engines, which differ only in `SqlEngine`. */
export class SqlTagStore implements TagStore {
  readonly engine: EngineName;
  readonly jobs: SqlJobQueue;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly sqlEngine: SqlEngine,
  ) {
    this.engine = sqlEngine.name;
    this.jobs = new SqlJobQueue(db, sqlEngine.rowLocks);
  }

  /**
   * Runs the numbered migrations. PostgreSQL serialises instances that start together with Kysely's
   * advisory lock. SQLite has no such lock: two processes may both see a migration as pending and
   * one loses the race with an error after the winner committed, so a failure there is retried
   * (the retry finds the migration applied).
   */
  async migrate(): Promise<void> {
    const all = migrations(this.engine);
    // Without a schema, Kysely's Migrator finds its tables in *any* schema: on a PostgreSQL database
    // where another schema already holds them (a second deployment, a test schema) it skipped
    // creating them in ours and failed on "relation tagd_migrations_lock does not exist".
    const schema =
      this.engine === "postgres"
        ? (await sql<{ schema: string | null }>`SELECT current_schema() AS schema`.execute(this.db)).rows[0]
            ?.schema
        : undefined;
    const migrator = new Migrator({
      db: this.db,
      provider: { getMigrations: async () => all },
      migrationTableName: "tagd_migrations",
      migrationLockTableName: "tagd_migrations_lock",
      ...(schema ? { migrationTableSchema: schema } : {}),
    });
    const attempts = this.engine === "sqlite" ? 10 : 1;
    for (let attempt = 1; ; attempt++) {
      const { error, results } = await migrator.migrateToLatest();
      if (!error) return;
      if (attempt >= attempts) {
        const failed = results?.find((r) => r.status === "Error");
        throw new Error(`migration ${failed?.migrationName ?? "?"} failed: ${String(error)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25 * attempt + Math.random() * 50));
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
    await this.sqlEngine.close();
  }

  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }

  async getOrSetMeta(key: string, value: string): Promise<string> {
    await this.db
      .insertInto("meta")
      .values({ key, value })
      .onConflict((oc) => oc.column("key").doNothing())
      .execute();
    const row = await this.db
      .selectFrom("meta")
      .select("value")
      .where("key", "=", key)
      .executeTakeFirstOrThrow();
    return row.value;
  }

  /**
   * Registers resources in bulk, in one transaction, and merges the tags that come with them. Written
   * for millions of rows: a few multi-row statements per 500 resources, counters adjusted once.
   */
  async upsertResources(items: ResourceImport[]): Promise<ImportResult> {
    if (items.length === 0) return { created: 0, updated: 0, tags: 0 };
    const engine = this.engine;
    return this.sqlEngine.writeTransaction(this.db, async (tx) => {
      let created = 0;
      let tagsWritten = 0;
      const keyDeltas = new Map<string, number>();
      const valueDeltas = new Map<string, number>();
      const bump = (map: Map<string, number>, key: string, d: number) =>
        map.set(key, (map.get(key) ?? 0) + d);
      for (const chunk of chunks(items, UPSERT_CHUNK)) {
        // What exists already, with its tags: merging needs them, and so do the counters.
        const existing = new Map<string, { rid: number; tagged: number; tags: Map<string, string> }>();
        for (const [accountId, names] of groupNames(chunk.map((i) => i.resource))) {
          const rows = await tx
            .selectFrom("resources")
            .select(["rid", "name", "tagged", "tag_count"])
            .where("account_id", "=", accountId)
            .where("name", "in", names)
            .$if(this.sqlEngine.rowLocks, (q) => q.forUpdate())
            .execute();
          const withTags = rows.filter((r) => r.tag_count > 0).map((r) => r.rid);
          const tagRows =
            withTags.length === 0
              ? []
              : await tx
                  .selectFrom("tags")
                  .select(["rid", "key", "value"])
                  .where("account_id", "=", accountId)
                  .where("rid", "in", withTags)
                  .execute();
          const byRid = new Map<number, Map<string, string>>();
          for (const t of tagRows) {
            const m = byRid.get(t.rid) ?? new Map<string, string>();
            byRid.set(t.rid, m);
            m.set(t.key, t.value);
          }
          for (const r of rows) {
            existing.set(`${accountId}\n${r.name}`, {
              rid: r.rid,
              tagged: r.tagged,
              tags: byRid.get(r.rid) ?? new Map(),
            });
          }
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
          ];
        });
        const upserted = await run<{ rid: number; account_id: string; name: string; region: string }>(
          tx,
          `INSERT INTO resources (account_id, cloud, region, partition, service, resource_type, resource_id, name,
             resource_group_id, state, tagged, tag_count)
           VALUES ${placeholders(engine, rows.length, 12)}
           ON CONFLICT (account_id, name) DO UPDATE SET
             resource_group_id = COALESCE(excluded.resource_group_id, resources.resource_group_id),
             state = COALESCE(excluded.state, resources.state),
             tagged = excluded.tagged,
             tag_count = excluded.tag_count
           RETURNING rid, account_id, name, region`,
          rows.flat(),
        );
        const ridOf = new Map(upserted.map((u) => [`${u.account_id}\n${u.name}`, u]));

        const tagRows: unknown[][] = [];
        for (const { item, before } of finals) {
          if (!item.tags?.length) continue;
          const at = ridOf.get(`${item.resource.accountId}\n${item.resource.name}`);
          if (!at) throw new Error(`upsert returned no row for ${item.resource.name}`);
          const seen = new Set<string>();
          for (const t of item.tags) {
            if (seen.has(t.key)) continue;
            seen.add(t.key);
            const old = before?.tags.get(t.key);
            const value = lastValue(item.tags, t.key);
            if (old === value) continue;
            tagRows.push([at.account_id, at.rid, at.region, t.key, value]);
            if (old === undefined) bump(keyDeltas, counterKey(at.account_id, at.region, t.key), 1);
            else bump(valueDeltas, counterKey(at.account_id, at.region, t.key, old), -1);
            bump(valueDeltas, counterKey(at.account_id, at.region, t.key, value), 1);
          }
        }
        tagsWritten += tagRows.length;
        // In index order: consecutive rows land on the same pages of the (key, value) index.
        tagRows.sort((a, b) => compareText(a[3], b[3]) || compareText(a[4], b[4]));
        if (this.sqlEngine.writeTagRows) this.sqlEngine.writeTagRows(tagRows);
        else {
          await inSlices(tagRows, 5, (slice) =>
            run(
              tx,
              `INSERT INTO tags (account_id, rid, region, key, value) VALUES ${placeholders(engine, slice.length, 5)}
               ON CONFLICT (account_id, rid, key) DO UPDATE SET value = excluded.value`,
              slice.flat(),
            ),
          );
        }
      }
      await applyCountDeltas(tx, engine, keyDeltas, valueDeltas);
      return { created, updated: items.length - created, tags: tagsWritten };
    });
  }

  async deleteResources(keys: ResourceKey[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.sqlEngine.writeTransaction(this.db, async (tx) => {
      let deleted = 0;
      for (const key of keys) {
        const row = await tx
          .selectFrom("resources")
          .select(["rid", "region"])
          .where("account_id", "=", key.accountId)
          .where("name", "=", key.name)
          .executeTakeFirst();
        if (!row) continue;
        const tags = await tx
          .selectFrom("tags")
          .select(["key", "value"])
          .where("account_id", "=", key.accountId)
          .where("rid", "=", row.rid)
          .execute();
        for (const t of tags) await this.countDown(tx, key.accountId, row.region, t.key, t.value);
        await tx
          .deleteFrom("tags")
          .where("account_id", "=", key.accountId)
          .where("rid", "=", row.rid)
          .execute();
        await tx
          .deleteFrom("resources")
          .where("account_id", "=", key.accountId)
          .where("rid", "=", row.rid)
          .execute();
        deleted++;
      }
      return deleted;
    });
  }

  async listInventory(q: InventoryQuery): Promise<Page<ResourceRecord>> {
    let query = this.db.selectFrom("resources").select(RESOURCE_COLUMNS);
    if (q.accountId !== undefined) query = query.where("account_id", "=", q.accountId);
    if (q.cloud !== undefined) query = query.where("cloud", "=", q.cloud);
    if (q.region !== undefined) query = query.where("region", "=", q.region);
    if (q.service !== undefined) query = query.where("service", "=", q.service);
    if (q.resourceType !== undefined) query = query.where("resource_type", "=", q.resourceType);
    if (q.cursor !== undefined) query = query.where("rid", ">", Number(q.cursor));
    const rows = await query
      .orderBy("rid")
      .limit(q.limit + 1)
      .execute();
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    const last = page.at(-1);
    return { items: page.map(toRecord), cursor: more && last ? String(last.rid) : undefined };
  }

  async getResources(accountId: string, names: string[]): Promise<Map<string, ResourceRecord>> {
    const out = new Map<string, ResourceRecord>();
    for (const chunk of chunks([...new Set(names)], NAME_CHUNK)) {
      const rows = await this.db
        .selectFrom("resources")
        .select(RESOURCE_COLUMNS)
        .where("account_id", "=", accountId)
        .where("name", "in", chunk)
        .execute();
      for (const row of rows) out.set(row.name, toRecord(row));
    }
    return out;
  }

  async applyTagChanges(accountId: string, changes: TagChange[]): Promise<TagChangeResult[]> {
    const results: TagChangeResult[] = [];
    for (const change of changes) {
      results.push(
        await this.sqlEngine.writeTransaction(this.db, (tx) => this.applyOne(tx, accountId, change)),
      );
    }
    return results;
  }

  private async lockResource(tx: Conn, accountId: string, name: string) {
    let q = tx
      .selectFrom("resources")
      .select(RESOURCE_COLUMNS)
      .where("account_id", "=", accountId)
      .where("name", "=", name);
    if (this.sqlEngine.rowLocks) q = q.forUpdate();
    return q.executeTakeFirst();
  }

  private async applyOne(tx: Conn, accountId: string, change: TagChange): Promise<TagChangeResult> {
    let row = await this.lockResource(tx, accountId, change.resource.name);
    if (!row) {
      if (!change.register) {
        return { ok: false, kind: "ResourceNotFound", message: `resource ${change.resource.name} not found` };
      }
      await tx
        .insertInto("resources")
        .values(toRow(change.resource))
        .onConflict((oc) => oc.columns(["account_id", "name"]).doNothing())
        .execute();
      row = await this.lockResource(tx, accountId, change.resource.name);
      if (!row) throw new Error(`resource ${change.resource.name} vanished during registration`);
    }
    const rid = row.rid;
    const region = row.region;
    const currentRows = await tx
      .selectFrom("tags")
      .select(["key", "value"])
      .where("account_id", "=", accountId)
      .where("rid", "=", rid)
      .orderBy("key")
      .execute();
    const current = new Map(currentRows.map((t) => [t.key, t.value]));
    const next = new Map(change.removeAll ? [] : current);
    for (const key of change.remove) next.delete(key);
    for (const t of change.set) next.set(t.key, t.value);

    const currentTags = currentRows.map((t) => ({ key: t.key, value: t.value }));
    const nextTags = [...next].map(([key, value]) => ({ key, value }));
    const refusal = change.check?.(currentTags, nextTags);
    if (refusal) return { ok: false, kind: "TagLimitExceeded", message: refusal };

    for (const [key, value] of current) {
      if (next.has(key)) continue;
      await tx
        .deleteFrom("tags")
        .where("account_id", "=", accountId)
        .where("rid", "=", rid)
        .where("key", "=", key)
        .execute();
      await this.countDown(tx, accountId, region, key, value);
    }
    for (const [key, value] of next) {
      const old = current.get(key);
      if (old === value) continue;
      if (old === undefined) {
        await tx.insertInto("tags").values({ account_id: accountId, rid, region, key, value }).execute();
        await this.countKeyUp(tx, accountId, region, key);
      } else {
        await tx
          .updateTable("tags")
          .set({ value })
          .where("account_id", "=", accountId)
          .where("rid", "=", rid)
          .where("key", "=", key)
          .execute();
        await this.countValueDown(tx, accountId, region, key, old);
      }
      await this.countValueUp(tx, accountId, region, key, value);
    }
    const tagged = row.tagged === 1 || next.size > 0 ? 1 : 0;
    if (tagged !== row.tagged || next.size !== row.tag_count) {
      await tx
        .updateTable("resources")
        .set({ tagged, tag_count: next.size })
        .where("account_id", "=", accountId)
        .where("rid", "=", rid)
        .execute();
    }
    return { ok: true, resource: toRecord(row), tags: nextTags };
  }

  private async countKeyUp(tx: Conn, accountId: string, region: string, key: string) {
    await tx
      .insertInto("tag_keys")
      .values({ account_id: accountId, region, key, resources: 1 })
      .onConflict((oc) =>
        oc.columns(["account_id", "region", "key"]).doUpdateSet({ resources: sql`tag_keys.resources + 1` }),
      )
      .execute();
  }

  private async countValueUp(tx: Conn, accountId: string, region: string, key: string, value: string) {
    await tx
      .insertInto("tag_values")
      .values({ account_id: accountId, region, key, value, resources: 1 })
      .onConflict((oc) =>
        oc
          .columns(["account_id", "region", "key", "value"])
          .doUpdateSet({ resources: sql`tag_values.resources + 1` }),
      )
      .execute();
  }

  private async countValueDown(tx: Conn, accountId: string, region: string, key: string, value: string) {
    await tx
      .updateTable("tag_values")
      .set({ resources: sql`resources - 1` })
      .where("account_id", "=", accountId)
      .where("region", "=", region)
      .where("key", "=", key)
      .where("value", "=", value)
      .execute();
    await tx
      .deleteFrom("tag_values")
      .where("account_id", "=", accountId)
      .where("region", "=", region)
      .where("key", "=", key)
      .where("value", "=", value)
      .where("resources", "<=", 0)
      .execute();
  }

  private async countDown(tx: Conn, accountId: string, region: string, key: string, value: string) {
    await this.countValueDown(tx, accountId, region, key, value);
    await tx
      .updateTable("tag_keys")
      .set({ resources: sql`resources - 1` })
      .where("account_id", "=", accountId)
      .where("region", "=", region)
      .where("key", "=", key)
      .execute();
    await tx
      .deleteFrom("tag_keys")
      .where("account_id", "=", accountId)
      .where("region", "=", region)
      .where("key", "=", key)
      .where("resources", "<=", 0)
      .execute();
  }

  async queryTagged(q: TaggedQuery): Promise<Page<TaggedResource>> {
    const [driver, ...rest] = q.tagFilters;
    let query = driver
      ? this.db
          .selectFrom("tags as t")
          .innerJoin("resources", (j) =>
            j.onRef("resources.rid", "=", "t.rid").onRef("resources.account_id", "=", "t.account_id"),
          )
          .select(RESOURCE_COLUMNS)
          .where("t.account_id", "=", q.accountId)
          .where("t.region", "=", q.region)
          .where("t.key", "=", driver.key)
          .$if(driver.values.length > 0, (b) => b.where("t.value", "in", driver.values))
      : this.db
          .selectFrom("resources")
          .select(RESOURCE_COLUMNS)
          .where("resources.account_id", "=", q.accountId)
          .where("resources.region", "=", q.region)
          .where("resources.tagged", "=", 1);
    for (const f of rest) {
      query = query.where(({ exists, selectFrom }) =>
        exists(
          selectFrom("tags as f")
            .select(sql`1`.as("one"))
            .whereRef("f.rid", "=", "resources.rid")
            .where("f.account_id", "=", q.accountId)
            .where("f.key", "=", f.key)
            .$if(f.values.length > 0, (b) => b.where("f.value", "in", f.values)),
        ),
      );
    }
    if (q.typeFilters.length > 0) {
      query = query.where((eb) =>
        eb.or(
          q.typeFilters.map(
            (t): Expression<SqlBool> =>
              t.resourceType === undefined
                ? eb("resources.service", "=", t.service)
                : eb.and([
                    eb("resources.service", "=", t.service),
                    eb("resources.resource_type", "=", t.resourceType),
                  ]),
          ),
        ),
      );
    }
    if (q.cursor !== undefined) query = query.where("resources.rid", ">", Number(q.cursor));
    const rows = await query
      .orderBy("resources.rid")
      .limit(q.limit + 1)
      .execute();

    const tagsByRid = await this.tagsOf(
      q.accountId,
      rows.map((r) => r.rid),
    );
    const items: TaggedResource[] = [];
    let tagBudget = q.tagLimit ?? Number.POSITIVE_INFINITY;
    let lastRid: number | undefined;
    let more = false;
    for (const row of rows) {
      const tags = tagsByRid.get(row.rid) ?? [];
      const cost = Math.max(1, tags.length);
      if (items.length === q.limit || cost > tagBudget) {
        more = true;
        break;
      }
      tagBudget -= cost;
      items.push({ ...toRecord(row), tags });
      lastRid = row.rid;
    }
    return { items, cursor: more && lastRid !== undefined ? String(lastRid) : undefined };
  }

  private async tagsOf(accountId: string, rids: number[]): Promise<Map<number, Tag[]>> {
    const out = new Map<number, Tag[]>();
    if (rids.length === 0) return out;
    const rows = await this.db
      .selectFrom("tags")
      .select(["rid", "key", "value"])
      .where("account_id", "=", accountId)
      .where("rid", "in", rids)
      .orderBy("rid")
      .orderBy("key")
      .execute();
    for (const r of rows) {
      let list = out.get(r.rid);
      if (!list) {
        list = [];
        out.set(r.rid, list);
      }
      list.push({ key: r.key, value: r.value });
    }
    return out;
  }

  async getTagged(accountId: string, region: string, names: string[]): Promise<TaggedResource[]> {
    const rows = [];
    for (const chunk of chunks([...new Set(names)], NAME_CHUNK)) {
      rows.push(
        ...(await this.db
          .selectFrom("resources")
          .select(RESOURCE_COLUMNS)
          .where("account_id", "=", accountId)
          .where("region", "=", region)
          .where("tagged", "=", 1)
          .where("name", "in", chunk)
          .execute()),
      );
    }
    const tags = await this.tagsOf(
      accountId,
      rows.map((r) => r.rid),
    );
    const byName = new Map(rows.map((r) => [r.name, { ...toRecord(r), tags: tags.get(r.rid) ?? [] }]));
    return names.flatMap((n) => {
      const hit = byName.get(n);
      byName.delete(n);
      return hit ? [hit] : [];
    });
  }

  async listTagKeys(q: KeyQuery): Promise<Page<string>> {
    const rows = await this.db
      .selectFrom("tag_keys")
      .select("key")
      .where("account_id", "=", q.accountId)
      .where("region", "=", q.region)
      .$if(q.cursor !== undefined, (b) => b.where("key", ">", q.cursor as string))
      .orderBy("key")
      .limit(q.limit + 1)
      .execute();
    return pageOf(
      rows.map((r) => r.key),
      q.limit,
    );
  }

  async listTagValues(q: ValueQuery): Promise<Page<string>> {
    const rows = await this.db
      .selectFrom("tag_values")
      .select("value")
      .where("account_id", "=", q.accountId)
      .where("region", "=", q.region)
      .where("key", "=", q.key)
      .$if(q.cursor !== undefined, (b) => b.where("value", ">", q.cursor as string))
      .orderBy("value")
      .limit(q.limit + 1)
      .execute();
    return pageOf(
      rows.map((r) => r.value),
      q.limit,
    );
  }
}

function pageOf(values: string[], limit: number): Page<string> {
  if (values.length <= limit) return { items: values };
  const items = values.slice(0, limit);
  return { items, cursor: items.at(-1) };
}

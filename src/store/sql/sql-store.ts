import { type Kysely, Migrator, sql } from "kysely";
import { setBounded } from "../../bounded-map.ts";
import type { StoredTagPolicy } from "../../domain/policies.ts";
import type { HeldResource, ResourceRecord, TaggedResource } from "../../domain/resource.ts";
import { type EngineName, migrations } from "../migrations/index.ts";
import type {
  ComplianceCount,
  ComplianceCountQuery,
  ComplianceOverview,
  ComplianceRow,
  ImportResult,
  InventoryQuery,
  KeyQuery,
  Page,
  PolicySource,
  ResourceImport,
  ResourceKey,
  ScanCursor,
  TagChange,
  TagChangeResult,
  TaggedQuery,
  TagPairCount,
  TagPairQuery,
  TagStore,
  ValueQuery,
} from "../store.ts";
import { CounterDeltas } from "./bulk.ts";
import { ComplianceKeeper, decodeNoncompliance, loadPolicies } from "./compliance.ts";
import type { SqlEngine, SqlExec } from "./engine.ts";
import { importResources } from "./import.ts";
import { SqlJobQueue } from "./jobs.ts";
import { Listings, typeClause, typeParams } from "./listing.ts";
import {
  chunks,
  compareText,
  decodeTagList,
  RESOURCE_SELECT,
  type ResourceRow,
  toHeld,
  toRecord,
} from "./rows.ts";
import type { DB } from "./schema.ts";
import { TagWriter } from "./tag-writes.ts";
import { marks } from "./text.ts";
import { earliestNow, type NonceAsk, TurnBatch } from "./turn-batch.ts";
import { TurnSharedReads } from "./turn-reads.ts";

export type { SqlEngine } from "./engine.ts";

/** Requests that share one group-commit transaction, at most. */
const GROUP_COMMIT_MAX = 64;
/**
 * How long a group commit waits for more writes while each turn of the event loop brings some (see
 * `gather`), in turns and in time: past either the batch commits even if writes keep trickling in. A
 * batch of the benchmark's 32 clients gathers in ~1.5 ms and 3–4 turns, longer when the machine is
 * slow (a 4 ms bound cost 2–3% of TagResources in a slow hour); turns that also serve reads can be
 * long, hence a bound in time, about two commits of a full batch.
 */
const GATHER_TURNS = 8;
export const GATHER_MS = 10;
/** Admin calls of at least this many resources are large transactions (SqlEngine.writeTransaction). */
const LARGE_CALL = 1000;
/** Nonces in one PostgreSQL statement, at most (3 parameters each, of the 65,535 a statement may have). */
const NONCE_BATCH_MAX = 1000;

/** A getResources call, as it waits for the others of its turn (see `readResourcesTogether`). */
interface ResourceAsk {
  accountId: string;
  names: string[];
}

interface PendingWrite {
  accountId: string;
  changes: TagChange[];
  resolve(results: TagChangeResult[]): void;
  reject(err: unknown): void;
}

/** The TagStore over Kysely; one implementation for both engines, which differ only in `SqlEngine`. */
export class SqlTagStore implements TagStore {
  readonly engine: EngineName;
  readonly jobs: SqlJobQueue;
  private readonly writer: TagWriter;
  private readonly pending: PendingWrite[] = [];
  private flushing = false;
  private lastNoncePurge = Number.NEGATIVE_INFINITY;
  private readonly nonceBatches = new TurnBatch<NonceAsk, boolean>(
    (batch) => this.rememberNonces(batch),
    NONCE_BATCH_MAX,
  );
  /** With array parameters (PostgreSQL): the getResources calls of one turn, read together. */
  private readonly resourceReads?: TurnBatch<ResourceAsk, Map<string, HeldResource>>;
  private readonly listings: Listings;
  private readonly compliance = new ComplianceKeeper();
  /**
   * Where the small reads every request of some actions makes go (the policy revision, the latest
   * report job, the compliance revisions): SQLite's caching reader, or on PostgreSQL, where each costs
   * a round trip, one statement for the identical reads of one turn of the event loop.
   */
  private readonly reads: Pick<SqlExec, "rows">;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly sqlEngine: SqlEngine,
  ) {
    this.engine = sqlEngine.name;
    const turnReads = sqlEngine.scopeRevisions ? new TurnSharedReads(sqlEngine.reader) : undefined;
    this.reads = turnReads ?? sqlEngine.reader;
    this.jobs = new SqlJobQueue(db, sqlEngine.rowLocks, this.reads);
    this.writer = new TagWriter(sqlEngine.rowLocks, this.compliance, sqlEngine.writesAtOnce);
    this.listings = new Listings(sqlEngine.reader, turnReads, sqlEngine.arrayParams);
    if (sqlEngine.arrayParams) this.resourceReads = new TurnBatch((asks) => this.readResourcesTogether(asks));
  }

  /**
   * Runs the numbered migrations. PostgreSQL serialises instances that start together with Kysely's
   * advisory lock, but Kysely's preparation of its own tables before taking it can still race (seen
   * as a transient "schema … does not exist" when four instances start on an empty schema). SQLite
   * has no such lock: two processes may both see a migration as pending and one loses with an error
   * after the winner committed. Either way a failure is retried; the retry finds the work done.
   */
  async migrate(
    /** Stop after this migration (tests of an upgrade); every migration when absent. */
    upTo?: string,
  ): Promise<void> {
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
    const attempts = 10;
    for (let attempt = 1; ; attempt++) {
      const { error, results } =
        upTo === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(upTo);
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

  rememberNonce(accessKeyId: string, nonce: string, expiresAt: number, now: number): Promise<boolean> {
    if (this.sqlEngine.nonces) return this.sqlEngine.nonces.remember(accessKeyId, nonce, expiresAt, now);
    return this.nonceBatches.ask({ accessKeyId, nonce, expiresAt, now });
  }

  /**
   * The nonces asked for in one turn (up to NONCE_BATCH_MAX), in one statement: each is a round trip
   * and a commit of its own otherwise. Expired rows are purged at most once a minute per instance;
   * until then a stale row of the same nonce is taken over by the upsert's WHERE instead of refusing
   * the request.
   */
  private async rememberNonces(batch: NonceAsk[]): Promise<boolean[]> {
    const now = earliestNow(batch);
    if (now - this.lastNoncePurge >= 60_000) {
      this.lastNoncePurge = now;
      // Housekeeping: a failed purge must not fail the batch's requests (the next batch tries again).
      await sql`DELETE FROM nonces WHERE expires_at <= ${now}`.execute(this.db).catch(() => {
        this.lastNoncePurge = Number.NEGATIVE_INFINITY;
      });
    }
    // One row per (key, nonce): a statement may not upsert a row twice, and a nonce sent twice in one
    // batch is refused the second time, as it would be in two statements. In key order, so that two
    // batches that clash on several rows lock them in the same order instead of deadlocking.
    const first = new Map<string, NonceAsk>();
    for (const b of batch) {
      const id = `${b.accessKeyId}\u0000${b.nonce}`;
      if (!first.has(id)) first.set(id, b);
    }
    const rows = [...first.keys()].sort(compareText).map((id) => first.get(id) as NonceAsk);
    const values = sql.join(rows.map((b) => sql`(${b.accessKeyId}, ${b.nonce}, ${b.expiresAt})`));
    const { rows: taken } = await sql<{ access_key_id: string; nonce: string }>`INSERT INTO nonces
      (access_key_id, nonce, expires_at) VALUES ${values}
      ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
      WHERE nonces.expires_at <= ${now}
      RETURNING access_key_id, nonce`.execute(this.db);
    const fresh = new Set(taken.map((r) => `${r.access_key_id}\u0000${r.nonce}`));
    return batch.map((b) => {
      const id = `${b.accessKeyId}\u0000${b.nonce}`;
      return first.get(id) === b && fresh.has(id);
    });
  }

  upsertResources(items: ResourceImport[]): Promise<ImportResult> {
    if (items.length === 0) return Promise.resolve({ created: 0, updated: 0, tags: 0 });
    return this.sqlEngine.writeTransaction(
      (exec) =>
        importResources(exec, this.sqlEngine.rowLocks, this.sqlEngine.scopeRevisions, items, this.compliance),
      { large: items.length >= LARGE_CALL },
    );
  }

  async deleteResources(keys: ResourceKey[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.sqlEngine.writeTransaction(
      async (tx) => {
        const deltas = new CounterDeltas();
        let deleted = 0;
        // In name order, as tag writes lock them: concurrent writers wait instead of deadlocking.
        const ordered = [...keys].sort((a, b) => compareText(a.name, b.name));
        for (const key of ordered) {
          const [row] = await tx.query<
            Pick<ResourceRow, "rid" | "region" | "tags_json" | "cloud" | "service" | "resource_type">
          >(
            `SELECT rid, region, tags_json, cloud, service, resource_type FROM resources WHERE account_id = ? AND name = ?${this.sqlEngine.rowLocks ? " FOR UPDATE" : ""}`,
            [key.accountId, key.name],
          );
          if (!row) continue;
          await this.writer.dropAll(tx, key.accountId, row, deltas);
          deltas.touch(key.accountId, row.region);
          await tx.query("DELETE FROM resources WHERE account_id = ? AND rid = ?", [key.accountId, row.rid]);
          await this.compliance.clear(tx, key.accountId, [row.rid]);
          deleted++;
        }
        await deltas.apply(tx, this.sqlEngine.scopeRevisions);
        return deleted;
      },
      { large: keys.length >= LARGE_CALL },
    );
  }

  async listInventory(q: InventoryQuery): Promise<Page<ResourceRecord>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const filters: [string, string | undefined][] = [
      ["account_id", q.accountId],
      ["cloud", q.cloud],
      ["region", q.region],
      ["service", q.service],
      ["resource_type", q.resourceType],
    ];
    for (const [column, value] of filters) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      params.push(value);
    }
    if (q.cursor !== undefined) {
      where.push("rid > ?");
      params.push(Number(q.cursor));
    }
    const rows = await this.sqlEngine.reader.query<ResourceRow>(
      `SELECT ${RESOURCE_SELECT} FROM resources${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY rid LIMIT ?`,
      [...params, q.limit + 1],
    );
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    const last = page.at(-1);
    return { items: page.map(toRecord), cursor: more && last ? String(last.rid) : undefined };
  }

  async getResources(accountId: string, names: string[]): Promise<Map<string, HeldResource>> {
    // Nothing to look up (ListTagResources by tag resolves its empty id list): no statement.
    if (names.length === 0) return new Map();
    if (this.resourceReads) return this.resourceReads.ask({ accountId, names });
    const out = new Map<string, HeldResource>();
    for (const chunk of chunks([...new Set(names)], 500)) {
      const rows = await this.sqlEngine.reader.query<ResourceRow>(
        `SELECT ${RESOURCE_SELECT} FROM resources WHERE account_id = ? AND name IN (${marks(chunk.length)})`,
        [accountId, ...chunk],
      );
      for (const row of rows) out.set(row.name, toHeld(row));
    }
    return out;
  }

  /**
   * The getResources calls of one turn of the event loop (PostgreSQL), one statement per account: on
   * PostgreSQL the round trip and its socket write cost tagd more than the lookups behind them (the
   * legacy Alibaba KMS actions look a key up in every region of the account). The statement goes out
   * when the turn ends, so it sees every write committed before any of the calls began. Each caller
   * gets records of its own.
   */
  private async readResourcesTogether(asks: ResourceAsk[]): Promise<Map<string, HeldResource>[]> {
    const namesByAccount = new Map<string, Set<string>>();
    for (const ask of asks) {
      const names = namesByAccount.get(ask.accountId) ?? new Set<string>();
      namesByAccount.set(ask.accountId, names);
      for (const name of ask.names) names.add(name);
    }
    const rowsByAccount = new Map<string, Map<string, ResourceRow>>();
    await Promise.all(
      [...namesByAccount].map(async ([accountId, names]) => {
        const rows = await this.sqlEngine.reader.query<ResourceRow>(
          `SELECT ${RESOURCE_SELECT} FROM resources WHERE account_id = ? AND name = ANY(CAST(? AS TEXT[]))`,
          [accountId, [...names]],
        );
        rowsByAccount.set(accountId, new Map(rows.map((row) => [row.name, row])));
      }),
    );
    return asks.map((ask) => {
      const rows = rowsByAccount.get(ask.accountId);
      const out = new Map<string, HeldResource>();
      for (const name of ask.names) {
        const row = rows?.get(name);
        if (row) out.set(name, toHeld(row));
      }
      return out;
    });
  }

  async applyTagChanges(accountId: string, changes: TagChange[]): Promise<TagChangeResult[]> {
    if (this.sqlEngine.groupCommit) {
      return new Promise((resolve, reject) => {
        this.pending.push({ accountId, changes, resolve, reject });
        // Not committed now: SQLite statements resolve at once, so a transaction started here would
        // commit before any other request got the chance to join it (see `gather`).
        if (!this.flushing) {
          this.flushing = true;
          const since = performance.now();
          setImmediate(() => this.gather(0, 0, since));
        }
      });
    }
    return this.sqlEngine.writeTransaction(async (tx) => {
      const deltas = new CounterDeltas();
      const results = await this.applyInOrder(tx, accountId, changes, deltas);
      await deltas.apply(tx, this.sqlEngine.scopeRevisions);
      return results;
    });
  }

  /**
   * A request's changes in one transaction. Resources are locked in name order, the counters after
   * all of them: two requests touching the same resources wait for each other instead of deadlocking.
   * A refused change writes nothing (the domain check runs before any write), so the others stand.
   */
  private async applyInOrder(
    tx: SqlExec,
    accountId: string,
    changes: TagChange[],
    deltas: CounterDeltas,
  ): Promise<TagChangeResult[]> {
    const order = changes
      .map((_, i) => i)
      .sort((a, b) => compareText(changes[a]?.resource.name ?? "", changes[b]?.resource.name ?? ""));
    const results: TagChangeResult[] = new Array(changes.length);
    for (const i of order)
      results[i] = await this.writer.apply(tx, accountId, changes[i] as TagChange, deltas);
    return results;
  }

  /**
   * Runs after the poll phase of each turn of the event loop while a batch gathers: as long as the
   * last turn brought more writes, it waits one more turn (a turn whose poll finds nothing new to read
   * costs microseconds), then commits. Every request that arrived in the turn of the first write joins
   * the transaction, and so do those that the clients' answers to earlier batches were still bringing
   * in: a commit costs per page written, not per request, so the fewer and larger the transactions,
   * the less each write costs. Bounded by GROUP_COMMIT_MAX requests, GATHER_TURNS turns and GATHER_MS
   * since the first write, so a lone write waits one empty turn and a steady trickle does not hold the
   * first ones back for long.
   */
  private gather(seen: number, turns: number, since: number): void {
    const waiting = this.pending.length;
    if (
      waiting > seen &&
      waiting < GROUP_COMMIT_MAX &&
      turns < GATHER_TURNS &&
      performance.now() - since < GATHER_MS
    ) {
      setImmediate(() => this.gather(waiting, turns + 1, since));
      return;
    }
    void this.flush();
  }

  /**
   * Group commit (SQLite): the requests gathered (see `gather`) share one transaction, and their
   * counter changes are applied once at the end. Every caller hears back only
   * after the commit, so an acknowledged write is a committed one.
   *
   * A refusal writes nothing (the check runs before any write), so a batch normally runs without
   * savepoints: each would cost two statements and a copy of every page it changes. Only when a
   * request throws is the whole transaction rolled back and the batch run again with each request in
   * a savepoint of its own, so that the failure stays that request's.
   */
  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, GROUP_COMMIT_MAX);
        let outcomes: (TagChangeResult[] | Error)[];
        try {
          outcomes = await this.commitBatch(batch, (tx, request, total) =>
            this.applyInOrder(tx, request.accountId, request.changes, total),
          );
        } catch {
          try {
            outcomes = await this.commitBatch(batch, (tx, request, total) =>
              this.applySavepointed(tx, request, total),
            );
          } catch (err) {
            for (const request of batch) request.reject(err);
            continue;
          }
        }
        batch.forEach((request, i) => {
          const outcome = outcomes[i] as TagChangeResult[] | Error;
          if (outcome instanceof Error) request.reject(outcome);
          else request.resolve(outcome);
        });
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One transaction over the batch, each request through `apply`, the counters changed once at the end. */
  private commitBatch<T>(
    batch: PendingWrite[],
    apply: (tx: SqlExec, request: PendingWrite, total: CounterDeltas) => Promise<T>,
  ): Promise<T[]> {
    return this.sqlEngine.writeTransaction(async (tx) => {
      const total = new CounterDeltas();
      const out: T[] = [];
      for (const request of batch) out.push(await apply(tx, request, total));
      await total.apply(tx, this.sqlEngine.scopeRevisions);
      return out;
    });
  }

  private async applySavepointed(
    tx: SqlExec,
    request: PendingWrite,
    total: CounterDeltas,
  ): Promise<TagChangeResult[] | Error> {
    await tx.query("SAVEPOINT tag_request", []);
    try {
      const deltas = new CounterDeltas();
      const results = await this.applyInOrder(tx, request.accountId, request.changes, deltas);
      await tx.query("RELEASE tag_request", []);
      total.add(deltas);
      return results;
    } catch (err) {
      await tx.query("ROLLBACK TO tag_request", []);
      await tx.query("RELEASE tag_request", []);
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  queryTagged(q: TaggedQuery): Promise<Page<TaggedResource>> {
    return this.listings.queryTagged(q);
  }

  getTagged(
    accountId: string,
    region: string,
    names: string[],
    withCompliance?: boolean,
  ): Promise<TaggedResource[]> {
    return this.listings.getTagged(accountId, region, names, withCompliance);
  }

  setPolicySource(source: PolicySource): void {
    this.compliance.source = source;
  }

  putTagPolicy(policy: StoredTagPolicy): Promise<number> {
    return this.sqlEngine.writeTransaction(async (tx) => {
      await tx.query(
        `INSERT INTO tag_policies (name, content, targets, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET content = excluded.content, targets = excluded.targets,
           updated_at = excluded.updated_at`,
        [policy.name, policy.content, JSON.stringify(policy.targets), policy.updatedAt],
      );
      return this.raiseRevision(tx);
    });
  }

  deleteTagPolicy(name: string): Promise<number | null> {
    return this.sqlEngine.writeTransaction(async (tx) => {
      const gone = await tx.query<{ name: string }>(
        "DELETE FROM tag_policies WHERE name = ? RETURNING name",
        [name],
      );
      return gone.length === 0 ? null : this.raiseRevision(tx);
    });
  }

  private async raiseRevision(tx: SqlExec): Promise<number> {
    const [row] = await tx.query<{ revision: number }>(
      "UPDATE policy_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision",
      [],
    );
    return Number(row?.revision);
  }

  listTagPolicies(): Promise<StoredTagPolicy[]> {
    return loadPolicies(this.sqlEngine.reader);
  }

  async policyRevision(): Promise<{ revision: number; evaluated: number }> {
    const text = "SELECT revision, evaluated FROM policy_revision WHERE id = 1";
    const [row] = await this.reads.rows<[unknown, unknown]>(text, []);
    return { revision: Number(row?.[0] ?? 0), evaluated: Number(row?.[1] ?? 0) };
  }

  async markEvaluated(revision: number): Promise<void> {
    await this.sqlEngine.writeTransaction((tx) =>
      tx.query("UPDATE policy_revision SET evaluated = ? WHERE id = 1 AND evaluated < ?", [
        revision,
        revision,
      ]),
    );
  }

  /** The account's next Region after `after` (the first with none): one index seek. */
  private async nextRegion(exec: SqlExec, accountId: string, after: string): Promise<string | undefined> {
    const [region] = await exec.column<string | null>(
      "SELECT MIN(region) FROM resources WHERE account_id = ? AND region > ?",
      [accountId, after],
    );
    return region ?? undefined;
  }

  /** One page of a walk (see ScanCursor), and where the walk goes on. */
  private async walk<R extends { rid: number }>(
    exec: SqlExec,
    accountId: string,
    cursor: ScanCursor | undefined,
    limit: number,
    page: (region: string, after: number) => Promise<R[]>,
  ): Promise<{ rows: R[]; next?: ScanCursor }> {
    const region = cursor?.region ?? (await this.nextRegion(exec, accountId, ""));
    if (region === undefined) return { rows: [] };
    const rows = await page(region, cursor?.rid ?? 0);
    if (rows.length === limit) return { rows, next: { region, rid: Number(rows[rows.length - 1]?.rid) } };
    const following = await this.nextRegion(exec, accountId, region);
    return { rows, next: following === undefined ? undefined : { region: following, rid: 0 } };
  }

  reevaluate(
    accountId: string,
    cursor: ScanCursor | undefined,
    limit: number,
  ): Promise<ScanCursor | undefined> {
    return this.sqlEngine.writeTransaction(async (tx) => {
      const { rows, next } = await this.walk(tx, accountId, cursor, limit, (region, after) =>
        tx.query<Pick<ResourceRow, "rid" | "region" | "service" | "resource_type" | "tags_json">>(
          `SELECT rid, region, service, resource_type, tags_json FROM resources
           WHERE account_id = ? AND region = ? AND tagged = 1 AND rid > ? ORDER BY rid LIMIT ?${this.sqlEngine.rowLocks ? " FOR UPDATE" : ""}`,
          [accountId, region, after, limit],
        ),
      );
      if (rows.length === 0) return next;

      // Read after the rows are locked: see ComplianceKeeper.
      const policy = await this.compliance.policyFor(tx, accountId);
      const deltas = new CounterDeltas();
      if (!policy) {
        await this.compliance.clear(
          tx,
          accountId,
          rows.map((r) => Number(r.rid)),
        );
      }
      // Most resources comply and have no record: only those that have one may need a delete.
      const recorded = policy
        ? new Set(
            (
              await tx.query<{ rid: number }>(
                "SELECT rid FROM noncompliance WHERE account_id = ? AND region = ? AND rid >= ? AND rid <= ?",
                [accountId, rows[0]?.region, rows[0]?.rid, rows[rows.length - 1]?.rid],
              )
            ).map((r) => Number(r.rid)),
          )
        : undefined;
      for (const row of rows) {
        deltas.touch(accountId, row.region);
        if (!policy) continue;
        const tags = decodeTagList(row.tags_json);
        const rid = Number(row.rid);
        await this.compliance.record(
          tx,
          policy,
          accountId,
          { ...row, rid },
          tags,
          recorded?.has(rid) ?? true,
        );
      }
      // Listings cached by scope revision (PostgreSQL) must not answer with the old compliance.
      await deltas.apply(tx, this.sqlEngine.scopeRevisions);
      return next;
    });
  }

  /** Compliance counts by account revision (PostgreSQL): see `complianceOverview`. */
  private readonly countsCache = new Map<string, ComplianceCount[]>();

  /**
   * The counts aggregate an account's tagged resources. On PostgreSQL they are kept under the sum of
   * the account's scope revisions, read first: every tag write and every policy re-evaluation raises
   * the revision of the scopes it touched in its own transaction, so equal sums mean equal counts, on
   * any instance. (SQLite's reader has its own cache, cleared by any commit.)
   */
  async complianceOverview(
    accountIds: string[],
    filters: Omit<ComplianceCountQuery, "accountId">,
  ): Promise<ComplianceOverview> {
    let policyRevision: number;
    /** The accounts' revision sums (PostgreSQL): equal sums, equal counts. */
    let versions: Map<string | null, string> | undefined;
    if (this.sqlEngine.scopeRevisions) {
      // One round trip: the policy revision (account NULL) and the accounts' revision sums.
      const rows = await this.reads.rows<[string | null, number | string | null]>(
        `SELECT NULL, revision FROM policy_revision WHERE id = 1
         UNION ALL SELECT account_id, SUM(revision) FROM revisions WHERE account_id IN (${marks(accountIds.length)})
         GROUP BY account_id`,
        accountIds,
      );
      versions = new Map(rows.map(([account, version]) => [account, String(version ?? 0)]));
      policyRevision = Number(versions.get(null) ?? 0);
    } else {
      policyRevision = (await this.policyRevision()).revision;
    }
    const counts = new Map<string, ComplianceCount[]>();
    for (const accountId of accountIds) {
      const q = { ...filters, accountId };
      const key = versions && `${versions.get(accountId) ?? "0"}\u0000${JSON.stringify(q)}`;
      let found = key === undefined ? undefined : this.countsCache.get(key);
      if (!found) {
        found = await this.computeComplianceCounts(q);
        if (key !== undefined) setBounded(this.countsCache, key, found, 256);
      }
      counts.set(accountId, found);
    }
    return { policyRevision, counts };
  }

  private async computeComplianceCounts(q: ComplianceCountQuery): Promise<ComplianceCount[]> {
    const where = ["r.account_id = ?", "r.tagged = 1"];
    const params: unknown[] = [q.accountId];
    if (q.regions?.length) {
      where.push(`r.region IN (${marks(q.regions.length)})`);
      params.push(...q.regions);
    }
    if (q.tagKeys?.length) {
      const regions = q.regions?.length ? ` AND t.region IN (${marks(q.regions.length)})` : "";
      where.push(
        `r.rid IN (SELECT t.rid FROM tags t WHERE t.account_id = ?${regions} AND t.key IN (${marks(q.tagKeys.length)}))`,
      );
      params.push(q.accountId, ...(q.regions ?? []), ...q.tagKeys);
    }
    const types = q.typeFilters?.length ? typeClause(q.typeFilters, "r.") : "";
    if (q.typeFilters?.length) params.push(...typeParams(q.typeFilters));
    const rows = await this.sqlEngine.reader.rows<[string, string, string, number, number]>(
      `SELECT r.region, r.service, r.resource_type, COUNT(*), COUNT(n.rid)
       FROM resources r LEFT JOIN noncompliance n ON n.account_id = r.account_id AND n.rid = r.rid
       WHERE ${where.join(" AND ")}${types}
       GROUP BY r.region, r.service, r.resource_type`,
      params,
    );
    return rows.map(([region, service, resourceType, resources, noncompliant]) => ({
      region,
      service,
      resourceType,
      resources: Number(resources),
      noncompliant: Number(noncompliant),
    }));
  }

  async scanCompliance(
    accountId: string,
    cursor: ScanCursor | undefined,
    limit: number,
  ): Promise<{ rows: ComplianceRow[]; next?: ScanCursor }> {
    type Row = {
      rid: number;
      name: string;
      region: string;
      service: string;
      resource_type: string;
      tags_json: string;
      keys_json: string | null;
      value_keys_json: string | null;
    };
    // `query`, not `rows`: a report reads each page once, and SQLite's reader would keep every page
    // in its result cache until the next commit.
    const reader = this.sqlEngine.reader;
    const { rows, next } = await this.walk(reader, accountId, cursor, limit, (region, after) =>
      reader.query<Row>(
        `SELECT r.rid, r.name, r.region, r.service, r.resource_type, r.tags_json, n.keys_json, n.value_keys_json
         FROM resources r LEFT JOIN noncompliance n ON n.account_id = r.account_id AND n.rid = r.rid
         WHERE r.account_id = ? AND r.region = ? AND r.tagged = 1 AND r.rid > ? ORDER BY r.rid LIMIT ?`,
        [accountId, region, after, limit],
      ),
    );
    const out = rows.map((r) => ({
      rid: Number(r.rid),
      name: r.name,
      region: r.region,
      service: r.service,
      resourceType: r.resource_type,
      tagsJson: r.tags_json,
      noncompliance: decodeNoncompliance(r.keys_json, r.value_keys_json),
    }));
    return { rows: out, next };
  }

  listTagKeys(q: KeyQuery): Promise<Page<string>> {
    return this.listings.listTagKeys(q);
  }

  listTagValues(q: ValueQuery): Promise<Page<string>> {
    return this.listings.listTagValues(q);
  }

  describeTagPairs(q: TagPairQuery): Promise<{ total: number; items: TagPairCount[] }> {
    return this.listings.describeTagPairs(q);
  }
}

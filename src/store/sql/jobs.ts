import type { Kysely } from "kysely";
import type { Job, JobQueue, JobState } from "../store.ts";
import type { SqlExec } from "./engine.ts";
import type { DB } from "./schema.ts";

type JobRow = DB["jobs"];

const JOB_COLUMNS = [
  "account_id",
  "id",
  "kind",
  "state",
  "payload",
  "result",
  "error",
  "created_at",
  "claimed_by",
  "claimed_at",
  "finished_at",
] as const satisfies readonly (keyof JobRow)[];

function toJob(r: JobRow): Job {
  return {
    accountId: r.account_id,
    id: r.id,
    kind: r.kind,
    state: r.state as JobState,
    payload: r.payload,
    result: r.result,
    error: r.error,
    createdAt: Number(r.created_at),
    claimedBy: r.claimed_by,
    claimedAt: r.claimed_at === null ? null : Number(r.claimed_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}

/** A unique-index violation on either engine (SQLite's constraint error, PostgreSQL's 23505). */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

/**
 * The job queue on either engine. Each step is one statement, so it is atomic without an explicit
 * transaction; claiming picks its row with `FOR UPDATE SKIP LOCKED` on PostgreSQL (instances never
 * wait on each other, never take the same job), and on SQLite the single UPDATE runs under the
 * database's write lock, asked for only when a plain read has found a claimable job.
 */
export class SqlJobQueue implements JobQueue {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly skipLocked: boolean,
    /**
     * Where `latest` (polled by DescribeReportCreation) reads: SQLite's caching reader, or on
     * PostgreSQL one statement per turn for identical polls (turn-reads.ts).
     */
    private readonly reads: Pick<SqlExec, "rows">,
  ) {}

  async enqueue(job: {
    accountId: string;
    id: string;
    kind: string;
    payload: string;
    now: number;
  }): Promise<{ ok: true } | { ok: false; active: Job }> {
    try {
      await this.db
        .insertInto("jobs")
        .values({
          account_id: job.accountId,
          id: job.id,
          kind: job.kind,
          state: "pending",
          payload: job.payload,
          created_at: job.now,
        })
        .execute();
      return { ok: true };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const active = await this.db
        .selectFrom("jobs")
        .selectAll()
        .where("account_id", "=", job.accountId)
        .where("kind", "=", job.kind)
        .where("state", "in", ["pending", "running"])
        .executeTakeFirst();
      if (!active) return this.enqueue(job);
      return { ok: false, active: toJob(active) };
    }
  }

  async claim(kind: string, worker: string, now: number, leaseMs: number): Promise<Job | undefined> {
    const pick = this.db
      .selectFrom("jobs")
      .select("id")
      .where("kind", "=", kind)
      .where((eb) =>
        eb.or([
          eb("state", "=", "pending"),
          eb.and([eb("state", "=", "running"), eb("claimed_at", "<", now - leaseMs)]),
        ]),
      )
      .orderBy("created_at")
      .limit(1)
      .$if(this.skipLocked, (q) => q.forUpdate().skipLocked());
    // On SQLite the UPDATE below needs the file's write lock, and Kysely's statements wait for it in
    // SQLite's own busy wait, on this thread. Most polls find nothing to do: a plain read (which WAL
    // never blocks) answers those without asking for the lock, so an idle instance under --workers
    // never stalls its event loop behind another process's write.
    if (!this.skipLocked && !(await pick.executeTakeFirst())) return undefined;
    const row = await this.db
      .updateTable("jobs")
      .set({ state: "running", claimed_by: worker, claimed_at: now })
      .where("id", "=", (eb) => eb.selectFrom(pick.as("picked")).select("picked.id"))
      .where("kind", "=", kind)
      .where((eb) =>
        eb.or([
          eb("state", "=", "pending"),
          eb.and([eb("state", "=", "running"), eb("claimed_at", "<", now - leaseMs)]),
        ]),
      )
      .returningAll()
      .executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  async renew(accountId: string, id: string, worker: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable("jobs")
      .set({ claimed_at: now })
      .where("account_id", "=", accountId)
      .where("id", "=", id)
      .where("claimed_by", "=", worker)
      .where("state", "=", "running")
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async finish(
    accountId: string,
    id: string,
    worker: string,
    outcome: { state: "succeeded"; result: string } | { state: "failed"; error: string },
    now: number,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable("jobs")
      .set({
        state: outcome.state,
        result: outcome.state === "succeeded" ? outcome.result : null,
        error: outcome.state === "failed" ? outcome.error : null,
        finished_at: now,
      })
      .where("account_id", "=", accountId)
      .where("id", "=", id)
      .where("claimed_by", "=", worker)
      .where("state", "=", "running")
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async latest(accountId: string, kind: string): Promise<Job | undefined> {
    const [row] = await this.reads.rows<unknown[]>(
      `SELECT ${JOB_COLUMNS.join(", ")} FROM jobs WHERE account_id = ? AND kind = ?
       ORDER BY created_at DESC, id DESC LIMIT 1`,
      [accountId, kind],
    );
    return row ? toJob(Object.fromEntries(JOB_COLUMNS.map((c, i) => [c, row[i]])) as JobRow) : undefined;
  }
}

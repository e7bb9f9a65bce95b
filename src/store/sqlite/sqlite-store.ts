import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { Kysely, type SqliteDatabase, SqliteDialect } from "kysely";
import { setBounded } from "../../bounded-map.ts";
import type { SqlEngine, SqlExec } from "../sql/engine.ts";
import type { DB } from "../sql/schema.ts";
import { SqlTagStore } from "../sql/sql-store.ts";
import { earliestNow, type NonceAsk, TurnBatch } from "../sql/turn-batch.ts";
import { useWalBuffer } from "./wal-buffer.ts";

export const SQLITE_FILE = "tagd.sqlite";
/** Signature nonces, apart from the tag data (see SqlEngine.nonces). */
export const NONCE_FILE = "nonces.sqlite";

/**
 * The embedded store: one SQLite file in WAL mode under the data directory, on two connections.
 * Writes go through the write connection, serialised in this process by Kysely's connection mutex;
 * `BEGIN IMMEDIATE` takes the file's write lock up front, so writers in other processes (`--workers`,
 * or other tagd processes on the data directory) wait for it instead of failing on a lock upgrade —
 * on a timer, while this process goes on serving (`whenNotBusy`). Reads go through a connection of
 * their own: they see committed data only and never wait behind a write transaction.
 */
export function openSqliteStore(
  dataDir: string,
  options: {
    /** Other processes write the file too (`--workers`): see SqliteExec.checkVersion. */
    sharedFile?: boolean;
    /** Load the WAL buffer (wal-buffer.ts) before opening, if this process has not yet (default true). */
    walBuffer?: boolean;
  } = {},
): SqlTagStore {
  mkdirSync(dataDir, { recursive: true });
  if (options.walBuffer !== false) useWalBuffer();
  const file = join(dataDir, SQLITE_FILE);
  const writer = open(file, WRITER_CACHE_KIB);
  const readerDb = open(file, READER_CACHE_KIB);
  const kysely = new Kysely<DB>({ dialect: new SqliteDialect({ database: cached(writer) }) });
  const writeExec = new SqliteExec(writer);
  const reader = new SqliteExec(readerDb).cacheResults({ sharedFile: options.sharedFile });
  const checkpointer = startCheckpointer(file);
  const nonces = new SqliteNonces(join(dataDir, NONCE_FILE));
  const engine: SqlEngine = {
    name: "sqlite",
    rowLocks: false,
    scopeRevisions: false,
    groupCommit: true,
    writesAtOnce: false,
    arrayParams: false,
    reader,
    writeTransaction(fn, options) {
      // Holding Kysely's connection keeps its own users of the write connection (jobs, migrations)
      // out of this transaction.
      const run = () =>
        kysely.connection().execute(async () => {
          await beginImmediate(writer);
          try {
            const result = await fn(writeExec);
            writer.exec("COMMIT");
            localCommits++;
            return result;
          } catch (err) {
            if (writer.inTransaction) writer.exec("ROLLBACK");
            throw err;
          }
        });
      // The wait is outside Kysely's connection: other writes go on meanwhile. Tag writes, small,
      // begin at once, without a promise more.
      return options?.large ? checkpointer.caughtUp(LARGE_WAIT_MS).then(run) : run();
    },
    nonces,
    async close() {
      await checkpointer.stop();
      nonces.close();
      if (readerDb.open) readerDb.close();
      if (writer.open) writer.close();
    },
  };
  return new SqlTagStore(kysely, engine);
}

/**
 * Nonces in a file of their own, shared by every process on the data directory. Expired rows are
 * purged at most once a minute; until then an expired row of the same nonce is taken over.
 *
 * The nonces asked for in one turn of the event loop go in one transaction: a commit, not the
 * insert, is what costs, and one per request was about half of an Alibaba read (ECS ListTagResources
 * at 10k: 4,083 req/s with a commit per nonce, 7,831 batched). Each gets its own answer; a nonce sent
 * twice in one batch is refused the second time, as in two transactions.
 */
class SqliteNonces {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly purge: Database.Statement;
  private lastPurge = Number.NEGATIVE_INFINITY;
  private readonly batches: TurnBatch<NonceAsk, boolean>;

  constructor(file: string) {
    this.db = open(file, 2048);
    this.db.exec(`CREATE TABLE IF NOT EXISTS nonces (
      access_key_id TEXT NOT NULL,
      nonce TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      PRIMARY KEY (access_key_id, nonce)
    ) WITHOUT ROWID`);
    this.insert = this.db.prepare(`INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES (?, ?, ?)
      ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
      WHERE nonces.expires_at <= ? RETURNING nonce`);
    this.purge = this.db.prepare("DELETE FROM nonces WHERE expires_at <= ?");
    // A batch is a write transaction of its own: another process's turn is waited out by
    // `whenNotBusy`, without holding up this event loop.
    this.db.pragma("busy_timeout = 0");
    const transaction = this.db.transaction((batch: NonceAsk[], purgeAt: number | undefined) => {
      if (purgeAt !== undefined) this.purge.run(purgeAt);
      return batch.map((p) => this.insert.all(p.accessKeyId, p.nonce, p.expiresAt, p.now).length === 1);
    });
    // BEGIN IMMEDIATE: the file's write lock up front, so a busy file fails the BEGIN, before any insert.
    this.batches = new TurnBatch(async (batch) => {
      const now = earliestNow(batch);
      const purgeAt = now - this.lastPurge >= 60_000 ? now : undefined;
      const fresh = await whenNotBusy(() => transaction.immediate(batch, purgeAt));
      if (purgeAt !== undefined) this.lastPurge = purgeAt;
      return fresh;
    });
  }

  remember(accessKeyId: string, nonce: string, expiresAt: number, now: number): Promise<boolean> {
    return this.batches.ask({ accessKeyId, nonce, expiresAt, now });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Page caches. The writer's holds the upper levels of the trees that writes and imports keep
 * touching, and no more: at the end of nearly every tag-write transaction SQLite walks its whole page
 * cache (pcache1TruncateUnsafe: rebalancing B-tree pages parks one for a moment at the pending-byte
 * page's number, 1 GiB into the file, so until the file is that large the cache looks as if it held a
 * page past its end), ~5% of a TagResources request with 48 MiB; with 16 MiB a
 * TagResources-like change costs ~10% less (store alone, 100k) and a 1M import ~2% more. The reader's
 * can be small, since repeated reads come from the result cache and the rest from the OS's file cache.
 */
const WRITER_CACHE_KIB = 16384;
const READER_CACHE_KIB = 16384;

/**
 * How long a statement waits for another process's lock before it fails with SQLITE_BUSY. SQLite's
 * own wait sleeps on the calling thread; the write transactions and nonce inserts wait off the event
 * loop instead (`whenNotBusy`), so only Kysely's occasional writes (jobs, metadata, migrations) use it.
 */
const BUSY_TIMEOUT_MS = 10_000;
/** Between two tries for a lock another process holds: short, since a tag-write batch holds it 1–3 ms. */
const BUSY_RETRY_MS = 1;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

/**
 * Runs `attempt` (a statement on a connection whose busy_timeout is 0) until it does not fail with
 * SQLITE_BUSY, waiting between tries on a timer: while another process holds the file's write lock
 * (several `--workers`, or several tagd processes on one data directory), this process goes on
 * answering reads and queueing writes. Gives up as SQLite would after BUSY_TIMEOUT_MS.
 */
async function whenNotBusy<T>(attempt: () => T): Promise<T> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      return attempt();
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS));
  }
}

/** `BEGIN IMMEDIATE` on the write connection, waiting for the write lock as `whenNotBusy` does. */
function beginImmediate(writer: Database.Database): Promise<void> {
  // Not prepared once: SQLite applies a busy_timeout pragma when it compiles it, not when it runs.
  return whenNotBusy(() => {
    writer.pragma("busy_timeout = 0");
    try {
      writer.exec("BEGIN IMMEDIATE");
    } finally {
      // Inside the transaction the lock is held: statements there keep the ordinary timeout.
      writer.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  });
}

function open(file: string, cacheKiB: number): Database.Database {
  const database = new Database(file);
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  database.pragma(`cache_size = -${cacheKiB}`);
  database.pragma("temp_store = MEMORY");
  // The checkpointer thread keeps the WAL short; committing transactions checkpoint themselves only
  // when it falls this far behind.
  database.pragma(`wal_autocheckpoint = ${FALLBACK_CHECKPOINT_PAGES}`);
  return database;
}

/**
 * Well above one admin import call of 10,000 resources (~36,000 pages at a million resources): below
 * that, every such commit copied and fsynced the WAL on the event loop. Not much higher either: every
 * page read looks the WAL's index up, and a WAL of 100,000+ pages made the import slower again.
 */
const FALLBACK_CHECKPOINT_PAGES = 60000;
const CHECKPOINT_INTERVAL_MS = 25;
/**
 * How long a large transaction (a bulk import or delete call) waits for the checkpointer to catch up
 * before it begins. SQLite starts the WAL over from its first frame only when a write transaction
 * begins with every frame copied back; back-to-back import calls (~17,000 pages each at a million
 * resources) otherwise begin while the last one is still being copied, the WAL never restarts, and
 * every ~3.5 calls a commit passes FALLBACK_CHECKPOINT_PAGES and copies on the event loop: 60–330 ms
 * in which tagd answered nothing. Bounded, since a reader's open snapshot can hold the copy back.
 */
const LARGE_WAIT_MS = 500;
/**
 * The checkpointer's nice value at least (Linux, where a thread has one of its own; never raised above
 * the process's own priority). Background work: the event loop, and whatever else the scheduler ranks
 * it against (its autogroup: the processes of tagd's session, such as the benchmark's load generator),
 * get the processor first when they wake. It still takes whatever is idle, and should it fall behind,
 * the WAL only grows to FALLBACK_CHECKPOINT_PAGES. On the benchmark's two vCPUs, TagResources at 100k,
 * three alternating pairs of runs: 6,060 / 6,148 / 5,600 req/s against 5,853 / 5,521 / 5,673 at the
 * process's priority.
 */
export const CHECKPOINTER_NICE = 10;

/**
 * Copying the WAL back into the database file (a checkpoint) costs about as much as writing the WAL
 * in the first place. A thread of its own does it with its own connection, PASSIVE (never waiting for
 * readers or the writer), so that work runs beside the event loop instead of inside some commit.
 * Plain JavaScript evaluated in the worker: no TypeScript loader is needed there.
 *
 * `caughtUp` asks the thread to say when a pass, run after the question, found every frame of the WAL
 * copied back (wal_checkpoint's log = checkpointed); each question carries a number, and the answer
 * the highest number it covers. It resolves on that answer, after `boundMs`, or at once if the thread
 * is gone.
 */
function startCheckpointer(file: string): {
  caughtUp(boundMs: number): Promise<void>;
  stop(): Promise<void>;
} {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
     const Database = require(workerData.driver);
     const db = new Database(workerData.file);
     db.pragma("busy_timeout = 100");
     try {
       // This thread's id in our own PID namespace (NSpid's last field), which setpriority expects;
       // /proc/thread-self names it as seen from the namespace that mounted /proc.
       const fs = require("node:fs");
       const os = require("node:os");
       const nspid = /^NSpid:.*?(\\d+)\\s*$/m.exec(fs.readFileSync("/proc/thread-self/status", "utf8"));
       const tid = Number(nspid ? nspid[1] : fs.readlinkSync("/proc/thread-self").split("/").pop());
       os.setPriority(tid, Math.min(19, Math.max(os.getPriority(tid), workerData.nice)));
     } catch {}
     let timer;
     let asked = 0;
     let answered = 0;
     const pass = () => {
       let done = false;
       try {
         const r = db.pragma("wal_checkpoint(PASSIVE)")[0];
         done = r.busy === 0 && r.log === r.checkpointed;
       } catch {}
       if (done && asked > answered) {
         answered = asked;
         parentPort.postMessage(answered);
       }
     };
     const tick = () => {
       pass();
       timer = setTimeout(tick, workerData.intervalMs);
     };
     tick();
     parentPort.on("message", (m) => {
       if (typeof m === "number") {
         asked = Math.max(asked, m);
         pass();
         return;
       }
       clearTimeout(timer);
       db.close();
       parentPort.close();
     });`,
    { eval: true, workerData: { driver, file, intervalMs: CHECKPOINT_INTERVAL_MS, nice: CHECKPOINTER_NICE } },
  );
  worker.unref();
  let alive = true;
  let asked = 0;
  const waiters = new Map<number, () => void>();
  const release = (upTo: number) => {
    for (const [id, resolve] of waiters) if (id <= upTo) resolve();
  };
  worker.on("message", (answered: number) => release(answered));
  // A failed checkpointer only means commits checkpoint themselves again (the fallback above).
  worker.on("error", () => {});
  const exited = new Promise<void>((resolve) =>
    worker.once("exit", () => {
      alive = false;
      release(Number.POSITIVE_INFINITY);
      resolve();
    }),
  );
  return {
    caughtUp(boundMs) {
      if (!alive) return Promise.resolve();
      const id = ++asked;
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, boundMs);
        function done() {
          clearTimeout(timer);
          waiters.delete(id);
          resolve();
        }
        waiters.set(id, done);
        worker.postMessage(id);
      });
    },
    async stop() {
      // Unreferenced, the worker would not keep the process alive while we wait for it to end.
      worker.ref();
      worker.postMessage("stop");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}

const statementCaches = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/**
 * Preparing a statement costs as much as running a small query, so the most recent ones are kept
 * by SQL text. Safe because every user runs a statement to completion (`all`/`run`) before the next.
 */
function statement(
  database: Database.Database,
  text: string,
  mode: "objects" | "raw" | "pluck" = "objects",
  max = 512,
): Database.Statement {
  let cache = statementCaches.get(database);
  if (!cache) {
    cache = new Map();
    statementCaches.set(database, cache);
  }
  const id = mode === "objects" ? text : `${mode}:${text}`;
  let stmt = cache.get(id);
  if (stmt) {
    cache.delete(id);
  } else {
    stmt = database.prepare(text);
    if (mode === "pluck") stmt.pluck(true);
    if (mode === "raw") stmt.raw(true);
  }
  setBounded(cache, id, stmt, max);
  return stmt;
}

/**
 * Kysely's view of the write connection, with the statement cache. Its writes (jobs, metadata,
 * migrations) count as local commits, so this process's reader looks at `data_version` again at once
 * (counting a write inside a transaction early only costs one more look).
 */
function cached(database: Database.Database): SqliteDatabase {
  return {
    close: () => database.close(),
    prepare: (text: string) => {
      const stmt = statement(database, text);
      if (stmt.reader) return stmt;
      return {
        reader: false,
        all: (params: ReadonlyArray<unknown>) => stmt.all(params),
        iterate: (params: ReadonlyArray<unknown>) => stmt.iterate(params),
        run(params: ReadonlyArray<unknown>) {
          try {
            return stmt.run(params);
          } finally {
            localCommits++;
          }
        },
      };
    },
  };
}

const RESULT_CACHE_MAX = 128;

/** Commits made through any SQLite store of this process (see SqliteExec.checkVersion). */
let localCommits = 0;

/** Statements straight on a better-sqlite3 connection: synchronous, prepared once. */
/** Exported for the store tests; tagd itself makes these in `openSqliteStore`. */
export class SqliteExec implements SqlExec {
  constructor(private readonly database: Database.Database) {}

  /**
   * Read results kept until the next commit on the file by any connection, of this process or
   * another (`PRAGMA data_version` tells the reading connection): a repeated listing costs a lookup
   * and can never be stale.
   */
  private readonly results = new Map<string, unknown>();
  /** Raised whenever `results` is cleared (see `memo`). */
  private generation = 0;
  private seenVersion = -1;
  private caching = false;

  private dataVersion?: Database.Statement;
  /** Whether another process writes the file too: then every read looks (see `checkVersion`). */
  private sharedFile = false;
  private versionCheckedThisTurn = false;
  private checkedAtLocalCommit = -1;

  /**
   * Clears the results when anything committed since the last look at `PRAGMA data_version`.
   *
   * While this process is the file's only writer, one look per turn of the event loop does: its own
   * commits end the turn's answer at once (`localCommits`). Another process's commit is different: a
   * look taken outside the poll phase (in a setImmediate, after a group commit, say) would still be
   * trusted in the next poll phase, where a request can arrive that was sent after that commit was
   * acknowledged. So once a change shows up that no local commit explains — or from the start under
   * `--workers` — every remembered read looks (~2 µs; per turn, the cheap reads were ~10% faster).
   */
  private checkVersion(): void {
    if (!this.sharedFile && this.versionCheckedThisTurn && this.checkedAtLocalCommit === localCommits) return;
    const localSinceLastLook = this.checkedAtLocalCommit !== localCommits;
    this.checkedAtLocalCommit = localCommits;
    this.dataVersion ??= this.database.prepare("PRAGMA data_version").pluck();
    const version = this.dataVersion.get() as number;
    if (version !== this.seenVersion) {
      if (this.seenVersion !== -1 && !localSinceLastLook) this.sharedFile = true;
      this.results.clear();
      this.generation++;
      this.seenVersion = version;
    }
    if (this.sharedFile || this.versionCheckedThisTurn) return;
    this.versionCheckedThisTurn = true;
    setImmediate(() => {
      this.versionCheckedThisTurn = false;
    });
  }

  /**
   * Makes this (read-only) connection remember its results, as above; `sharedFile`: other processes
   * write the file too (`--workers`), so every read looks at the version from the start.
   */
  cacheResults(options: { sharedFile?: boolean } = {}): this {
    this.caching = true;
    this.sharedFile = options.sharedFile ?? false;
    return this;
  }

  private remembered<T>(kind: string, text: string, params: readonly unknown[], read: () => T[]): T[] {
    if (!this.caching) return read();
    this.checkVersion();
    const id = `${kind}\u0000${text}\u0000${JSON.stringify(params)}`;
    const hit = this.results.get(id) as T[] | undefined;
    if (hit) return hit;
    const rows = Object.freeze(read());
    setBounded(this.results, id, rows, RESULT_CACHE_MAX);
    return rows as T[];
  }

  async memo<T>(key: string, compute: () => Promise<T>): Promise<T> {
    if (!this.caching) return compute();
    this.checkVersion();
    const id = `memo\u0000${key}`;
    if (this.results.has(id)) return this.results.get(id) as T;
    const generation = this.generation;
    const value = await compute();
    // Computed across awaits, perhaps partly before a commit. A commit the cache has not yet seen
    // clears it, this value with it, at the next look; one it saw meanwhile (the cache was cleared
    // under us) must not be outlived by a value read before it.
    if (generation === this.generation) setBounded(this.results, id, value, RESULT_CACHE_MAX);
    return value;
  }

  async query<R>(text: string, params: readonly unknown[]): Promise<R[]> {
    const stmt = statement(this.database, text);
    if (stmt.reader) return stmt.all(params) as R[];
    stmt.run(params);
    return [];
  }

  async column<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    return this.remembered(
      "column",
      text,
      params,
      () => statement(this.database, text, "pluck").all(params) as T[],
    );
  }

  async rows<T extends unknown[]>(text: string, params: readonly unknown[]): Promise<T[]> {
    return this.remembered(
      "rows",
      text,
      params,
      () => statement(this.database, text, "raw").all(params) as T[],
    );
  }

  runMany(text: string, rows: readonly unknown[][]): void {
    const stmt = statement(this.database, text);
    for (const row of rows) stmt.run(row);
  }
}

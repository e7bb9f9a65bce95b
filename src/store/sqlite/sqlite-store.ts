import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Kysely, type SqliteDatabase, SqliteDialect, sql } from "kysely";
import type { DB } from "../sql/schema.ts";
import { type SqlEngine, SqlTagStore } from "../sql/sql-store.ts";

export const SQLITE_FILE = "tagd.sqlite";

/**
 * The embedded store: one SQLite file in WAL mode under the data directory. Kysely's SQLite driver
 * holds one connection behind a mutex, so writers in this process are serialised; `BEGIN IMMEDIATE`
 * takes the write lock up front so writers in other processes on the same file wait (busy_timeout)
 * instead of failing on a lock upgrade.
 */
export function openSqliteStore(dataDir: string): SqlTagStore {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, SQLITE_FILE);
  const database = new Database(file);
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma("busy_timeout = 10000");
  database.pragma("cache_size = -65536");
  database.pragma("temp_store = MEMORY");
  database.pragma("wal_autocheckpoint = 10000");
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  let upsertTag: Database.Statement | undefined;
  const engine: SqlEngine = {
    name: "sqlite",
    rowLocks: false,
    writeTagRows(rows) {
      // Same connection as Kysely's, called while its write transaction holds the connection.
      upsertTag ??= database.prepare(
        `INSERT INTO tags (account_id, rid, region, key, value) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (account_id, rid, key) DO UPDATE SET value = excluded.value`,
      );
      for (const row of rows) upsertTag.run(row);
    },
    async writeTransaction(kdb, fn) {
      return kdb.connection().execute(async (conn) => {
        await sql`BEGIN IMMEDIATE`.execute(conn);
        try {
          const result = await fn(conn);
          await sql`COMMIT`.execute(conn);
          return result;
        } catch (err) {
          await sql`ROLLBACK`.execute(conn);
          throw err;
        }
      });
    },
    async close() {
      if (database.open) database.close();
    },
  };
  return new SqlTagStore(db, engine);
}

/**
 * Kysely's SQLite driver prepares every statement it runs; preparing costs as much as running a
 * small query. Keeping the most recent statements prepared, by SQL text, saves that on every request.
 * Safe because the driver runs each statement to completion (`all`/`run`) before the next one.
 */
function withStatementCache(database: Database.Database, max = 512): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (stmt) {
        cache.delete(text);
      } else {
        stmt = database.prepare(text);
        if (cache.size >= max) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) cache.delete(oldest);
        }
      }
      cache.set(text, stmt);
      return stmt;
    },
  };
}

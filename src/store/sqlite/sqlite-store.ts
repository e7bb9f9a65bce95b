import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
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
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database }) });
  const engine: SqlEngine = {
    name: "sqlite",
    rowLocks: false,
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

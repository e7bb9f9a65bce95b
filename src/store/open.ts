import type { FastifyBaseLogger } from "fastify";
import { guardStore } from "./guard.ts";
import { openPostgresStore } from "./postgres/postgres-store.ts";
import { openSqliteStore } from "./sqlite/sqlite-store.ts";
import type { TagStore } from "./store.ts";

export interface OpenStoreOptions {
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema to use (tests); default: the connection's search_path. */
  schema?: string;
  log?: Pick<FastifyBaseLogger, "warn">;
  /** SQLite: other processes write the file too (`--workers`). */
  sharedFile?: boolean;
  /** SQLite: gather WAL writes with the native extension when it was built (default true). */
  sqliteWalBuffer?: boolean;
}

/** PostgreSQL when a database URL is given, otherwise the embedded SQLite file under the data dir. */
export async function openStore(options: OpenStoreOptions): Promise<TagStore> {
  if (options.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(options.databaseUrl)) {
      throw new Error("--database-url must be a postgres:// or postgresql:// URL");
    }
    return guardStore(
      await openPostgresStore({
        url: options.databaseUrl,
        schema: options.schema,
        onPoolError: (err) => options.log?.warn({ err: err.message }, "idle database connection lost"),
      }),
    );
  }
  return guardStore(
    openSqliteStore(options.dataDir, { sharedFile: options.sharedFile, walBuffer: options.sqliteWalBuffer }),
  );
}

import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { SqlEngine } from "../sql/engine.ts";
import type { DB } from "../sql/schema.ts";
import { SqlTagStore } from "../sql/sql-store.ts";
import { PgExec, pgTransaction } from "./pg-exec.ts";

export interface PostgresOptions {
  url: string;
  /** Puts every table in this schema (created if missing); tests use one schema each. */
  schema?: string;
  /** Connections per instance. */
  poolSize?: number;
  onPoolError?: (err: Error) => void;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The server store: PostgreSQL through a `pg` pool, for several stateless tagd instances on one
 * database. Writes lock the resource row (`SELECT … FOR UPDATE`), so per-resource limits hold across
 * instances; migrations run under Kysely's session advisory lock, so instances can start together.
 */
export async function openPostgresStore(options: PostgresOptions): Promise<SqlTagStore> {
  if (options.schema !== undefined && !SCHEMA_RE.test(options.schema)) {
    throw new Error(`invalid schema name ${options.schema}`);
  }
  // The schema exists before any pooled connection opens with it on its search_path: a connection
  // that started while it was missing can go on resolving names without it.
  if (options.schema) await createSchema(options.url, options.schema);
  // BIGINT (row ids, counts) as numbers: ids stay far below 2^53.
  const types = {
    getTypeParser(oid: number, format?: "text" | "binary") {
      if (oid === pg.types.builtins.INT8) return (value: string) => Number(value);
      return pg.types.getTypeParser(oid, format);
    },
  };
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    types,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // A client whose server goes away emits "error": the pool listens on idle clients only, and an
  // unheard error on a checked-out one would crash the process. Its next query fails instead, and
  // the guard turns that into "unavailable".
  pool.on("error", (err) => options.onPoolError?.(err));
  pool.on("connect", (client) => client.on("error", (err) => options.onPoolError?.(err)));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const engine: SqlEngine = {
    name: "postgres",
    rowLocks: true,
    scopeRevisions: true,
    groupCommit: false,
    writesAtOnce: true,
    arrayParams: true,
    reader: new PgExec(pool),
    writeTransaction(fn) {
      return pgTransaction(pool, fn);
    },
    async close() {
      // Kysely's destroy() ends the pool.
    },
  };
  return new SqlTagStore(db, engine);
}

async function createSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (err) {
    // Instances creating the schema at the same moment: "IF NOT EXISTS" still races in the catalog.
    const code = (err as { code?: string }).code;
    if (code !== "23505" && code !== "42P06") throw err;
  } finally {
    await client.end();
  }
}

import type { Kysely, Transaction } from "kysely";
import type { EngineName } from "../migrations/index.ts";
import type { DB } from "./schema.ts";

export type Conn = Kysely<DB> | Transaction<DB>;

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

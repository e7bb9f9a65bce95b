import type { EngineName } from "../migrations/index.ts";

/** Runs statements written with `?` placeholders; returns their rows (SELECT or RETURNING). */
export interface SqlExec {
  query<R>(text: string, params: readonly unknown[]): Promise<R[]>;
  /** Rows as arrays, columns in SELECT order: no row objects for listings. */
  rows<T extends unknown[]>(text: string, params: readonly unknown[]): Promise<T[]>;
  /** The first column of every row: no row objects for single-column listings. */
  column<T>(text: string, params: readonly unknown[]): Promise<T[]>;
  /** Runs one statement once per row, when the engine does that faster than multi-row statements. */
  runMany?(text: string, rows: readonly unknown[][]): void;
  /**
   * A value computed from this connection's reads, kept as long as the connection's read results are
   * (SQLite: until the next commit on the file). Offered by connections that cache their reads.
   */
  memo?<T>(key: string, compute: () => Promise<T>): Promise<T>;
}

/** What differs between the engines behind the shared SQL. */
export interface SqlEngine {
  name: EngineName;
  /** Whether `SELECT … FOR UPDATE` is needed (and understood) to lock a resource row. */
  rowLocks: boolean;
  /** Reads outside a transaction; they see committed data only. */
  reader: SqlExec;
  /**
   * Whether concurrent tag writes share one transaction (a savepoint per request only when one of
   * them throws). On SQLite a commit costs more than the writes in it, and there is one writer
   * anyway; on PostgreSQL one transaction holding many rows' locks would only make instances wait on
   * each other.
   */
  groupCommit: boolean;
  /**
   * Whether a changed resource's row and its tag rows are written in one statement (PostgreSQL, where
   * every statement is a round trip). SQLite's statements are calls in process: one prepared statement
   * per row beats a text per shape of change.
   */
  writesAtOnce: boolean;
  /**
   * Whether a JavaScript array binds as one SQL array parameter (PostgreSQL: `= ANY(?)`), so a list of
   * ids is one parameter, which the planner takes as index keys even without statistics (a join
   * against a VALUES list it did not).
   */
  arrayParams: boolean;
  /**
   * Whether writes raise per-(account, region) revisions so readers can reuse results across
   * instances (PostgreSQL). SQLite's reader has `PRAGMA data_version` for that instead.
   */
  scopeRevisions: boolean;
  /**
   * Runs `fn` in a write transaction that serialises with other writers of the same resource.
   * `large`: it will write many pages (a bulk call), which SQLite prepares for (see LARGE_WAIT_MS).
   */
  writeTransaction<T>(fn: (exec: SqlExec) => Promise<T>, options?: { large?: boolean }): Promise<T>;
  /**
   * Where signature nonces are kept, when not in the `nonces` table of the database: SQLite keeps them
   * in a file of their own, so that a request's nonce write does not count as a change of the tag
   * data (which would clear the reader's caches on every Alibaba request).
   */
  nonces?: NonceStore;
  close(): Promise<void>;
}

export interface NonceStore {
  /** True the first time; false while an unexpired row of the same nonce exists. */
  remember(accessKeyId: string, nonce: string, expiresAt: number, now: number): Promise<boolean>;
}

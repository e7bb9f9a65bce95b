import type { EngineName } from "../migrations/index.ts";

/** Runs statements written with `?` placeholders; returns their rows (SELECT or RETURNING). */
export interface SqlExec {
  query<R>(text: string, params: readonly unknown[]): Promise<R[]>;
  /** Runs one statement once per row, when the engine does that faster than multi-row statements. */
  runMany?(text: string, rows: readonly unknown[][]): void;
}

/** What differs between the engines behind the shared SQL. */
export interface SqlEngine {
  name: EngineName;
  /** Whether `SELECT … FOR UPDATE` is needed (and understood) to lock a resource row. */
  rowLocks: boolean;
  /** Reads outside a transaction; they see committed data only. */
  reader: SqlExec;
  /** Runs `fn` in a write transaction that serialises with other writers of the same resource. */
  writeTransaction<T>(fn: (exec: SqlExec) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

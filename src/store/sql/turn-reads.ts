import type { SqlExec } from "./engine.ts";

interface Pending {
  text: string;
  params: readonly unknown[];
  promise: Promise<unknown[][]>;
  resolve(rows: unknown[][]): void;
  reject(err: unknown): void;
}

/**
 * Identical reads asked for in one turn of the event loop, answered by one statement. The statement
 * goes out when the turn ends, after every read that shares it arrived, so it sees every write that
 * had committed before any of them began: a read never joins a statement already sent. On
 * PostgreSQL a round trip costs more than most of the reads behind it; under concurrent requests
 * (32 clients polling DescribeReportCreation, say) this spares most of them.
 *
 * The rows are shared by every caller: they are read, never changed.
 */
export class TurnSharedReads {
  private batch?: Map<string, Pending>;

  constructor(private readonly exec: SqlExec) {}

  /** Rows as arrays, as `SqlExec.rows`. */
  rows<T extends unknown[]>(text: string, params: readonly unknown[]): Promise<T[]> {
    let batch = this.batch;
    if (!batch) {
      const open = new Map<string, Pending>();
      this.batch = batch = open;
      setImmediate(() => {
        this.batch = undefined;
        for (const read of open.values())
          this.exec.rows<unknown[]>(read.text, read.params).then(read.resolve, read.reject);
      });
    }
    const id = `${text}\u0000${JSON.stringify(params)}`;
    let read = batch.get(id);
    if (!read) {
      let resolve!: (rows: unknown[][]) => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<unknown[][]>((yes, no) => {
        resolve = yes;
        reject = no;
      });
      read = { text, params, promise, resolve, reject };
      batch.set(id, read);
    }
    return read.promise as Promise<T[]>;
  }
}

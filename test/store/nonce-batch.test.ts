import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import Database from "better-sqlite3";
import { openStore } from "../../src/store/open.ts";
import { NONCE_FILE } from "../../src/store/sqlite/sqlite-store.ts";
import { ENGINES, schemaPool, withSqliteStore } from "./engines.ts";

/** Nonces asked for in one turn of the event loop are written together (SQLite: one transaction; PostgreSQL: one statement). */

test("nonces asked in one turn are committed together, each with its own answer", async () => {
  await withSqliteStore(async ({ dataDir, store }) => {
    const now = Date.now();
    await store.rememberNonce("LTAIone", "n-first", now + 60_000, now); // creates the file
    const other = new Database(join(dataDir, NONCE_FILE));
    try {
      // The WAL emptied, then the frames the batch writes counted: one transaction writes its few
      // changed pages once (and one commit frame); a transaction per nonce writes them twenty times.
      other.pragma("wal_checkpoint(TRUNCATE)");
      const asked = Array.from({ length: 20 }, (_, i) =>
        store.rememberNonce("LTAIone", `n-${i}`, now + 60_000, now),
      );
      assert.deepEqual(await Promise.all(asked), Array(20).fill(true));
      const [{ log }] = other.pragma("wal_checkpoint(PASSIVE)") as [{ log: number }];
      assert.ok(log >= 1 && log <= 4, `${log} WAL frames for 20 nonces`);
      // A nonce twice in one batch is refused the second time; another key's same nonce is not.
      const same = await Promise.all([
        store.rememberNonce("LTAIone", "n-dup", now + 60_000, now),
        store.rememberNonce("LTAIone", "n-dup", now + 60_000, now),
        store.rememberNonce("LTAItwo", "n-dup", now + 60_000, now),
        store.rememberNonce("LTAIone", "n-3", now + 60_000, now),
      ]);
      assert.deepEqual(same, [true, false, true, false]);
    } finally {
      other.close();
    }
  });
});

for (const engine of ENGINES) {
  describe(`nonces asked together (${engine.name})`, { skip: engine.skip }, () => {
    test("each has its own answer: a nonce twice in one turn is refused the second time", async () => {
      const scratch = await engine.scratch();
      const store = await openStore(scratch);
      await store.migrate();
      try {
        const now = Date.now();
        const ask = (key: string, nonce: string) => store.rememberNonce(key, nonce, now + 60_000, now);
        assert.equal(await ask("LTAIone", "n-before"), true);
        const answers = await Promise.all([
          ask("LTAIone", "n-dup"),
          ask("LTAIone", "n-dup"),
          ask("LTAItwo", "n-dup"),
          ask("LTAIone", "n-before"),
          ask("LTAIone", "n-new"),
        ]);
        assert.deepEqual(answers, [true, false, true, false, true]);
        // An expired row is taken over, in a batch too.
        const later = now + 120_000;
        const again = await Promise.all([
          store.rememberNonce("LTAIone", "n-dup", later + 60_000, later),
          store.rememberNonce("LTAIone", "n-dup", later + 60_000, later),
        ]);
        assert.deepEqual(again, [true, false]);
        if (scratch.databaseUrl) {
          // PostgreSQL: one statement for the batch, so its rows share the inserting transaction.
          const batch = Array.from({ length: 20 }, (_, i) => ask("LTAIone", `n-batch-${i}`));
          assert.deepEqual(await Promise.all(batch), Array(20).fill(true));
          const pool = schemaPool(scratch);
          try {
            const { rows } = await pool.query(
              "SELECT count(DISTINCT xmin::text)::int AS n FROM nonces WHERE nonce LIKE 'n-batch-%'",
            );
            assert.equal(rows[0].n, 1);
          } finally {
            await pool.end();
          }
        }
      } finally {
        await store.close();
        await scratch.dispose();
      }
    });
  });
}

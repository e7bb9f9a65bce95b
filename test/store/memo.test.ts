import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { openStore } from "../../src/store/open.ts";
import { SQLITE_FILE, SqliteExec } from "../../src/store/sqlite/sqlite-store.ts";

/**
 * SQLite keeps whole listing results with its reader's results (`memo`) until the next commit. A value
 * computed across awaits must not be kept when a commit landed meanwhile: it may hold rows from before.
 */
async function withStore(
  run: (ctx: { dataDir: string; reader: SqliteExec; db: Database.Database }) => Promise<void>,
) {
  const dataDir = mkdtempSync(join(tmpdir(), "tagd-memo-"));
  const store = await openStore({ dataDir });
  await store.migrate();
  const db = new Database(join(dataDir, SQLITE_FILE));
  const reader = new SqliteExec(db).cacheResults();
  try {
    await run({ dataDir, reader, db });
    // A write of this process through Kysely (metadata, jobs, migrations) is seen within the same turn
    // of the event loop: the reader looks at data_version again instead of trusting this turn's look.
    let computed = 0;
    const count = async () => {
      computed++;
      return (await reader.column<number>("SELECT COUNT(*) FROM meta", []))[0];
    };
    const first = await reader.memo("local", async () => {
      const n = await count();
      await store.getOrSetMeta("memo-local", "x");
      return n;
    });
    assert.equal(
      await reader.memo("local", count),
      (first as number) + 1,
      "recomputed after the local commit",
    );
    assert.equal(computed, 2);
    assert.equal(await reader.memo("local", count), (first as number) + 1, "kept while nothing commits");
    assert.equal(computed, 2);
  } finally {
    db.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test("a memo computed across a commit is not kept, whether another process or this one committed", async () => {
  await withStore(async ({ dataDir, reader }) => {
    const other = new Database(join(dataDir, SQLITE_FILE));
    let computed = 0;
    const read = async () => {
      computed++;
      return (
        (await reader.column<string>("SELECT value FROM meta WHERE key = 'memo-other'", []))[0] ?? "none"
      );
    };
    const stale = await reader.memo("other", async () => {
      const before = await read();
      // Another process commits; a later turn's read notices it and clears the cache meanwhile.
      other.prepare("INSERT INTO meta (key, value) VALUES ('memo-other', 'new')").run();
      await new Promise((resolve) => setImmediate(resolve));
      await reader.rows("SELECT 1", []);
      return before;
    });
    assert.equal(stale, "none");
    assert.equal(await reader.memo("other", read), "new", "the value from before the commit was not kept");
    assert.equal(computed, 2);
    other.close();
  });
});

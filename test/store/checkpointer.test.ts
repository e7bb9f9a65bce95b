import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { openStore } from "../../src/store/open.ts";
import { CHECKPOINTER_NICE, SQLITE_FILE } from "../../src/store/sqlite/sqlite-store.ts";
import { ENGINES, ec2, openFresh } from "./engines.ts";

const SQLITE = ENGINES.find((e) => e.name === "sqlite");
if (!SQLITE) throw new Error("no SQLite engine under test");

/** A thread's nice value (Linux: field 19 of /proc/self/task/<tid>/stat). */
function niceOf(tid: string): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

function threads(): string[] {
  return readdirSync("/proc/self/task");
}

test("the SQLite checkpointer thread runs below the event loop's priority, never above it", {
  skip: process.platform === "linux" ? undefined : "per-thread nice values are Linux's",
}, async () => {
  const own = niceOf(String(process.pid));
  const expected = Math.max(own, CHECKPOINTER_NICE);
  const before = new Set(threads());
  const { dispose } = await openFresh(SQLITE);
  try {
    // The store's new threads: the checkpointer among them, lowered once its worker has started.
    let lowered: string[] = [];
    for (let i = 0; i < 100 && lowered.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      lowered = threads().filter((tid) => !before.has(tid) && niceOf(tid) === expected);
    }
    assert.ok(lowered.length >= 1, `a new thread at nice ${expected}`);
    if (own < CHECKPOINTER_NICE)
      assert.equal(lowered.length, 1, "only the checkpointer is lowered; the store's other threads are not");
    assert.equal(niceOf(String(process.pid)), own, "the main thread keeps its priority");
    for (const tid of threads()) assert.ok(niceOf(tid) >= own, `thread ${tid} raised above the process`);
  } finally {
    await dispose();
  }
});

/** 2,000 resources with 10 tags each (call `call`'s own ARNs): a large call, of ~700 WAL pages. */
function largeCall(call: number) {
  return Array.from({ length: 2000 }, (_, i) => ({
    resource: ec2(`i-wal${call}x${String(i).padStart(6, "0")}`),
    tags: Array.from({ length: 10 }, (_, k) => ({ key: `k${k}`, value: `v${call}-${i}-${k}` })),
  }));
}

/**
 * SQLite starts the WAL over only when a write transaction begins with every frame copied back. Import
 * calls sent back to back began while the checkpointer was still copying the last one, so the WAL
 * grew call after call until a commit checkpointed it on the event loop. A large call now waits
 * (bounded) for the checkpointer first: the WAL file (which SQLite never shrinks) stays one call long.
 */
test("back-to-back large imports start the SQLite WAL over each time (sqlite)", async () => {
  const scratch = await SQLITE.scratch();
  const store = await openStore(scratch);
  try {
    await store.migrate();
    const wal = () => statSync(join(scratch.dataDir, `${SQLITE_FILE}-wal`)).size;
    await store.upsertResources(largeCall(0));
    const oneCall = wal();
    for (let call = 1; call <= 5; call++) await store.upsertResources(largeCall(call));
    assert.ok(
      wal() < 2 * oneCall,
      `the WAL is ${wal()} bytes after 6 calls, ${oneCall} after the first: it did not start over`,
    );
  } finally {
    await store.close();
    await scratch.dispose();
  }
});

/** The wait is bounded: a reader's open snapshot keeps the checkpointer from catching up, not the import. */
test("a large import does not wait for a checkpoint that a reader's snapshot holds back (sqlite)", {
  timeout: 30_000,
}, async () => {
  const scratch = await SQLITE.scratch();
  const store = await openStore(scratch);
  const reader = new Database(join(scratch.dataDir, SQLITE_FILE));
  try {
    await store.migrate();
    await store.upsertResources(largeCall(0));
    // A read transaction holding its snapshot: frames committed after it cannot be copied back.
    reader.exec("BEGIN");
    reader.prepare("SELECT COUNT(*) FROM resources").get();
    for (let call = 1; call <= 3; call++) {
      const result = await store.upsertResources(largeCall(call));
      assert.equal(result.created, 2000);
    }
    reader.exec("COMMIT");
    const page = await store.listInventory({ accountId: "111111111111", limit: 1 });
    assert.equal(page.items.length, 1);
  } finally {
    reader.close();
    await store.close();
    await scratch.dispose();
  }
});

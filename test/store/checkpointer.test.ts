import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { CHECKPOINTER_NICE } from "../../src/store/sqlite/sqlite-store.ts";
import { ENGINES, openFresh } from "./engines.ts";

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

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { CHECKPOINTER_NICE } from "../../src/store/sqlite/sqlite-store.ts";
import { ENGINES, openFresh } from "./engines.ts";

const SQLITE = ENGINES.find((e) => e.name === "sqlite");
if (!SQLITE) throw new Error("no SQLite engine under test");

/** The nice value of each thread of this process (Linux: field 19 of /proc/self/task/<tid>/stat). */
function niceOf(tid: string): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

function threadNices(): number[] {
  return readdirSync("/proc/self/task").map(niceOf);
}

test("the SQLite checkpointer thread runs below the event loop's priority", {
  skip: process.platform === "linux" ? undefined : "per-thread nice values are Linux's",
}, async () => {
  const before = threadNices().filter((n) => n === CHECKPOINTER_NICE).length;
  const { dispose } = await openFresh(SQLITE);
  try {
    let lowered = 0;
    for (let i = 0; i < 100 && lowered <= before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      lowered = threadNices().filter((n) => n === CHECKPOINTER_NICE).length;
    }
    assert.equal(lowered, before + 1, "one thread more at the checkpointer's nice value");
    assert.equal(niceOf(String(process.pid)), 0, "the main thread keeps its priority");
  } finally {
    await dispose();
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { countTurns } from "../turns.ts";
import { ENGINES, ec2, openFresh } from "./engines.ts";

const SQLITE = ENGINES.find((e) => e.name === "sqlite");
if (!SQLITE) throw new Error("no SQLite engine under test");

/**
 * On SQLite a statement is a call in process: an import that never awaited anything but its own
 * statements held the event loop from its first chunk to its commit (~1 s per 10,000 resources at a
 * million), and tagd answered nothing else meanwhile. It gives the loop a turn between two chunks of
 * resources and between two slices of tag rows.
 */
test("an import gives the event loop turns between its chunks and its slices of tag rows (sqlite)", async () => {
  const { store, dispose } = await openFresh(SQLITE);
  try {
    // 2,000 resources (4 chunks of 500) with 10 tags each: 20,000 tag rows (5 slices of 4,096).
    const items = Array.from({ length: 2000 }, (_, i) => ({
      resource: ec2(`i-turns${String(i).padStart(6, "0")}`),
      tags: Array.from({ length: 10 }, (_, k) => ({ key: `k${k}`, value: `v${i % (k + 3)}` })),
    }));
    const { value: result, turns } = await countTurns(() => store.upsertResources(items));
    assert.deepEqual(result, { created: 2000, updated: 0, tags: 20_000 });
    // 3 turns between the 4 chunks, 5 before the 5 slices (the first after the last chunk).
    assert.ok(turns >= 8, `the event loop turned ${turns} times during the import`);
  } finally {
    await dispose();
  }
});

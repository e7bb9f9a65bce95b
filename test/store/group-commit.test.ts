import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { TagStore } from "../../src/store/store.ts";
import { ENGINES, ec2, openFresh } from "./engines.ts";

const A = "111111111111";
const SQLITE = ENGINES.find((e) => e.name === "sqlite");
if (!SQLITE) throw new Error("no SQLite engine under test");

/** Resolves after `n` turns of the event loop (each a check phase later). */
function turns(n: number): Promise<void> {
  return new Promise((resolve) => {
    const step = (left: number) => (left === 0 ? resolve() : setImmediate(() => step(left - 1)));
    step(n);
  });
}

/**
 * SQLite's group commit gathers writes across turns of the event loop while they keep coming (the
 * clients answered from one batch send their next writes while tagd is still reading the others).
 * PostgreSQL commits each request on its own, so this is SQLite's alone.
 */
describe("group commit gathers writes across turns (sqlite)", () => {
  let store: TagStore;
  let dispose: () => Promise<void>;
  before(async () => {
    ({ store, dispose } = await openFresh(SQLITE));
  });
  after(() => dispose());

  /** Asks a write tagging `id`, logging when its check runs (inside the transaction) and when it is answered. */
  function write(id: string, log: string[]): Promise<unknown> {
    return store
      .applyTagChanges(A, [
        {
          resource: ec2(id),
          register: true,
          set: [{ key: "k", value: id }],
          remove: [],
          check: () => {
            log.push(`check ${id}`);
            return null;
          },
        },
      ])
      .then((results) => {
        log.push(`done ${id}`);
        return results;
      });
  }

  test("writes asked in consecutive turns share one transaction", async () => {
    const log: string[] = [];
    const asked: Promise<unknown>[] = [];
    for (let i = 0; i < 4; i++) {
      asked.push(write(`i-turn-${i}`, log));
      await turns(1);
    }
    await Promise.all(asked);
    // Every check ran before any answer: one transaction. Committed a turn at a time, each write
    // would be answered before the next was asked.
    assert.deepEqual(log.slice(0, 4), [
      "check i-turn-0",
      "check i-turn-1",
      "check i-turn-2",
      "check i-turn-3",
    ]);
    const found = await store.getTagged(
      A,
      "us-east-1",
      [0, 1, 2, 3].map((i) => ec2(`i-turn-${i}`).name),
    );
    assert.equal(found.length, 4);
  });

  test("a steady trickle of writes does not hold the first one back", async () => {
    const log: string[] = [];
    const asked: Promise<unknown>[] = [];
    let answeredAtTurn = -1;
    const TRICKLE = 40;
    for (let i = 0; i < TRICKLE; i++) {
      const p = write(`i-trickle-${i}`, log);
      if (i === 0) void p.then(() => (answeredAtTurn = asked.length));
      asked.push(p);
      await turns(1);
    }
    await Promise.all(asked);
    // Answered within a few turns although a new write came every turn.
    assert.ok(answeredAtTurn > 0 && answeredAtTurn <= 12, `first write answered at turn ${answeredAtTurn}`);
    assert.equal(log.filter((l) => l.startsWith("done")).length, TRICKLE);
  });

  test("a lone write is answered after one quiet turn", async () => {
    const log: string[] = [];
    let answered = false;
    const p = write("i-lone", log).then(() => (answered = true));
    await turns(4);
    assert.equal(answered, true);
    await p;
  });
});

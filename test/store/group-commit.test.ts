import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { GATHER_MS } from "../../src/store/sql/sql-store.ts";
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
    // A first write warms the path up, so that the turns below take microseconds, as they do in a
    // running server, and only the turn and request bounds are in play (GATHER_MS).
    await write("i-warm-up", []);
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

  /**
   * Runs `attempt` until one takes less than GATHER_MS from its first write to its last look (a busy
   * machine can stretch a few turns past it, and then the time bound rightly ends the gathering).
   */
  async function withinGatherTime(attempt: (n: number) => Promise<void>): Promise<void> {
    for (let n = 0; n < 20; n++) {
      const started = performance.now();
      await attempt(n);
      if (performance.now() - started < GATHER_MS) return;
    }
    assert.fail(`no attempt took less than ${GATHER_MS} ms: the machine is too busy to tell`);
  }

  test("writes asked in consecutive turns share one transaction", async () => {
    let log: string[] = [];
    let asked: Promise<unknown>[] = [];
    await withinGatherTime(async (n) => {
      log = [];
      asked = [];
      for (let i = 0; i < 4; i++) {
        asked.push(write(`i-turn-${n}-${i}`, log));
        await turns(1);
      }
      // The last write is still gathering: its check runs in a later turn.
      await Promise.resolve();
    });
    await Promise.all(asked);
    // Every check ran before any answer: one transaction. Committed a turn at a time, each write
    // would be answered before the next was asked.
    assert.deepEqual(
      log.map((l) => l.split(" ")[0]),
      ["check", "check", "check", "check", "done", "done", "done", "done"],
    );
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
    let afterOne = true;
    let afterTwo = false;
    await withinGatherTime(async (n) => {
      let answered = false;
      const p = write(`i-lone-${n}`, []).then(() => (answered = true));
      // The turn after it was asked looks for company; the next, finding none, commits.
      await turns(1);
      afterOne = answered;
      await turns(1);
      afterTwo = answered;
      await p;
    });
    assert.equal(afterOne, false, "committed in the turn it was asked: nothing could join it");
    assert.equal(afterTwo, true, "still waiting after a quiet turn");
  });

  test("turns that take long end the gathering early", async () => {
    const log: string[] = [];
    const asked: Promise<unknown>[] = [];
    let answeredAtTurn = -1;
    for (let i = 0; i < 12; i++) {
      const p = write(`i-slow-${i}`, log);
      if (i === 0) void p.then(() => (answeredAtTurn = asked.length));
      asked.push(p);
      // A turn busy for 4 ms (reads being answered, say), then the next.
      const until = performance.now() + 4;
      while (performance.now() < until);
      await turns(1);
    }
    await Promise.all(asked);
    // By time, not by the 8-turn bound: a slower machine only makes each turn longer.
    assert.ok(answeredAtTurn > 0 && answeredAtTurn <= 4, `first write answered at turn ${answeredAtTurn}`);
  });
});

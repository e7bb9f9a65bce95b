import assert from "node:assert/strict";
import { test } from "node:test";
import type { SqlExec } from "../../src/store/sql/engine.ts";
import { TurnSharedReads } from "../../src/store/sql/turn-reads.ts";

/** A statement runner that records what it was sent and answers from `answer`. */
function recording(answer: (text: string, params: readonly unknown[]) => unknown[][] | Error) {
  const sent: { text: string; params: readonly unknown[] }[] = [];
  const exec: SqlExec = {
    query: async () => [],
    column: async () => [],
    async rows<T extends unknown[]>(text: string, params: readonly unknown[]) {
      sent.push({ text, params });
      const result = answer(text, params);
      if (result instanceof Error) throw result;
      return result as T[];
    },
  };
  return { exec, sent };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test("identical reads of one turn share one statement; different ones do not", async () => {
  const { exec, sent } = recording((_, params) => [[`answer for ${String(params[0])}`]]);
  const reads = new TurnSharedReads(exec);
  const asked = [
    ...Array.from({ length: 10 }, () => reads.rows<[string]>("SELECT revision FROM t WHERE k = ?", ["a"])),
    reads.rows<[string]>("SELECT revision FROM t WHERE k = ?", ["b"]),
    reads.rows<[string]>("SELECT other FROM t WHERE k = ?", ["a"]),
  ];
  assert.equal(sent.length, 0, "nothing goes out before the turn ends");
  const answers = await Promise.all(asked);
  assert.equal(sent.length, 3);
  assert.deepEqual(answers[0], [["answer for a"]]);
  assert.deepEqual(answers[9], [["answer for a"]]);
  assert.deepEqual(answers[10], [["answer for b"]]);
});

test("a read never joins a statement already sent", async () => {
  let version = 1;
  const { exec, sent } = recording(() => [[version]]);
  const reads = new TurnSharedReads(exec);
  const first = reads.rows<[number]>("SELECT v FROM t", []);
  await turn(); // the statement has gone out, answered with version 1
  version = 2; // a write commits and is acknowledged; then another read is asked
  const second = reads.rows<[number]>("SELECT v FROM t", []);
  assert.deepEqual(await first, [[1]]);
  assert.deepEqual(await second, [[2]]);
  assert.equal(sent.length, 2);
});

test("a failed statement fails every read that shared it, and the next turn tries again", async () => {
  let fail = true;
  const { exec, sent } = recording(() => (fail ? new Error("connection lost") : [[1]]));
  const reads = new TurnSharedReads(exec);
  const asked = [reads.rows("SELECT v FROM t", []), reads.rows("SELECT v FROM t", [])];
  for (const r of await Promise.allSettled(asked)) {
    assert.equal(r.status, "rejected");
    assert.match(String((r as PromiseRejectedResult).reason), /connection lost/);
  }
  fail = false;
  assert.deepEqual(await reads.rows("SELECT v FROM t", []), [[1]]);
  assert.equal(sent.length, 2);
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PgExec } from "../../src/store/postgres/pg-exec.ts";
import { ENGINES, ec2, openFresh } from "./engines.ts";

const A = "111111111111";
const B = "222222222222";
const postgres = ENGINES.find((e) => e.name === "postgres");

/**
 * On PostgreSQL the getResources calls of one turn of the event loop go as one statement per account
 * (SqlTagStore.readResourcesTogether). The statements are counted on the store's own reader class.
 */
describe("PostgreSQL getResources of one turn read together", { skip: postgres?.skip }, () => {
  test("one statement per account, each caller its own names and records, writes before it seen", async () => {
    const { store, dispose } = await openFresh(postgres as (typeof ENGINES)[number]);
    const query = PgExec.prototype.query;
    let lookups = 0;
    PgExec.prototype.query = function (this: PgExec, text, params) {
      if (text.includes("FROM resources WHERE account_id = ? AND name = ANY")) lookups++;
      return query.call(this, text, params);
    } as typeof query;
    try {
      const [a1, a2, b1] = [ec2("i-one", A), ec2("i-two", A), ec2("i-one", B)];
      await store.upsertResources([{ resource: a1 }, { resource: a2 }, { resource: b1 }]);
      await store.applyTagChanges(A, [
        { resource: a2, register: false, set: [{ key: "k", value: "v" }], remove: [] },
      ]);
      lookups = 0;
      const [first, second, again, other] = await Promise.all([
        store.getResources(A, [a1.name, ec2("i-absent", A).name]),
        store.getResources(A, [a2.name]),
        store.getResources(A, [a2.name, a1.name]),
        // Account B asking for A's names finds nothing; its own name, its own record.
        store.getResources(B, [a1.name, b1.name]),
      ]);
      assert.equal(lookups, 2, "one statement for each of the two accounts");
      assert.deepEqual([...first.keys()], [a1.name]);
      assert.deepEqual([...second.keys()], [a2.name]);
      assert.deepEqual([...again.keys()].sort(), [a1.name, a2.name].sort());
      assert.deepEqual([...other.keys()], [b1.name]);
      assert.equal(other.get(b1.name)?.accountId, B);
      assert.deepEqual(second.get(a2.name)?.tags, [{ key: "k", value: "v" }]);
      // Each caller has records of its own: changing one answer changes no other.
      assert.notEqual(second.get(a2.name), again.get(a2.name));
      // Calls of different turns are read apart, and see what was written in between.
      await store.applyTagChanges(A, [
        { resource: a1, register: false, set: [{ key: "k", value: "later" }], remove: [] },
      ]);
      assert.deepEqual((await store.getResources(A, [a1.name])).get(a1.name)?.tags, [
        { key: "k", value: "later" },
      ]);
      assert.equal(lookups, 3);
      // Asking for no names sends nothing.
      assert.equal((await store.getResources(A, [])).size, 0);
      assert.equal(lookups, 3);
    } finally {
      PgExec.prototype.query = query;
      await dispose();
    }
  });
});

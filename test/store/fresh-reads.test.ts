import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openStore } from "../../src/store/open.ts";
import { PgExec } from "../../src/store/postgres/pg-exec.ts";
import type { SqlExec } from "../../src/store/sql/engine.ts";
import { Listings } from "../../src/store/sql/listing.ts";
import { TurnSharedReads } from "../../src/store/sql/turn-reads.ts";
import { ENGINES, ec2, schemaPool } from "./engines.ts";

const A = "111111111111";

/**
 * Both engines remember read results (SQLite until the next commit, PostgreSQL per scope revision):
 * a write through another store on the same database must show in the very next read.
 */
for (const engine of ENGINES) {
  describe(`reads stay fresh across instances (${engine.name})`, { skip: engine.skip }, () => {
    test("every kind of read sees the other instance's writes at once", async () => {
      const scratch = await engine.scratch();
      const one = await openStore(scratch);
      const two = await openStore(scratch);
      await one.migrate();
      await two.migrate();
      try {
        const r = ec2("i-fresh");
        const read = async () => ({
          keys: (await one.listTagKeys({ accountId: A, region: "us-east-1", limit: 10 })).items,
          values: (await one.listTagValues({ accountId: A, region: "us-east-1", key: "k", limit: 10 })).items,
          page: (
            await one.queryTagged({
              accountId: A,
              region: "us-east-1",
              tagFilters: [{ key: "k", values: [] }],
              typeFilters: [],
              limit: 10,
            })
          ).items.map((x) => x.tagsJson),
          byName: (await one.getTagged(A, "us-east-1", [r.name])).map((x) => x.tagsJson),
        });
        assert.deepEqual(await read(), { keys: [], values: [], page: [], byName: [] });
        await two.applyTagChanges(A, [
          { resource: r, register: true, set: [{ key: "k", value: "1" }], remove: [] },
        ]);
        const tagged = '[{"Key":"k","Value":"1"}]';
        assert.deepEqual(await read(), { keys: ["k"], values: ["1"], page: [tagged], byName: [tagged] });
        await two.applyTagChanges(A, [
          { resource: r, register: false, set: [{ key: "k", value: "2" }], remove: [] },
        ]);
        const changed = '[{"Key":"k","Value":"2"}]';
        assert.deepEqual(await read(), { keys: ["k"], values: ["2"], page: [changed], byName: [changed] });
        await two.deleteResources([{ accountId: A, name: r.name }]);
        assert.deepEqual(await read(), { keys: [], values: [], page: [], byName: [] });
      } finally {
        await one.close();
        await two.close();
        await scratch.dispose();
      }
    });

    test("reads begun together, or while another's revision read is out, each see every earlier write", async () => {
      const scratch = await engine.scratch();
      const one = await openStore(scratch);
      const two = await openStore(scratch);
      await one.migrate();
      await two.migrate();
      const keys = () => one.listTagKeys({ accountId: A, region: "us-east-1", limit: 10 });
      const values = () => one.listTagValues({ accountId: A, region: "us-east-1", key: "k", limit: 10 });
      try {
        assert.deepEqual((await keys()).items, []);
        for (let round = 1; round <= 5; round++) {
          await two.applyTagChanges(A, [
            {
              resource: ec2(`i-together-${round}`),
              register: true,
              set: [{ key: "k", value: `v${round}` }],
              remove: [],
            },
          ]);
          // Many reads asked in one turn (they share one revision read), and one asked in the next
          // turn, once the first turn's read has gone out.
          const together = [...Array.from({ length: 8 }, keys), ...Array.from({ length: 8 }, values)];
          await new Promise((resolve) => setImmediate(resolve));
          const later = values();
          const answers = await Promise.all([...together, later]);
          const expected = Array.from({ length: round }, (_, i) => `v${i + 1}`);
          for (const answer of answers.slice(0, 8)) assert.deepEqual(answer.items, ["k"]);
          for (const answer of answers.slice(8)) assert.deepEqual(answer.items, expected, `round ${round}`);
        }
      } finally {
        await one.close();
        await two.close();
        await scratch.dispose();
      }
    });
  });
}

const postgres = ENGINES.find((e) => e.name === "postgres");
describe("PostgreSQL reads share a revision read only with reads that began before it went out", {
  skip: postgres?.skip,
}, () => {
  test("a read begun while a revision read is out does not take its answer", async () => {
    const scratch = await (postgres as (typeof ENGINES)[number]).scratch();
    const writer = await openStore(scratch);
    await writer.migrate();
    const pool = schemaPool(scratch);
    // The database's own reader, whose answers to the revision read can be held back: the statement
    // runs at once, as it would, and its answer arrives when the test says.
    const real = new PgExec(pool);
    let hold: Promise<void> | undefined;
    const held = async <T>(text: string, answer: Promise<T>): Promise<T> => {
      const gate = text.includes("FROM revisions") ? hold : undefined;
      const rows = await answer;
      await gate;
      return rows;
    };
    const reader: SqlExec = {
      query: (text, params) => real.query(text, params),
      rows: (text, params) => held(text, real.rows(text, params)),
      column: (text, params) => held(text, real.column(text, params)),
    };
    const listings = new Listings(reader, new TurnSharedReads(reader));
    const keys = async () =>
      (await listings.listTagKeys({ accountId: A, region: "us-east-1", limit: 10 })).items;
    try {
      assert.deepEqual(await keys(), []);
      let release!: () => void;
      hold = new Promise((resolve) => {
        release = resolve;
      });
      const early = keys();
      // The first read's revision read goes out at the end of this turn and is answered (held).
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 50));
      hold = undefined;
      await writer.applyTagChanges(A, [
        { resource: ec2("i-held"), register: true, set: [{ key: "held", value: "1" }], remove: [] },
      ]);
      const late = keys();
      release();
      assert.deepEqual(await early, [], "the early read began before the write");
      assert.deepEqual(await late, ["held"], "the late read began after the write committed");
    } finally {
      await pool.end();
      await writer.close();
      await scratch.dispose();
    }
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openStore } from "../../src/store/open.ts";
import { PgExec } from "../../src/store/postgres/pg-exec.ts";
import type { SqlExec } from "../../src/store/sql/engine.ts";
import { Listings } from "../../src/store/sql/listing.ts";
import { TurnSharedReads } from "../../src/store/sql/turn-reads.ts";
import { ENGINES, ec2, schemaPool } from "./engines.ts";

const A = "111111111111";
const postgres = ENGINES.find((e) => e.name === "postgres");

/**
 * PostgreSQL keeps listings by scope revision (Listings.remembered) in a bounded map. What is kept,
 * and when it is computed, counted on the database's own reader.
 */
describe("PostgreSQL listings kept by revision", { skip: postgres?.skip }, () => {
  test("callers asking the same at once share one computation, and lookups by name keep nothing", async () => {
    const scratch = await (postgres as (typeof ENGINES)[number]).scratch();
    const writer = await openStore(scratch);
    await writer.migrate();
    const pool = schemaPool(scratch);
    const real = new PgExec(pool);
    let keyReads = 0;
    let failNext = false;
    const counted = (text: string) => {
      if (!text.includes("FROM tag_keys")) return;
      keyReads++;
      if (failNext) {
        failNext = false;
        throw new Error("the database went away");
      }
    };
    const reader: SqlExec = {
      query: (text, params) => real.query(text, params),
      rows: (text, params) => {
        counted(text);
        return real.rows(text, params);
      },
      column: (text, params) => {
        counted(text);
        return real.column(text, params);
      },
    };
    const listings = new Listings(reader, new TurnSharedReads(reader), true);
    const keys = async () =>
      (await listings.listTagKeys({ accountId: A, region: "us-east-1", limit: 10 })).items;
    try {
      await writer.applyTagChanges(A, [
        { resource: ec2("i-kept"), register: true, set: [{ key: "kept", value: "1" }], remove: [] },
      ]);
      // Asked together: each reads the revision, then finds the first one's computation under way.
      const answers = await Promise.all([keys(), keys(), keys()]);
      for (const answer of answers) assert.deepEqual(answer, ["kept"]);
      assert.equal(keyReads, 1, "concurrent callers share the computation");
      // Lookups of 300 different names (more than the map holds) push nothing out.
      for (let i = 0; i < 300; i++)
        await listings.getTagged(A, "us-east-1", [`arn:aws:ec2:us-east-1:${A}:instance/i-${i}`]);
      assert.deepEqual(await keys(), ["kept"]);
      assert.equal(keyReads, 1, "the listing was still kept");
      // A write still shows at once.
      await writer.applyTagChanges(A, [
        { resource: ec2("i-kept"), register: false, set: [{ key: "later", value: "1" }], remove: [] },
      ]);
      assert.deepEqual(await keys(), ["kept", "later"]);
      assert.equal(keyReads, 2);
      // A computation that failed is not kept: the next call computes again.
      await writer.applyTagChanges(A, [
        { resource: ec2("i-kept"), register: false, set: [{ key: "last", value: "1" }], remove: [] },
      ]);
      failNext = true;
      await assert.rejects(keys(), /went away/);
      assert.deepEqual(await keys(), ["kept", "last", "later"]);
      assert.equal(keyReads, 4);
    } finally {
      await pool.end();
      await writer.close();
      await scratch.dispose();
    }
  });
});

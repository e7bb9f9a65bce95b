import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { openStore } from "../../src/store/open.ts";
import type { TagStore } from "../../src/store/store.ts";
import { ENGINES, type Scratch } from "./engines.ts";

const A = "111111111111";
const B = "222222222222";

for (const engine of ENGINES) {
  describe(`job queue (${engine.name})`, { skip: engine.skip }, () => {
    let scratch: Scratch;
    let one: TagStore;
    let two: TagStore;
    before(async () => {
      scratch = await engine.scratch();
      one = await openStore(scratch);
      two = await openStore(scratch);
      await Promise.all([one.migrate(), two.migrate()]);
    });
    after(async () => {
      await one.close();
      await two.close();
      await scratch.dispose();
    });

    test("one unfinished job of a kind per account; another account is independent", async () => {
      assert.deepEqual(
        await one.jobs.enqueue({ accountId: A, id: "j1", kind: "solo", payload: "{}", now: 1 }),
        {
          ok: true,
        },
      );
      const again = await two.jobs.enqueue({ accountId: A, id: "j2", kind: "solo", payload: "{}", now: 2 });
      assert.equal(again.ok, false);
      assert.equal(!again.ok && again.active.id, "j1");
      assert.deepEqual(
        await two.jobs.enqueue({ accountId: B, id: "j3", kind: "solo", payload: "{}", now: 3 }),
        {
          ok: true,
        },
      );
      const claimed = await one.jobs.claim("solo", "w1", 10, 60_000);
      assert.equal(claimed?.id, "j1");
      assert.equal(await one.jobs.finish(A, "j1", "w1", { state: "succeeded", result: "done" }, 11), true);
      assert.equal((await two.jobs.latest(A, "solo"))?.state, "succeeded");
      assert.deepEqual(
        await two.jobs.enqueue({ accountId: A, id: "j4", kind: "solo", payload: "{}", now: 12 }),
        {
          ok: true,
        },
      );
      assert.equal((await one.jobs.latest(A, "solo"))?.id, "j4");
    });

    test("two instances claiming at once never take the same job", async () => {
      const n = 30;
      for (let i = 0; i < n; i++) {
        const r = await one.jobs.enqueue({
          accountId: `1${String(i).padStart(11, "0")}`,
          id: `r${i}`,
          kind: "race",
          payload: String(i),
          now: 100 + i,
        });
        assert.equal(r.ok, true);
      }
      const claimedBy = new Map<string, string>();
      const drain = async (store: TagStore, worker: string) => {
        for (;;) {
          const job = await store.jobs.claim("race", worker, 1000, 60_000);
          if (!job) return;
          assert.ok(!claimedBy.has(job.id), `${job.id} claimed twice`);
          claimedBy.set(job.id, worker);
        }
      };
      await Promise.all([drain(one, "a1"), drain(two, "b1"), drain(one, "a2"), drain(two, "b2")]);
      assert.equal(claimedBy.size, n);
    });

    test("a claim that outlives its lease is taken over; the old worker can no longer finish", async () => {
      await one.jobs.enqueue({ accountId: A, id: "lease", kind: "lease", payload: "{}", now: 0 });
      assert.equal((await one.jobs.claim("lease", "dead", 1_000, 5_000))?.id, "lease");
      assert.equal(await two.jobs.claim("lease", "alive", 2_000, 5_000), undefined);
      assert.equal(await one.jobs.renew(A, "lease", "dead", 3_000), true);
      assert.equal(await two.jobs.claim("lease", "alive", 7_000, 5_000), undefined);
      assert.equal((await two.jobs.claim("lease", "alive", 9_000, 5_000))?.claimedBy, "alive");
      assert.equal(await one.jobs.finish(A, "lease", "dead", { state: "failed", error: "x" }, 9_001), false);
      assert.equal(
        await two.jobs.finish(A, "lease", "alive", { state: "failed", error: "bucket gone" }, 9_002),
        true,
      );
      const latest = await one.jobs.latest(A, "lease");
      assert.equal(latest?.state, "failed");
      assert.equal(latest?.error, "bucket gone");
    });
  });
}

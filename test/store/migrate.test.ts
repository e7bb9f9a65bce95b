import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openStore } from "../../src/store/open.ts";
import { ENGINES } from "./engines.ts";

for (const engine of ENGINES) {
  describe(`migrations (${engine.name})`, { skip: engine.skip }, () => {
    test("several instances starting at once on an empty database all come up", async () => {
      const scratch = await engine.scratch();
      const stores = await Promise.all([1, 2, 3, 4].map(() => openStore(scratch)));
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        for (const s of stores) await s.ping();
        const secrets = await Promise.all(stores.map((s, i) => s.getOrSetMeta("secret", `candidate-${i}`)));
        assert.equal(new Set(secrets).size, 1, "every instance must end up with the same shared secret");
      } finally {
        for (const s of stores) await s.close();
        await scratch.dispose();
      }
    });

    test("0004 moves the tags of a database made before it into the value-keyed tree", async () => {
      const scratch = await engine.scratch();
      const store = await openStore(scratch);
      try {
        await store.migrate("0003_revisions");
        const resource = (id: string, region = "us-east-1") => ({
          cloud: "aws" as const,
          accountId: "111111111111",
          region,
          partition: "aws",
          service: "ec2",
          resourceType: "instance",
          resourceId: id,
          name: `arn:aws:ec2:${region}:111111111111:instance/${id}`,
          resourceGroupId: null,
          state: null,
        });
        // Written into the rid-keyed table of 0001 (the insert names its columns).
        await store.upsertResources([
          {
            resource: resource("i-1"),
            tags: [
              { key: "env", value: "prod" },
              { key: "team", value: "a" },
            ],
          },
          { resource: resource("i-2"), tags: [{ key: "env", value: "dev" }] },
          { resource: resource("i-3", "eu-west-1"), tags: [{ key: "env", value: "prod" }] },
        ]);
        await store.migrate();
        const q = { accountId: "111111111111", region: "us-east-1", typeFilters: [], limit: 10 };
        const prod = await store.queryTagged({ ...q, tagFilters: [{ key: "env", values: ["prod"] }] });
        assert.deepEqual(
          prod.items.map((r) => r.name),
          ["arn:aws:ec2:us-east-1:111111111111:instance/i-1"],
        );
        const both = await store.queryTagged({
          ...q,
          tagFilters: [
            { key: "env", values: ["prod", "dev"] },
            { key: "team", values: [] },
          ],
        });
        assert.deepEqual(
          both.items.map((r) => r.name),
          ["arn:aws:ec2:us-east-1:111111111111:instance/i-1"],
        );
        // Changing a moved tag removes its old row: env=prod no longer finds i-1.
        const [changed] = await store.applyTagChanges("111111111111", [
          { resource: resource("i-1"), register: false, set: [{ key: "env", value: "test" }], remove: [] },
        ]);
        assert.equal(changed?.ok, true);
        const after = await store.queryTagged({ ...q, tagFilters: [{ key: "env", values: ["prod"] }] });
        assert.deepEqual(after.items, []);
        const values = await store.listTagValues({ ...q, key: "env" });
        assert.deepEqual(values.items, ["dev", "test"]);
      } finally {
        await store.close();
        await scratch.dispose();
      }
    });
  });
}

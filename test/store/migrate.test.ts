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
  });
}

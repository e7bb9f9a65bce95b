import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { TagStore } from "../../src/store/store.ts";
import { ENGINES, ec2, openFresh } from "./engines.ts";

const A = "111111111111";
const B = "222222222222";

function tag(key: string, value: string) {
  return { key, value };
}

for (const engine of ENGINES) {
  describe(`TagStore contract: ${engine.name}`, { skip: engine.skip }, () => {
    let store: TagStore;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await openFresh(engine));
    });
    after(() => dispose());

    test("migrate is idempotent and ping answers", async () => {
      await store.migrate();
      await store.ping();
    });

    test("getOrSetMeta keeps the first value", async () => {
      assert.equal(await store.getOrSetMeta("k", "first"), "first");
      assert.equal(await store.getOrSetMeta("k", "second"), "first");
    });

    test("rememberNonce refuses a live nonce of the same key, not another key's, nor an expired one", async () => {
      const t = 1_800_000_000_000;
      assert.equal(await store.rememberNonce("LTAIone", "n-1", t + 900_000, t), true);
      assert.equal(await store.rememberNonce("LTAIone", "n-1", t + 900_000, t + 1_000), false);
      assert.equal(await store.rememberNonce("LTAItwo", "n-1", t + 900_000, t + 1_000), true);
      // Once expired, the same nonce passes again (its request could no longer pass the clock check).
      assert.equal(await store.rememberNonce("LTAIone", "n-1", t + 2_000_000, t + 900_000), true);
      assert.equal(await store.rememberNonce("LTAIone", "n-1", t + 2_000_000, t + 900_001), false);
      // Concurrent uses of one nonce: exactly one wins.
      const raced = await Promise.all(
        Array.from({ length: 8 }, () => store.rememberNonce("LTAIone", "n-race", t + 900_000, t)),
      );
      assert.equal(raced.filter(Boolean).length, 1);
    });

    test("getResources gives each registered resource's current tags, by key; none before any", async () => {
      const plain = ec2("i-held-plain", A, "eu-north-1");
      const tagged = ec2("i-held-tagged", A, "eu-north-1");
      await store.upsertResources([{ resource: plain }, { resource: tagged }]);
      const read = async () =>
        store.getResources(A, [plain.name, tagged.name, ec2("i-held-absent", A, "eu-north-1").name]);
      let held = await read();
      assert.deepEqual([...held.keys()].sort(), [plain.name, tagged.name].sort());
      assert.deepEqual(held.get(plain.name)?.tags, []);
      assert.deepEqual(held.get(tagged.name)?.tags, []);
      await store.applyTagChanges(A, [
        { resource: tagged, register: false, set: [tag("shelf", "a"), tag("aisle", "prod")], remove: [] },
      ]);
      held = await read();
      assert.deepEqual(held.get(tagged.name)?.tags, [tag("aisle", "prod"), tag("shelf", "a")]);
      assert.equal(held.get(tagged.name)?.resourceId, "i-held-tagged");
      await store.applyTagChanges(A, [
        { resource: tagged, register: false, set: [tag("aisle", "dev")], remove: ["shelf"] },
      ]);
      assert.deepEqual((await read()).get(tagged.name)?.tags, [tag("aisle", "dev")]);
      // Another account asking for the same names sees nothing.
      assert.equal((await store.getResources(B, [tagged.name])).size, 0);
    });

    test("upsertResources counts created and updated, and keeps fields not given", async () => {
      const r = { ...ec2("i-up"), resourceGroupId: "rg-1", state: "Enabled" };
      assert.deepEqual(await store.upsertResources([{ resource: r }, { resource: ec2("i-up2") }]), {
        created: 2,
        updated: 0,
        tags: 0,
      });
      assert.deepEqual(
        await store.upsertResources([{ resource: { ...r, resourceGroupId: null, state: "Disabled" } }]),
        {
          created: 0,
          updated: 1,
          tags: 0,
        },
      );
      const got = (await store.getResources(A, [r.name])).get(r.name);
      assert.equal(got?.resourceGroupId, "rg-1");
      assert.equal(got?.state, "Disabled");
    });

    test("a bulk import sets and merges tags, keeps the counters, and lists the resources as tagged", async () => {
      const region = "ca-central-1";
      const one = ec2("i-imp1", A, region);
      const two = ec2("i-imp2", A, region);
      const first = await store.upsertResources([
        { resource: one, tags: [tag("env", "prod"), tag("team", "a")] },
        { resource: two, tags: [tag("env", "prod")] },
        { resource: ec2("i-imp3", A, region) },
      ]);
      assert.deepEqual(first, { created: 3, updated: 0, tags: 3 });
      const second = await store.upsertResources([
        { resource: one, tags: [tag("env", "dev"), tag("new", "x")] },
      ]);
      assert.deepEqual(second, { created: 0, updated: 1, tags: 2 });
      const [got] = await store.getTagged(A, region, [one.name]);
      assert.deepEqual(got?.tags, [tag("env", "dev"), tag("new", "x"), tag("team", "a")]);
      assert.deepEqual((await store.listTagKeys({ accountId: A, region, limit: 10 })).items, [
        "env",
        "new",
        "team",
      ]);
      assert.deepEqual((await store.listTagValues({ accountId: A, region, key: "env", limit: 10 })).items, [
        "dev",
        "prod",
      ]);
      const listed = await store.queryTagged({
        accountId: A,
        region,
        tagFilters: [],
        typeFilters: [],
        limit: 10,
      });
      assert.deepEqual(
        listed.items.map((r) => r.name),
        [one.name, two.name],
      );
      // Tags set through the API afterwards keep the imported ones and the counters right.
      await store.applyTagChanges(A, [{ resource: two, register: false, set: [], remove: ["env"] }]);
      assert.deepEqual((await store.listTagValues({ accountId: A, region, key: "env", limit: 10 })).items, [
        "dev",
      ]);
    });

    test("one change that replaces, removes and adds many tags leaves exactly the new tag rows", async () => {
      // 40 values replaced, 5 keys removed and 5 added in one change: on PostgreSQL 90 rows in one
      // statement, past the parameters of a statement prepared by name.
      const region = "ap-east-2";
      const r = ec2("i-many", A, region);
      const other = ec2("i-many-other", A, region);
      const before = Array.from({ length: 45 }, (_, i) => tag(`k${String(i).padStart(2, "0")}`, `old${i}`));
      await store.applyTagChanges(A, [
        { resource: r, register: true, set: before, remove: [] },
        { resource: other, register: true, set: [tag("k00", "old0"), tag("k44", "old44")], remove: [] },
      ]);
      const replaced = before.slice(0, 40).map((t, i) => tag(t.key, `new${i}`));
      const added = Array.from({ length: 5 }, (_, i) => tag(`n${i}`, `added${i}`));
      const removed = before.slice(40).map((t) => t.key);
      const [result] = await store.applyTagChanges(A, [
        { resource: r, register: false, set: [...replaced, ...added], remove: removed },
      ]);
      assert.equal(result?.ok, true);
      const expected = [...replaced, ...added].sort((a, b) => (a.key < b.key ? -1 : 1));
      assert.deepEqual((await store.getTagged(A, region, [r.name]))[0]?.tags, expected);
      // The tag tree answers by value: old values gone, new ones there, the other resource's kept.
      const find = async (key: string, value: string) =>
        (
          await store.queryTagged({
            accountId: A,
            region,
            tagFilters: [{ key, values: [value] }],
            typeFilters: [],
            limit: 10,
          })
        ).items.map((x) => x.name);
      assert.deepEqual(await find("k00", "old0"), [other.name]);
      assert.deepEqual(await find("k00", "new0"), [r.name]);
      assert.deepEqual(await find("k39", "old39"), []);
      assert.deepEqual(await find("n4", "added4"), [r.name]);
      assert.deepEqual(await find("k44", "old44"), [other.name]);
      assert.deepEqual((await store.listTagValues({ accountId: A, region, key: "k44", limit: 10 })).items, [
        "old44",
      ]);
      // Key counts: k40-k43 had only this resource and are gone; k44 stays for the other one.
      const keys = (await store.listTagKeys({ accountId: A, region, limit: 100 })).items;
      assert.deepEqual(keys, [...expected.map((t) => t.key), "k44"].sort());
    });

    test("a key given twice for one resource in one import keeps its last value, counted once", async () => {
      const region = "ap-south-2";
      const r = ec2("i-twice", A, region);
      const got = await store.upsertResources([
        { resource: r, tags: [tag("env", "a"), tag("team", "t"), tag("env", "b")] },
      ]);
      assert.deepEqual(got, { created: 1, updated: 0, tags: 2 });
      assert.deepEqual((await store.getTagged(A, region, [r.name]))[0]?.tags, [
        tag("env", "b"),
        tag("team", "t"),
      ]);
      assert.deepEqual((await store.listTagValues({ accountId: A, region, key: "env", limit: 10 })).items, [
        "b",
      ]);
      // The same key twice with the same value, on a resource that has it already: nothing to write.
      const again = await store.upsertResources([{ resource: r, tags: [tag("env", "b"), tag("env", "b")] }]);
      assert.deepEqual(again, { created: 0, updated: 1, tags: 0 });
      await store.applyTagChanges(A, [{ resource: r, register: false, set: [], remove: ["env", "team"] }]);
      assert.deepEqual((await store.listTagKeys({ accountId: A, region, limit: 10 })).items, []);
    });

    test("a bulk import over a resource's limit changes nothing", async () => {
      const r = ec2("i-imp-limit", A, "ca-west-1");
      await store.upsertResources([{ resource: r, tags: [tag("a", "1"), tag("b", "2")], maxTags: 3 }]);
      await assert.rejects(
        store.upsertResources([
          { resource: ec2("i-imp-other", A, "ca-west-1"), tags: [tag("z", "1")] },
          { resource: r, tags: [tag("c", "3"), tag("d", "4")], maxTags: 3 },
        ]),
        /at most 3/,
      );
      assert.equal((await store.getResources(A, [ec2("i-imp-other", A, "ca-west-1").name])).size, 0);
      assert.deepEqual((await store.listTagKeys({ accountId: A, region: "ca-west-1", limit: 10 })).items, [
        "a",
        "b",
      ]);
    });

    test("applyTagChanges registers, sets, overwrites and removes, keeping key and value counts", async () => {
      const r = ec2("i-counts");
      const [first] = await store.applyTagChanges(A, [
        { resource: r, register: true, set: [tag("env", "prod"), tag("team", "x")], remove: [] },
      ]);
      assert.equal(first?.ok, true);
      await store.applyTagChanges(A, [
        { resource: ec2("i-counts2"), register: true, set: [tag("env", "prod")], remove: [] },
      ]);
      let values = await store.listTagValues({ accountId: A, region: "us-east-1", key: "env", limit: 10 });
      assert.deepEqual(values.items, ["prod"]);
      await store.applyTagChanges(A, [
        { resource: r, register: false, set: [tag("env", "dev")], remove: [] },
      ]);
      values = await store.listTagValues({ accountId: A, region: "us-east-1", key: "env", limit: 10 });
      assert.deepEqual(values.items, ["dev", "prod"]);
      await store.applyTagChanges(A, [
        { resource: ec2("i-counts2"), register: false, set: [], remove: ["env"] },
      ]);
      values = await store.listTagValues({ accountId: A, region: "us-east-1", key: "env", limit: 10 });
      assert.deepEqual(values.items, ["dev"]);
      await store.applyTagChanges(A, [
        { resource: r, register: false, set: [], remove: ["env", "team", "absent"] },
      ]);
      const keys = await store.listTagKeys({ accountId: A, region: "us-east-1", limit: 10 });
      assert.deepEqual(keys.items, []);
    });

    test("an unknown resource is not found unless registration is allowed", async () => {
      const [result] = await store.applyTagChanges(A, [
        { resource: ec2("i-nope"), register: false, set: [tag("a", "b")], remove: [] },
      ]);
      assert.equal(result?.ok, false);
      assert.equal(result?.ok === false && result.kind, "ResourceNotFound");
    });

    test("a refused change leaves the resource as it was while the other changes apply", async () => {
      const r = ec2("i-refuse");
      await store.applyTagChanges(A, [{ resource: r, register: true, set: [tag("a", "1")], remove: [] }]);
      const results = await store.applyTagChanges(A, [
        { resource: r, register: true, set: [tag("b", "2")], remove: ["a"], check: () => "no" },
        { resource: ec2("i-refuse-ok"), register: true, set: [tag("b", "2")], remove: [] },
      ]);
      assert.deepEqual(
        results.map((x) => x.ok),
        [false, true],
      );
      const [got] = await store.getTagged(A, "us-east-1", [r.name]);
      assert.deepEqual(got?.tags, [tag("a", "1")]);
    });

    test("a change that throws fails its own request only, though requests share a commit", async () => {
      const first = ec2("i-batch-1");
      const bad = ec2("i-batch-bad");
      const last = ec2("i-batch-2");
      const boom = () => {
        throw new Error("boom");
      };
      // Asked in one turn of the event loop: on SQLite the three share one group commit.
      const settled = await Promise.allSettled([
        store.applyTagChanges(A, [{ resource: first, register: true, set: [tag("batch", "1")], remove: [] }]),
        store.applyTagChanges(A, [
          { resource: bad, register: true, set: [tag("batch", "x")], remove: [], check: boom },
        ]),
        store.applyTagChanges(A, [{ resource: last, register: true, set: [tag("batch", "2")], remove: [] }]),
      ]);
      assert.deepEqual(
        settled.map((s) => s.status),
        ["fulfilled", "rejected", "fulfilled"],
      );
      assert.match(String((settled[1] as PromiseRejectedResult).reason), /boom/);
      // The failed request's registration went with it; the others' tags and counts stand.
      const found = await store.getResources(A, [first.name, bad.name, last.name]);
      assert.deepEqual([...found.keys()].sort(), [first.name, last.name].sort());
      const values = await store.listTagValues({
        accountId: A,
        region: "us-east-1",
        key: "batch",
        limit: 10,
      });
      assert.deepEqual(values.items, ["1", "2"]);
    });

    test("check sees the current and resulting tags", async () => {
      const r = ec2("i-check");
      await store.applyTagChanges(A, [{ resource: r, register: true, set: [tag("a", "1")], remove: [] }]);
      let seen: unknown;
      await store.applyTagChanges(A, [
        {
          resource: r,
          register: false,
          set: [tag("b", "2")],
          remove: [],
          check: (current, next) => {
            seen = { current, next };
            return null;
          },
        },
      ]);
      assert.deepEqual(seen, { current: [tag("a", "1")], next: [tag("a", "1"), tag("b", "2")] });
    });

    test("check sees the resource as stored, and its refusal kind comes back", async () => {
      const r = ec2("i-state");
      await store.upsertResources([{ resource: { ...r, state: "PendingDeletion" } }]);
      // The caller's record says nothing of the state: what the check sees comes from the locked row.
      const [result] = await store.applyTagChanges(A, [
        {
          resource: r,
          register: false,
          set: [tag("a", "1")],
          remove: [],
          check: (_current, _next, stored) =>
            stored.state === "PendingDeletion" ? { kind: "InvalidState", message: "pending deletion" } : null,
        },
      ]);
      assert.deepEqual(result, { ok: false, kind: "InvalidState", message: "pending deletion" });
      assert.deepEqual(await store.getTagged(A, "us-east-1", [r.name]), []);
    });

    test("removeAll clears every tag", async () => {
      const r = ec2("i-all");
      await store.applyTagChanges(A, [
        { resource: r, register: true, set: [tag("x", "1"), tag("y", "2")], remove: [] },
      ]);
      await store.applyTagChanges(A, [
        { resource: r, register: false, set: [], remove: [], removeAll: true },
      ]);
      const [got] = await store.getTagged(A, "us-east-1", [r.name]);
      assert.deepEqual(got?.tags, []);
    });

    describe("queries", () => {
      const region = "eu-west-1";
      before(async () => {
        const changes = [];
        for (let i = 0; i < 30; i++) {
          const tags = [tag("n", String(i)), tag("parity", i % 2 ? "odd" : "even")];
          if (i % 3 === 0) tags.push(tag("three", ""));
          changes.push({
            resource: ec2(`i-q${String(i).padStart(2, "0")}`, A, region),
            register: true,
            set: tags,
            remove: [],
          });
        }
        changes.push({
          resource: {
            ...ec2("bucket-q", A, region),
            service: "s3",
            resourceType: "bucket",
            name: "arn:aws:s3:::bucket-q",
          },
          register: true,
          set: [tag("parity", "odd")],
          remove: [],
        });
        await store.applyTagChanges(A, changes);
        await store.applyTagChanges(B, [
          { resource: ec2("i-b", B, region), register: true, set: [tag("parity", "odd")], remove: [] },
        ]);
        await store.upsertResources([{ resource: ec2("i-never-tagged", A, region) }]);
      });

      async function all(q: Omit<Parameters<TagStore["queryTagged"]>[0], "cursor">) {
        const names: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.queryTagged({ ...q, cursor });
          assert.ok(page.items.length <= q.limit);
          names.push(...page.items.map((r) => r.name));
          cursor = page.cursor;
        } while (cursor !== undefined);
        return names;
      }

      test("keyset pages cover every tagged resource once, never the untagged or another account's", async () => {
        const names = await all({ accountId: A, region, tagFilters: [], typeFilters: [], limit: 7 });
        assert.equal(names.length, 31);
        assert.equal(new Set(names).size, 31);
        assert.ok(!names.some((n) => n.includes("never-tagged") || n.includes(B)));
      });

      test("tag filters: AND across keys, OR across values, key-only", async () => {
        const odd = await all({
          accountId: A,
          region,
          tagFilters: [{ key: "parity", values: ["odd"] }],
          typeFilters: [],
          limit: 4,
        });
        assert.equal(odd.length, 16);
        const oddThree = await all({
          accountId: A,
          region,
          tagFilters: [
            { key: "parity", values: ["odd"] },
            { key: "three", values: [] },
          ],
          typeFilters: [],
          limit: 4,
        });
        assert.deepEqual(
          oddThree.sort(),
          ["i-q03", "i-q09", "i-q15", "i-q21", "i-q27"].map((i) => ec2(i, A, region).name),
        );
        const some = await all({
          accountId: A,
          region,
          tagFilters: [{ key: "n", values: ["1", "2", "29"] }],
          typeFilters: [],
          limit: 2,
        });
        assert.equal(some.length, 3);
      });

      test("type filters by service and by service:type", async () => {
        const s3 = await all({
          accountId: A,
          region,
          tagFilters: [],
          typeFilters: [{ service: "s3" }],
          limit: 10,
        });
        assert.deepEqual(s3, ["arn:aws:s3:::bucket-q"]);
        const inst = await all({
          accountId: A,
          region,
          tagFilters: [{ key: "parity", values: [] }],
          typeFilters: [{ service: "ec2", resourceType: "instance" }],
          limit: 50,
        });
        assert.equal(inst.length, 30);
      });

      test("a tag budget never splits a resource", async () => {
        const page = await store.queryTagged({
          accountId: A,
          region,
          tagFilters: [],
          typeFilters: [],
          limit: 100,
          tagLimit: 5,
        });
        const used = page.items.reduce((n, r) => n + Math.max(1, r.tags.length), 0);
        assert.ok(used <= 5);
        assert.ok(page.cursor !== undefined);
      });

      test("tag keys and values page in byte order", async () => {
        const keys = await store.listTagKeys({ accountId: A, region, limit: 2 });
        assert.deepEqual(keys.items, ["n", "parity"]);
        const rest = await store.listTagKeys({ accountId: A, region, limit: 2, cursor: keys.cursor });
        assert.deepEqual(rest.items, ["three"]);
        assert.equal(rest.cursor, undefined);
        const values = await store.listTagValues({ accountId: A, region, key: "n", limit: 100 });
        assert.equal(values.items.length, 30);
        assert.deepEqual(values.items.slice(0, 3), ["0", "1", "10"]);
      });

      test("a key's values page once each, however many resources carry each, the empty value first", async () => {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listTagValues({ accountId: A, region, key: "parity", limit: 1, cursor });
          seen.push(...page.items);
          cursor = page.cursor;
        } while (cursor !== undefined);
        assert.deepEqual(seen, ["even", "odd"]);
        assert.deepEqual(
          (await store.listTagValues({ accountId: A, region, key: "three", limit: 5 })).items,
          [""],
        );
        assert.deepEqual(
          (await store.listTagValues({ accountId: B, region, key: "parity", limit: 5 })).items,
          ["odd"],
        );
        assert.deepEqual(
          (await store.listTagValues({ accountId: A, region, key: "absent", limit: 5 })).items,
          [],
        );
      });
    });

    test("deleteResources removes the resource, its tags and their counts", async () => {
      const r = ec2("i-del", A, "ap-south-1");
      await store.applyTagChanges(A, [
        { resource: r, register: true, set: [tag("gone", "soon")], remove: [] },
      ]);
      assert.equal(
        await store.deleteResources([
          { accountId: A, name: r.name },
          { accountId: A, name: "arn:nothing" },
        ]),
        1,
      );
      assert.deepEqual(
        (await store.listTagKeys({ accountId: A, region: "ap-south-1", limit: 10 })).items,
        [],
      );
      assert.equal((await store.getResources(A, [r.name])).size, 0);
    });

    test("several filters: the answer is the intersection whichever drives, past the planner's count caps", async () => {
      // 1,100 resources carry env=prod (beyond the first two caps), 275 stage=x (beyond the first), 3
      // team=t; the filters meet on few resources. Every order of the filters must give the same page.
      const region = "me-south-1";
      const changes = [];
      for (let i = 0; i < 1100; i++) {
        const set = [tag("env", "prod")];
        if (i % 4 === 0) set.push(tag("stage", "x"));
        if (i === 8 || i === 800 || i === 1000) set.push(tag("team", "t"));
        changes.push({ resource: ec2(`i-plan${i}`, A, region), register: true, set, remove: [] });
      }
      await store.upsertResources(changes.map((c) => ({ resource: c.resource, tags: c.set })));
      const env = { key: "env", values: ["prod"] };
      const stage = { key: "stage", values: ["x", "absent"] };
      const team = { key: "team", values: [] };
      const names = async (tagFilters: { key: string; values: string[] }[]) =>
        (await store.queryTagged({ accountId: A, region, tagFilters, typeFilters: [], limit: 50 })).items.map(
          (r) => r.name,
        );
      const want = [8, 800, 1000].map((i) => ec2(`i-plan${i}`, A, region).name);
      for (const order of [
        [env, stage, team],
        [team, stage, env],
        [stage, env, team],
      ])
        assert.deepEqual(await names(order), want);
      assert.equal((await names([env, stage])).length, 50);
      assert.deepEqual(await names([env, { key: "stage", values: ["absent"] }]), []);
    });

    test("listInventory filters and pages", async () => {
      const rs = Array.from({ length: 12 }, (_, i) => ec2(`i-inv${i}`, B, "sa-east-1"));
      await store.upsertResources(rs.map((resource) => ({ resource })));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listInventory({ accountId: B, region: "sa-east-1", limit: 5, cursor });
        seen.push(...page.items.map((r) => r.name));
        cursor = page.cursor;
      } while (cursor);
      assert.deepEqual(
        seen,
        rs.map((r) => r.name),
      );
    });
  });
}

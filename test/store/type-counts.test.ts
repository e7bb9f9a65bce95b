import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ResourceRecord } from "../../src/domain/resource.ts";
import type { TagPairQuery, TagStore } from "../../src/store/store.ts";
import { ENGINES, openFresh } from "./engines.ts";

const ACCOUNT = "1000000000000001";
const REGION = "cn-hangzhou";

function ecs(type: string, id: string, region = REGION): ResourceRecord {
  return {
    cloud: "alibaba",
    accountId: ACCOUNT,
    region,
    partition: "acs",
    service: "ecs",
    resourceType: type,
    resourceId: id,
    name: `acs:ecs:${region}:${ACCOUNT}:${type}/${id}`,
    resourceGroupId: null,
    state: null,
  };
}

const tag = (key: string, value: string) => ({ key, value });

for (const engine of ENGINES) {
  describe(`tag pairs counted by resource type (${engine.name})`, { skip: engine.skip }, () => {
    let store: TagStore;
    let dispose: () => Promise<void>;
    const pairs = (q: Partial<TagPairQuery> = {}) =>
      store.describeTagPairs({
        accountId: ACCOUNT,
        region: REGION,
        service: "ecs",
        offset: 0,
        limit: 50,
        ...q,
      });

    before(async () => {
      ({ store, dispose } = await openFresh(engine));
      await store.upsertResources([
        { resource: ecs("instance", "i-1"), tags: [tag("env", "prod"), tag("team", "web")] },
        { resource: ecs("instance", "i-2"), tags: [tag("env", "prod")] },
        { resource: ecs("disk", "d-1"), tags: [tag("env", "prod")] },
        { resource: ecs("disk", "d-2", "cn-beijing"), tags: [tag("env", "prod")] },
      ]);
      // An AWS resource is not counted by type.
      await store.applyTagChanges("111111111111", [
        {
          resource: {
            cloud: "aws",
            accountId: "111111111111",
            region: REGION,
            partition: "aws",
            service: "ecs",
            resourceType: "instance",
            resourceId: "x",
            name: "arn:aws:ecs:cn-hangzhou:111111111111:instance/x",
            resourceGroupId: null,
            state: null,
          },
          register: true,
          set: [tag("env", "prod")],
          remove: [],
        },
      ]);
    });
    after(() => dispose());

    test("imports and tag writes count each pair by type, in the scope only", async () => {
      await store.applyTagChanges(ACCOUNT, [
        { resource: ecs("snapshot", "s-1"), register: true, set: [tag("env", "dev")], remove: [] },
      ]);
      assert.deepEqual(await pairs(), {
        total: 3,
        items: [
          { key: "env", value: "dev", counts: { snapshot: 1 } },
          { key: "env", value: "prod", counts: { disk: 1, instance: 2 } },
          { key: "team", value: "web", counts: { instance: 1 } },
        ],
      });
    });

    test("filters by type and by tags, and pages by number", async () => {
      assert.deepEqual((await pairs({ resourceType: "disk" })).items, [
        { key: "env", value: "prod", counts: { disk: 1 } },
      ]);
      assert.deepEqual(
        (await pairs({ tags: [{ key: "team" }, { key: "env", value: "dev" }] })).items.map((p) => p.value),
        ["dev", "web"],
      );
      const second = await pairs({ offset: 1, limit: 1 });
      assert.equal(second.total, 3);
      assert.deepEqual(second.items, [{ key: "env", value: "prod", counts: { disk: 1, instance: 2 } }]);
      assert.deepEqual(await pairs({ offset: 3, limit: 1 }), { total: 3, items: [] });
    });

    test("a re-import counts by the stored row's type, as later tag writes take it back down", async () => {
      // Two readings of one name: type "volume" with id "v/1", and type "volume/v" with id "1".
      const stored = ecs("volume", "v/1");
      const reread = { ...ecs("volume/v", "1"), name: stored.name };
      await store.upsertResources([{ resource: stored, tags: [tag("tier", "a")] }]);
      await store.upsertResources([{ resource: reread, tags: [tag("tier", "b")] }]);
      const tier = async () => (await pairs({ tags: [{ key: "tier" }] })).items;
      assert.deepEqual(await tier(), [{ key: "tier", value: "b", counts: { volume: 1 } }]);
      await store.applyTagChanges(ACCOUNT, [
        { resource: stored, register: false, set: [], remove: ["tier"] },
      ]);
      assert.deepEqual(await tier(), []);
    });

    test("changing, removing and deregistering take the counts down, and empty pairs go", async () => {
      await store.applyTagChanges(ACCOUNT, [
        { resource: ecs("instance", "i-2"), register: false, set: [tag("env", "dev")], remove: [] },
        { resource: ecs("instance", "i-1"), register: false, set: [], remove: ["team"] },
      ]);
      await store.deleteResources([{ accountId: ACCOUNT, name: ecs("snapshot", "s-1").name }]);
      assert.deepEqual((await pairs()).items, [
        { key: "env", value: "dev", counts: { instance: 1 } },
        { key: "env", value: "prod", counts: { disk: 1, instance: 1 } },
      ]);
    });
  });
}

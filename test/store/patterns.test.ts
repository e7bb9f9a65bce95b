import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ResourceRecord } from "../../src/domain/resource.ts";
import type { PatternFilter, TaggedQuery, TagStore, TextMatch } from "../../src/store/store.ts";
import { ENGINES, openFresh } from "./engines.ts";

const ACCOUNT = "1000000000000001";
const OTHER = "1000000000000002";
const REGION = "cn-hangzhou";

function ecs(type: string, id: string, group: string | null = null, account = ACCOUNT, region = REGION) {
  return {
    cloud: "alibaba",
    accountId: account,
    region,
    partition: "acs",
    service: "ecs",
    resourceType: type,
    resourceId: id,
    name: `acs:ecs:${region}:${account}:${type}/${id}`,
    resourceGroupId: group,
    state: null,
  } satisfies ResourceRecord;
}

const prefix = (text: string): TextMatch => ({ kind: "prefix", text });
const substring = (text: string): TextMatch => ({ kind: "substring", text });
const exact = (text: string): TextMatch => ({ kind: "exact", text });

/** Every resource id the query lists, following cursors, with a small page to cross page bounds. */
async function ids(store: TagStore, q: Partial<TaggedQuery>): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.queryTagged({
      accountId: ACCOUNT,
      region: REGION,
      tagFilters: [],
      typeFilters: [],
      limit: 2,
      ...q,
      cursor,
    });
    out.push(...page.items.map((r) => r.name.split("/").pop() as string));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return out;
}

const pattern = (key: TextMatch, ...values: TextMatch[]): PatternFilter => ({ key, values });

for (const engine of ENGINES) {
  describe(`pattern filters and resource groups (${engine.name})`, { skip: engine.skip }, () => {
    let store: TagStore;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await openFresh(engine));
      const tags = (o: Record<string, string>) => Object.entries(o).map(([key, value]) => ({ key, value }));
      await store.upsertResources([
        { resource: ecs("instance", "i-1", "rg-web"), tags: tags({ env: "prod", team: "web" }) },
        { resource: ecs("instance", "i-2", "rg-web"), tags: tags({ environment: "production" }) },
        { resource: ecs("instance", "i-3"), tags: tags({ myenv: "staging", team: "data" }) },
        { resource: ecs("disk", "d-1", "rg-web"), tags: tags({ env: "dev" }) },
        { resource: ecs("instance", "i-4", "rg-web") },
        { resource: ecs("instance", "i-5"), tags: tags({ envoy: "proxy-prod" }) },
        { resource: ecs("instance", "i-9", "rg-web", OTHER), tags: tags({ env: "prod" }) },
        { resource: ecs("instance", "i-8", null, ACCOUNT, "cn-beijing"), tags: tags({ env: "prod" }) },
      ]);
      // Many values of one key: a pattern matching more than can be merged is checked on candidates.
      await store.upsertResources(
        Array.from({ length: 40 }, (_, i) => ({
          resource: ecs("instance", `i-w${String(i).padStart(2, "0")}`),
          tags: [{ key: "wide", value: `value-${i}` }],
        })),
      );
    });
    after(() => dispose());

    test("a key prefix matches every key that starts with it, in the account and region only", async () => {
      assert.deepEqual(await ids(store, { patternFilters: [pattern(prefix("env"))] }), [
        "i-1",
        "i-2",
        "d-1",
        "i-5",
      ]);
    });

    test("a key substring matches anywhere in the key", async () => {
      assert.deepEqual(await ids(store, { patternFilters: [pattern(substring("env"))] }), [
        "i-1",
        "i-2",
        "i-3",
        "d-1",
        "i-5",
      ]);
    });

    test("an exact key with value patterns: OR across the values", async () => {
      assert.deepEqual(
        await ids(store, { patternFilters: [pattern(exact("env"), prefix("pr"), exact("dev"))] }),
        ["i-1", "d-1"],
      );
      assert.deepEqual(await ids(store, { patternFilters: [pattern(exact("envoy"), substring("prod"))] }), [
        "i-5",
      ]);
      assert.deepEqual(await ids(store, { patternFilters: [pattern(exact("env"), substring("zzz"))] }), []);
    });

    test("filters AND together, and with type filters", async () => {
      assert.deepEqual(
        await ids(store, {
          patternFilters: [pattern(substring("env")), pattern(exact("team"), prefix("d"))],
        }),
        ["i-3"],
      );
      assert.deepEqual(
        await ids(store, {
          patternFilters: [pattern(prefix("env"))],
          typeFilters: [{ service: "ecs", resourceType: "disk" }],
        }),
        ["d-1"],
      );
      assert.deepEqual(
        await ids(store, {
          tagFilters: [{ key: "team", values: [] }],
          patternFilters: [pattern(prefix("env"))],
        }),
        ["i-1"],
      );
    });

    test("a pattern matching more pairs than can be merged still finds every match", async () => {
      const wide = await ids(store, { patternFilters: [pattern(exact("wide"), prefix("value-"))] });
      assert.equal(wide.length, 40);
      assert.deepEqual(await ids(store, { patternFilters: [pattern(exact("wide"), substring("-3"))] }), [
        "i-w03",
        "i-w30",
        "i-w31",
        "i-w32",
        "i-w33",
        "i-w34",
        "i-w35",
        "i-w36",
        "i-w37",
        "i-w38",
        "i-w39",
      ]);
    });

    test("a resource group lists its resources, tagged or not, of the account and region only", async () => {
      assert.deepEqual(await ids(store, { resourceGroupId: "rg-web" }), ["i-1", "i-2", "d-1", "i-4"]);
      assert.deepEqual(
        await ids(store, {
          resourceGroupId: "rg-web",
          typeFilters: [{ service: "ecs", resourceType: "instance" }],
        }),
        ["i-1", "i-2", "i-4"],
      );
      assert.deepEqual(await ids(store, { resourceGroupId: "rg-none" }), []);
    });
  });
}

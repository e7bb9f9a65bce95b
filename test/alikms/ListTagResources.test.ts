import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  ALIBABA_KEY_2,
  ALIBABA_SIGNATURES,
  aliError,
  startServer,
  type TestServer,
  testConfig,
} from "../helpers.ts";
import { flatIds, flatTags, keyId, kmsCall, kmsTag, REGION, register } from "./alikms.ts";

/** Paging is exercised in a region of its own, so the other tests' resources stay out of its pages. */
const PAGED_REGION = "cn-shanghai";
const PAGED_KEYS = Array.from({ length: 25 }, (_, i) => keyId(`paged${String(i).padStart(2, "0")}`));
const PAGED_SECRETS = Array.from({ length: 50 }, (_, i) => `paged-secret-${String(i).padStart(2, "0")}`);

let server: TestServer;
before(async () => {
  server = await startServer();
  // 25 keys × 10 tags and 50 secrets × 5 tags: 250 rows each, more than one 200-row page.
  await register(server, [
    ...PAGED_KEYS.map((id, n) => ({
      id,
      region: PAGED_REGION,
      tags: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, `${n}`])),
    })),
    ...PAGED_SECRETS.map((id) => ({
      id,
      type: "secret",
      region: PAGED_REGION,
      tags: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`s${i}`, "v"])),
    })),
  ]);
});
after(() => server.stop(true));

const list = (query: Record<string, string>, options = {}) =>
  kmsCall(server, "ListTagResources", { RegionId: REGION, ResourceType: "key", ...query }, options);

interface Row {
  ResourceId: string;
  ResourceType: string;
  TagKey: string;
  TagValue: string;
}

/** Every page of a query: the rows, and how many rows each page held. */
async function allPages(query: Record<string, string>) {
  const rows: Row[] = [];
  const sizes: number[] = [];
  let token = "";
  do {
    const out = await list({ ...query, ...(token ? { NextToken: token } : {}) });
    assert.equal(typeof out.body.NextToken, "string");
    rows.push(...out.body.TagResources.TagResource);
    sizes.push(out.body.TagResources.TagResource.length);
    token = out.body.NextToken;
  } while (token !== "");
  return { rows, sizes };
}

for (const { name, options } of ALIBABA_SIGNATURES) {
  describe(`KMS ListTagResources (${name})`, () => {
    const sig = name.startsWith("v1") ? "vone" : "acsthree";
    const a = keyId(`${sig}la`);
    const b = keyId(`${sig}lb`);
    before(async () => {
      await kmsTag(server, [a], { env: "prod", team: "core" });
      await kmsTag(server, [b], { env: "dev" });
    });

    test("the tags of named keys, one row per tag, in the documented shape", async () => {
      const out = await list({ ...flatIds([a, b, keyId(`${sig}untagged`)]) }, options);
      assert.equal(out.statusCode, 200);
      assert.deepEqual(Object.keys(out.body).sort(), ["NextToken", "RequestId", "TagResources"]);
      assert.equal(out.body.NextToken, "");
      assert.deepEqual(out.body.TagResources.TagResource, [
        { ResourceId: a, ResourceType: "key", TagKey: "env", TagValue: "prod" },
        { ResourceId: a, ResourceType: "key", TagKey: "team", TagValue: "core" },
        { ResourceId: b, ResourceType: "key", TagKey: "env", TagValue: "dev" },
      ]);
    });

    test("ResourceId and Tag as JSON arrays, as flattened lists", async () => {
      const json = await list(
        { ResourceId: JSON.stringify([a, b]), Tag: '[{"Key":"env","Value":"dev"}]' },
        options,
      );
      const flat = await list({ ...flatIds([a, b]), ...flatTags({ env: "dev" }) }, options);
      const expected = [{ ResourceId: b, ResourceType: "key", TagKey: "env", TagValue: "dev" }];
      assert.deepEqual(json.body.TagResources.TagResource, expected);
      assert.deepEqual(flat.body.TagResources.TagResource, expected);
    });

    test("by tag: every Tag.N must match; a key alone matches any value", async () => {
      // Tag keys of this block's own, so the other block's keys stay out of these queries.
      const c = keyId(`${sig}lc`);
      const d = keyId(`${sig}ld`);
      await kmsTag(server, [c], { [`env-${sig}`]: "prod", [`team-${sig}`]: "core" });
      await kmsTag(server, [d], { [`env-${sig}`]: "dev" });
      const byKey = await list({ "Tag.1.Key": `team-${sig}` }, options);
      assert.deepEqual(
        byKey.body.TagResources.TagResource.map((r: Row) => `${r.ResourceId} ${r.TagKey}`),
        [`${c} env-${sig}`, `${c} team-${sig}`],
      );
      const both = await list(
        { Tag: JSON.stringify([{ Key: `env-${sig}`, Value: "prod" }, { Key: `team-${sig}` }]) },
        options,
      );
      assert.deepEqual(
        both.body.TagResources.TagResource.map((r: Row) => r.ResourceId),
        [c, c],
      );
      const byValue = await list({ ...flatTags({ [`env-${sig}`]: "dev" }) }, options);
      assert.deepEqual(byValue.body.TagResources.TagResource, [
        { ResourceId: d, ResourceType: "key", TagKey: `env-${sig}`, TagValue: "dev" },
      ]);
      const none = await list({ ...flatTags({ [`env-${sig}`]: "staging" }) }, options);
      assert.deepEqual(none.body.TagResources.TagResource, []);
    });
  });
}

describe("KMS ListTagResources paging", () => {
  test("every tagged key of the type, 200 rows a page, a resource never split", async () => {
    const { rows, sizes } = await allPages({ RegionId: PAGED_REGION });
    assert.deepEqual(sizes, [200, 50]);
    assert.equal(rows.length, 250);
    assert.equal(new Set(rows.map((r) => `${r.ResourceId}/${r.TagKey}`)).size, 250);
    assert.deepEqual([...new Set(rows.map((r) => r.ResourceId))], PAGED_KEYS);
    assert.ok(rows.every((r) => r.ResourceType === "key"));
  });

  test("50 named secrets: 250 rows over two pages", async () => {
    const { rows, sizes } = await allPages({
      RegionId: PAGED_REGION,
      ResourceType: "secret",
      ResourceId: JSON.stringify(PAGED_SECRETS),
    });
    assert.deepEqual(sizes, [200, 50]);
    assert.deepEqual([...new Set(rows.map((r) => r.ResourceId))], PAGED_SECRETS);
  });

  test("a token opens only for its own query, account and region, untampered", async () => {
    const first = await list({ RegionId: PAGED_REGION });
    const token = first.body.NextToken as string;
    assert.notEqual(token, "");
    const uses: [string, () => Promise<unknown>][] = [
      ["another query", () => list({ RegionId: PAGED_REGION, ...flatTags({ k1: "1" }), NextToken: token })],
      ["another type", () => list({ RegionId: PAGED_REGION, ResourceType: "secret", NextToken: token })],
      ["another region", () => list({ NextToken: token })],
      ["another account", () => list({ RegionId: PAGED_REGION, NextToken: token }, { key: ALIBABA_KEY_2 })],
      ["tampered", () => list({ RegionId: PAGED_REGION, NextToken: `${token.slice(0, -2)}xx` })],
    ];
    for (const [what, use] of uses) {
      const err = await aliError(use());
      assert.equal(err.code, "InvalidParameter", what);
      assert.equal(err.status, 400, what);
      assert.match(err.data.Message, /"NextToken"/, what);
    }
  });
});

describe("KMS ListTagResources refusals", () => {
  const cases: {
    title: string;
    query: Record<string, string>;
    code: string;
    status: number;
    message: RegExp;
  }[] = [
    {
      title: "a key given twice in Tag",
      query: { Tag: '[{"Key":"env","Value":"a"},{"Key":"env","Value":"b"}]' },
      code: "Duplicate.TagKey",
      status: 400,
      message: /^The specified tagKey is duplicate\.$/,
    },
    {
      title: "a ResourceId that is not a key id",
      query: { ...flatIds(["i-bp1instance"]) },
      code: "InvalidResourceId.NotFound",
      status: 404,
      message: /^The specified ResourceId is not found\.$/,
    },
    {
      title: "51 ResourceId",
      query: { ResourceId: JSON.stringify(Array.from({ length: 51 }, (_, i) => keyId(`x${i}`))) },
      code: "InvalidParameter",
      status: 400,
      message: /"ResourceId".*at most 50/,
    },
    {
      title: "21 Tag",
      query: { ...flatTags(Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, "v"]))) },
      code: "InvalidParameter",
      status: 400,
      message: /"Tag\.21/,
    },
    {
      title: "a Tag without its key",
      query: { "Tag.1.Value": "prod" },
      code: "InvalidParameter",
      status: 400,
      message: /"Tag\.1\.Key"/,
    },
    {
      title: "Tag that is not JSON",
      query: { Tag: "env=prod" },
      code: "InvalidParameter",
      status: 400,
      message: /"Tag" is not valid: it is not valid JSON/,
    },
    {
      title: "a ResourceType KMS does not have",
      query: { ResourceType: "certificate" },
      code: "InvalidParameter",
      status: 400,
      message: /"ResourceType"/,
    },
    {
      title: "no ResourceType",
      query: { ResourceType: "" },
      code: "MissingParameter",
      status: 400,
      message: /"ResourceType"/,
    },
    {
      title: "a token that is not one",
      query: { NextToken: "caeba0bbb2be03f84eb48b699f0a4883" },
      code: "InvalidParameter",
      status: 400,
      message: /"NextToken"/,
    },
  ];
  for (const c of cases) {
    test(`${c.title}: ${c.code} (${c.status})`, async () => {
      const err = await aliError(list(c.query));
      assert.equal(err.code, c.code, err.message);
      assert.equal(err.status, c.status);
      assert.match(err.data.Message, c.message);
    });
  }

  test("strict inventory mode: an unregistered ResourceId is InvalidResourceId.NotFound (404)", async () => {
    const strict = await startServer({ config: testConfig({ inventory: "strict" }) });
    try {
      const err = await aliError(
        kmsCall(strict, "ListTagResources", {
          RegionId: REGION,
          ResourceType: "key",
          ...flatIds([keyId("unreg")]),
        }),
      );
      assert.equal(err.code, "InvalidResourceId.NotFound");
      assert.equal(err.status, 404);
    } finally {
      await strict.stop(true);
    }
  });
});

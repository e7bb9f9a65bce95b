import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  ALIBABA_SIGNATURES,
  aliError,
  aliKmsTagsOf,
  startServer,
  type TestServer,
  testConfig,
} from "../helpers.ts";
import { flatIds, flatTags, keyId, kmsCall, REGION, register } from "./alikms.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

for (const { name, options } of ALIBABA_SIGNATURES) {
  describe(`KMS TagResources (${name})`, () => {
    const sig = name.startsWith("v1") ? "vone" : "acsthree";
    const call = (query: Record<string, string>) => kmsCall(server, "TagResources", query, options);

    test("tags several keys, flattened; a tag without a value gets the empty value", async () => {
      const ids = [keyId(`${sig}a`), keyId(`${sig}b`)];
      const out = await call({
        RegionId: REGION,
        ResourceType: "key",
        ...flatIds(ids),
        "Tag.1.Key": "env",
        "Tag.1.Value": "prod",
        "Tag.2.Key": "empty",
      });
      assert.equal(out.statusCode, 200);
      assert.match(out.body.RequestId, /^[0-9A-F-]{36}$/);
      assert.deepEqual(Object.keys(out.body), ["RequestId"]);
      for (const id of ids) assert.deepEqual(await aliKmsTagsOf(server, id), { env: "prod", empty: "" });
    });

    test("takes ResourceId and Tag as JSON arrays, and a key given again gets the new value", async () => {
      const id = keyId(`${sig}json`);
      await call({ RegionId: REGION, ResourceType: "key", ...flatIds([id]), ...flatTags({ env: "dev" }) });
      await call({
        RegionId: REGION,
        ResourceType: "key",
        ResourceId: JSON.stringify([id]),
        Tag: JSON.stringify([
          { Key: "env", Value: "prod" },
          { Key: "team", Value: "core" },
        ]),
      });
      assert.deepEqual(await aliKmsTagsOf(server, id), { env: "prod", team: "core" });
    });

    test("tags secrets by name, and an old UUID key id", async () => {
      const secret = `db/${sig}-conn_info`;
      const uuid = "08c33a6f-4e0a-4a1b-a3fa-7ddf0000000a";
      await call({ RegionId: REGION, ResourceType: "secret", ...flatIds([secret]), ...flatTags({ a: "1" }) });
      await call({ RegionId: REGION, ResourceType: "key", ...flatIds([uuid]), ...flatTags({ b: "2" }) });
      assert.deepEqual(await aliKmsTagsOf(server, secret, { type: "secret" }), { a: "1" });
      assert.deepEqual(await aliKmsTagsOf(server, uuid), { b: "2" });
    });
  });
}

describe("KMS TagResources refusals change nothing", () => {
  const keep = keyId("keep");
  const base = { RegionId: REGION, ResourceType: "key", ...flatIds([keep]) };
  const cases: {
    title: string;
    query: Record<string, string>;
    code: string;
    status: number;
    message?: RegExp;
  }[] = [
    {
      title: "no RegionId",
      query: { ResourceType: "key", ...flatIds([keep]), ...flatTags({ a: "x" }) },
      code: "MissingParameter",
      status: 400,
      message: /"RegionId"/,
    },
    {
      title: "a region Alibaba does not have",
      query: { ...base, RegionId: "cn-nowhere", ...flatTags({ a: "x" }) },
      code: "InvalidParameter",
      status: 400,
      message: /"RegionId"/,
    },
    {
      title: "a ResourceType KMS does not have",
      query: { ...base, ResourceType: "instance", ...flatTags({ a: "x" }) },
      code: "InvalidParameter",
      status: 400,
      message: /"ResourceType"/,
    },
    {
      title: "no ResourceId",
      query: { RegionId: REGION, ResourceType: "key", ...flatTags({ a: "x" }) },
      code: "MissingParameter",
      status: 400,
      message: /"ResourceId\.1"/,
    },
    {
      title: "no Tag",
      query: base,
      code: "MissingParameter",
      status: 400,
      message: /"Tag\.1"/,
    },
    {
      title: "an id that is not a key id",
      query: { ...base, ...flatIds([keep, "i-bp1instance"]), ...flatTags({ a: "x" }) },
      code: "InvalidResourceId.NotFound",
      status: 404,
      message: /^The specified ResourceId is not found\.$/,
    },
    {
      title: "51 resource ids",
      query: {
        ...base,
        ...flatIds(Array.from({ length: 51 }, (_, i) => keyId(`many${i}`))),
        ...flatTags({ a: "x" }),
      },
      code: "InvalidParameter",
      status: 400,
      message: /ResourceId/,
    },
    {
      title: "21 tags",
      query: {
        ...base,
        ...flatTags(Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, "v"]))),
      },
      code: "InvalidParameter",
      status: 400,
      message: /Tag/,
    },
    {
      title: "a key given twice",
      query: {
        ...base,
        Tag: JSON.stringify([
          { Key: "a", Value: "1" },
          { Key: "a", Value: "2" },
        ]),
      },
      code: "Duplicate.TagKey",
      status: 400,
      message: /^The specified tagKey is duplicate\.$/,
    },
    {
      title: "a key starting with aliyun",
      query: { ...base, ...flatTags({ a: "x", aliyunTeam: "x" }) },
      code: "InvalidParameter",
      status: 400,
      message: /"Tag\.2\.Key".*aliyun/,
    },
    {
      title: "a key starting with acs:",
      query: { ...base, ...flatTags({ "acs:owner": "x" }) },
      code: "InvalidParameter",
      status: 400,
      message: /"Tag\.1\.Key".*acs:/,
    },
    {
      title: "a value starting with acs:",
      query: { ...base, ...flatTags({ owner: "acs:me" }) },
      code: "InvalidParameter",
      status: 400,
      message: /"Tag\.1\.Value"/,
    },
    {
      title: "a key of 129 characters",
      query: { ...base, ...flatTags({ ["k".repeat(129)]: "x" }) },
      code: "InvalidParameter",
      status: 400,
      message: /"Tag\.1\.Key".*128/,
    },
    {
      title: "a value of 129 characters",
      query: { ...base, ...flatTags({ a: "v".repeat(129) }) },
      code: "InvalidParameter",
      status: 400,
      message: /"Tag\.1\.Value".*128/,
    },
    {
      title: "an empty key",
      query: { ...base, "Tag.1.Key": "", "Tag.1.Value": "x" },
      code: "InvalidParameter",
      status: 400,
      message: /"Tag\.1\.Key"/,
    },
    {
      title: "a value holding a URL",
      query: { ...base, ...flatTags({ a: "see https://example.com" }) },
      code: "InvalidParameter",
      status: 400,
      message: /"Tag\.1\.Value".*https:\/\//,
    },
    {
      title: "Tag that is not JSON",
      query: { ...base, Tag: "[{Key:a}]" },
      code: "InvalidParameter",
      status: 400,
      message: /"Tag" is not valid: it is not valid JSON/,
    },
    {
      title: "Tag as a JSON object, not an array",
      query: { ...base, Tag: '{"Key":"a"}' },
      code: "InvalidParameter",
      status: 400,
      message: /"Tag".*JSON array/,
    },
    {
      title: "a Tag entry with a member tags do not have",
      query: { ...base, Tag: '[{"TagKey":"a"}]' },
      code: "InvalidParameter",
      status: 400,
      message: /"Tag\.1\.TagKey"/,
    },
    {
      title: "Tag both as JSON and flattened",
      query: { ...base, Tag: '[{"Key":"a"}]', "Tag.1.Key": "b" },
      code: "InvalidParameter",
      status: 400,
      message: /both as a JSON array/,
    },
  ];
  for (const c of cases) {
    test(`${c.title}: ${c.code} (${c.status})`, async () => {
      await register(server, [{ id: keep, tags: { a: "1" } }]);
      const err = await aliError(kmsCall(server, "TagResources", c.query));
      assert.equal(err.code, c.code, err.message);
      assert.equal(err.status, c.status);
      if (c.message) assert.match(err.data.Message, c.message);
      assert.deepEqual(await aliKmsTagsOf(server, keep), { a: "1" });
    });
  }

  test("more than 20 tags on one resource: Rejected.LimitExceeded (400), on no resource", async () => {
    const full = keyId("full");
    const other = keyId("fulloth");
    const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, "v"]));
    await register(server, [{ id: full, tags: twenty }, { id: other }]);
    const err = await aliError(
      kmsCall(server, "TagResources", {
        RegionId: REGION,
        ResourceType: "key",
        ...flatIds([other, full]),
        ...flatTags({ one: "more" }),
      }),
    );
    assert.equal(err.code, "Rejected.LimitExceeded");
    assert.equal(err.status, 400);
    assert.match(err.data.Message, new RegExp(`${full} would have 21 tags`));
    assert.equal(Object.keys((await aliKmsTagsOf(server, full)) ?? {}).length, 20);
    assert.equal(await aliKmsTagsOf(server, other).then((t) => t?.one), undefined);
  });

  test("a key the server does not know the access key of: InvalidAccessKeyId.NotFound (404)", async () => {
    const err = await aliError(
      kmsCall(
        server,
        "TagResources",
        { ...base, ...flatTags({ a: "x" }) },
        {
          key: { accessKeyId: "LTAInobody", accessKeySecret: "nothing" },
        },
      ),
    );
    assert.equal(err.code, "InvalidAccessKeyId.NotFound");
    assert.equal(err.status, 404);
  });

  test("an action KMS does not have here: InvalidAction.NotFound (404)", async () => {
    const err = await aliError(kmsCall(server, "AddTags", { ...base, ...flatTags({ a: "x" }) }));
    assert.equal(err.code, "InvalidAction.NotFound");
    assert.equal(err.status, 404);
  });
});

describe("KMS TagResources in strict inventory mode", () => {
  test("an unregistered key is InvalidResourceId.NotFound (404); a registered one is tagged", async () => {
    const strict = await startServer({ config: testConfig({ inventory: "strict" }) });
    try {
      const known = keyId("known");
      await register(strict, [{ id: known }]);
      const err = await aliError(
        kmsCall(strict, "TagResources", {
          RegionId: REGION,
          ResourceType: "key",
          ...flatIds([known, keyId("unregistered")]),
          ...flatTags({ a: "1" }),
        }),
      );
      assert.equal(err.code, "InvalidResourceId.NotFound");
      assert.equal(err.status, 404);
      assert.equal(await aliKmsTagsOf(strict, known), undefined);
      await kmsCall(strict, "TagResources", {
        RegionId: REGION,
        ResourceType: "key",
        ...flatIds([known]),
        ...flatTags({ a: "1" }),
      });
      assert.deepEqual(await aliKmsTagsOf(strict, known), { a: "1" });
    } finally {
      await strict.stop(true);
    }
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ListResourceTagsRequest } from "@alicloud/kms20160120";
import {
  ALIBABA_ACCOUNT,
  aliError,
  legacyError,
  startServer,
  type TestServer,
  testConfig,
} from "../helpers.ts";
import { keyId, kmsCall, register } from "./alikms.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

describe("KMS ListResourceTags through the legacy client", () => {
  test("a key's tags by key, in the SDK's Tags.Tag shape with the key's id", async () => {
    const id = keyId("lr1");
    await register(server, [{ id, region: "cn-shanghai", tags: { zone: "b", app: "shop" } }]);
    const out = await server.kmsLegacy().listResourceTags(new ListResourceTagsRequest({ keyId: id }));
    assert.match(out.requestId, /^[0-9A-F-]{36}$/);
    assert.deepEqual(JSON.parse(JSON.stringify(out.tags)), {
      tag: [
        { keyId: id, tagKey: "app", tagValue: "shop" },
        { keyId: id, tagKey: "zone", tagValue: "b" },
      ],
    });
  });

  test("by ARN the id in the answer is the key's id; a key without tags has an empty list", async () => {
    const id = keyId("lr2");
    await register(server, [{ id }]);
    const out = await kmsCall(server, "ListResourceTags", {
      KeyId: `acs:kms:cn-hangzhou:${ALIBABA_ACCOUNT}:key/${id}`,
    });
    assert.deepEqual(out.body.Tags, { Tag: [] });
    const keyed = await kmsCall(server, "ListResourceTags", { KeyId: id, RegionId: "cn-hangzhou" });
    assert.deepEqual(keyed.body.Tags, { Tag: [] });
  });

  const refusals: { title: string; keyId: string; code: string; status: number }[] = [
    { title: "an unseen key", keyId: keyId("lrnowhere"), code: "Forbidden.KeyNotFound", status: 404 },
    { title: "an alias", keyId: "alias/prod", code: "Forbidden.AliasNotFound", status: 404 },
    { title: "no key id", keyId: "", code: "MissingParameter", status: 400 },
  ];
  for (const c of refusals) {
    test(`${c.title}: ${c.code} (${c.status})`, async () => {
      const err = await legacyError(
        server.kmsLegacy().listResourceTags(new ListResourceTagsRequest({ keyId: c.keyId })),
      );
      assert.equal(err.code, c.code, err.message);
      assert.equal(err.status, c.status);
    });
  }

  test("a RegionId Alibaba does not have: InvalidParameter (400) naming it", async () => {
    const err = await aliError(
      kmsCall(server, "ListResourceTags", { KeyId: keyId("lr3"), RegionId: "mars-1" }),
    );
    assert.equal(err.code, "InvalidParameter");
    assert.equal(err.status, 400);
    assert.match(err.data.Message, /"RegionId"/);
  });

  test("an ARN whose region differs from RegionId: InvalidParameter (400) naming KeyId", async () => {
    const err = await aliError(
      kmsCall(server, "ListResourceTags", {
        KeyId: `acs:kms:cn-beijing:${ALIBABA_ACCOUNT}:key/${keyId("lr4")}`,
        RegionId: "cn-hangzhou",
      }),
    );
    assert.equal(err.code, "InvalidParameter");
    assert.equal(err.status, 400);
    assert.match(err.data.Message, /"KeyId".*cn-beijing/);
  });

  test("a secret name in two regions must be told apart by RegionId", async () => {
    await register(server, [
      { id: "twice", type: "secret", region: "cn-hangzhou", tags: { r: "hz" } },
      { id: "twice", type: "secret", region: "cn-beijing", tags: { r: "bj" } },
    ]);
    const err = await aliError(kmsCall(server, "UntagResource", { SecretName: "twice", TagKeys: '["r"]' }));
    assert.equal(err.code, "InvalidParameter");
    assert.equal(err.status, 400);
    assert.match(
      err.data.Message,
      /"SecretName".*cn-hangzhou.*cn-beijing|"SecretName".*cn-beijing.*cn-hangzhou/,
    );
    await kmsCall(server, "UntagResource", { SecretName: "twice", TagKeys: '["r"]', RegionId: "cn-beijing" });
    const listed = await kmsCall(server, "ListTagResources", {
      RegionId: "cn-hangzhou",
      ResourceType: "secret",
      "ResourceId.1": "twice",
    });
    assert.deepEqual(listed.body.TagResources.TagResource, [
      { ResourceId: "twice", ResourceType: "secret", TagKey: "r", TagValue: "hz" },
    ]);
  });

  test("strict inventory mode: an unregistered key is Forbidden.KeyNotFound (404) even with its region", async () => {
    const strict = await startServer({ config: testConfig({ inventory: "strict" }) });
    try {
      const err = await aliError(
        kmsCall(strict, "ListResourceTags", { KeyId: keyId("lr5"), RegionId: "cn-hangzhou" }),
      );
      assert.equal(err.code, "Forbidden.KeyNotFound");
      assert.equal(err.status, 404);
    } finally {
      await strict.stop(true);
    }
  });
});

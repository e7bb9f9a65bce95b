import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { TagResourceRequest } from "@alicloud/kms20160120";
import {
  ALIBABA_ACCOUNT,
  ALIBABA_ACCOUNT_2,
  aliError,
  aliKmsTagsOf,
  legacyError,
  startServer,
  type TestServer,
  testConfig,
} from "../helpers.ts";
import { keyId, kmsCall, REGION, register } from "./alikms.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

const tagsJson = (tags: Record<string, string>) =>
  JSON.stringify(Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })));
const arn = (id: string, region = REGION, account = ALIBABA_ACCOUNT) =>
  `acs:kms:${region}:${account}:key/${id}`;

describe("KMS TagResource through the legacy client", () => {
  test("tags a registered key by its id, found in whichever region holds it", async () => {
    const id = keyId("legacy1");
    await register(server, [{ id, region: "cn-beijing", tags: { old: "1" } }]);
    const out = await server
      .kmsLegacy()
      .tagResource(new TagResourceRequest({ keyId: id, tags: tagsJson({ env: "prod" }) }));
    assert.match(out.requestId, /^[0-9A-F-]{36}$/);
    assert.deepEqual(await aliKmsTagsOf(server, id, { region: "cn-beijing" }), { old: "1", env: "prod" });
  });

  test("a key's ARN names its region: in open mode an unseen key is registered there", async () => {
    const id = keyId("legacyarn");
    await server
      .kmsLegacy()
      .tagResource(new TagResourceRequest({ keyId: arn(id, "cn-shenzhen"), tags: tagsJson({ a: "1" }) }));
    assert.deepEqual(await aliKmsTagsOf(server, id, { region: "cn-shenzhen" }), { a: "1" });
  });

  test("tags a registered secret by name; a key given again gets the new value", async () => {
    await register(server, [{ id: "legacy-secret", type: "secret", tags: { env: "dev" } }]);
    await server
      .kmsLegacy()
      .tagResource(
        new TagResourceRequest({ secretName: "legacy-secret", tags: tagsJson({ env: "prod", team: "x" }) }),
      );
    assert.deepEqual(await aliKmsTagsOf(server, "legacy-secret", { type: "secret" }), {
      env: "prod",
      team: "x",
    });
  });

  test("a RegionId parameter (sent by callApi) names the region of an unseen key", async () => {
    const id = keyId("legacyregion");
    await kmsCall(server, "TagResource", { RegionId: "cn-qingdao", KeyId: id, Tags: tagsJson({ a: "1" }) });
    assert.deepEqual(await aliKmsTagsOf(server, id, { region: "cn-qingdao" }), { a: "1" });
  });

  const keep = keyId("legacykeep");
  const cases: {
    title: string;
    request: () => TagResourceRequest;
    code: string;
    status: number;
    message: RegExp;
  }[] = [
    {
      title: "an unseen key without a region",
      request: () => new TagResourceRequest({ keyId: keyId("nowhere"), tags: tagsJson({ a: "1" }) }),
      code: "Forbidden.KeyNotFound",
      status: 404,
      message: /^The specified Key is not found\. .*send RegionId or the key's ARN/,
    },
    {
      title: "an unseen secret without a region",
      request: () => new TagResourceRequest({ secretName: "no-such-secret", tags: tagsJson({ a: "1" }) }),
      code: "Forbidden.ResourceNotFound",
      status: 404,
      message: /^The resource is not found\./,
    },
    {
      title: "an alias",
      request: () => new TagResourceRequest({ keyId: "alias/my-key", tags: tagsJson({ a: "1" }) }),
      code: "Forbidden.AliasNotFound",
      status: 404,
      message: /^The specified Alias is not found\.$/,
    },
    {
      title: "another account's key ARN",
      request: () =>
        new TagResourceRequest({ keyId: arn(keep, REGION, ALIBABA_ACCOUNT_2), tags: tagsJson({ a: "1" }) }),
      code: "Forbidden.KeyNotFound",
      status: 404,
      message: /^The specified Key is not found\.$/,
    },
    {
      title: "a KeyId that is no key id",
      request: () => new TagResourceRequest({ keyId: "i-bp1instance", tags: tagsJson({ a: "1" }) }),
      code: "Forbidden.KeyNotFound",
      status: 404,
      message: /^The specified Key is not found\.$/,
    },
    {
      title: "both KeyId and SecretName",
      request: () => new TagResourceRequest({ keyId: keep, secretName: "s", tags: tagsJson({ a: "1" }) }),
      code: "InvalidParameter",
      status: 400,
      message: /"SecretName".*only one of KeyId, SecretName and CertificateId/,
    },
    {
      title: "neither KeyId nor SecretName",
      request: () => new TagResourceRequest({ tags: tagsJson({ a: "1" }) }),
      code: "InvalidParameter",
      status: 400,
      message: /"KeyId".*one of KeyId, SecretName and CertificateId/,
    },
    {
      title: "Tags that is not JSON",
      request: () => new TagResourceRequest({ keyId: keep, tags: "TagKey=a" }),
      code: "InvalidParameter",
      status: 400,
      message: /"Tags" is not valid: it is not valid JSON; write it as \[\{"TagKey":"…","TagValue":"…"\}\]/,
    },
    {
      title: "Tags with an entry that is not an object",
      request: () => new TagResourceRequest({ keyId: keep, tags: '["a"]' }),
      code: "InvalidParameter",
      status: 400,
      message: /"Tags".*entry 1 must be a JSON object/,
    },
    {
      title: "Tags in the batch actions' spelling",
      request: () => new TagResourceRequest({ keyId: keep, tags: '[{"Key":"a","Value":"1"}]' }),
      code: "InvalidParameter",
      status: 400,
      message: /"Tags\.1\.Key"/,
    },
    {
      title: "a key starting with aliyun",
      request: () => new TagResourceRequest({ keyId: keep, tags: tagsJson({ ok: "1", "aliyun:x": "1" }) }),
      code: "InvalidParameter",
      status: 400,
      message: /"Tags\.2\.TagKey".*aliyun/,
    },
    {
      title: "a value of 129 characters",
      request: () => new TagResourceRequest({ keyId: keep, tags: tagsJson({ a: "v".repeat(129) }) }),
      code: "InvalidParameter",
      status: 400,
      message: /"Tags\.1\.TagValue"/,
    },
    {
      title: "a key given twice",
      request: () =>
        new TagResourceRequest({
          keyId: keep,
          tags: '[{"TagKey":"a","TagValue":"1"},{"TagKey":"a","TagValue":"2"}]',
        }),
      code: "Duplicate.TagKey",
      status: 400,
      message: /^The specified tagKey is duplicate\.$/,
    },
  ];
  for (const c of cases) {
    test(`${c.title}: ${c.code} (${c.status}), nothing changes`, async () => {
      await register(server, [{ id: keep, tags: { a: "0" } }]);
      const err = await legacyError(server.kmsLegacy().tagResource(c.request()));
      assert.equal(err.code, c.code, err.message);
      assert.equal(err.status, c.status);
      assert.match(err.message, c.message);
      assert.deepEqual(await aliKmsTagsOf(server, keep), { a: "0" });
    });
  }

  test("more than 20 tags on the key: Rejected.LimitExceeded (400)", async () => {
    const id = keyId("legacyfull");
    await register(server, [
      { id, tags: Object.fromEntries(Array.from({ length: 19 }, (_, i) => [`k${i}`, "v"])) },
    ]);
    const err = await legacyError(
      server
        .kmsLegacy()
        .tagResource(new TagResourceRequest({ keyId: id, tags: tagsJson({ x: "1", y: "2" }) })),
    );
    assert.equal(err.code, "Rejected.LimitExceeded");
    assert.equal(err.status, 400);
    assert.match(err.message, /would have 21 tags/);
    assert.equal(Object.keys((await aliKmsTagsOf(server, id)) ?? {}).length, 19);
  });

  test("a CertificateId: InvalidParameter (400) naming it, tagd holding no certificates", async () => {
    const err = await aliError(
      kmsCall(server, "TagResource", {
        CertificateId: "770dbe42-e146-43d1-a55a-1355db860000",
        Tags: tagsJson({ a: "1" }),
      }),
    );
    assert.equal(err.code, "InvalidParameter");
    assert.equal(err.status, 400);
    assert.match(err.data.Message, /"CertificateId".*not certificates/);
  });

  test("an access key no account has: InvalidAccessKeyId.NotFound (404)", async () => {
    const err = await legacyError(
      server
        .kmsLegacy({ accessKeyId: "LTAInobody", accessKeySecret: "x" })
        .tagResource(new TagResourceRequest({ keyId: keep, tags: tagsJson({ a: "1" }) })),
    );
    assert.equal(err.code, "InvalidAccessKeyId.NotFound");
    assert.equal(err.status, 404);
  });
});

describe("KMS TagResource in strict inventory mode", () => {
  test("an unregistered key, even by its ARN, is Forbidden.KeyNotFound (404)", async () => {
    const strict = await startServer({ config: testConfig({ inventory: "strict" }) });
    try {
      const id = keyId("strictarn");
      const err = await legacyError(
        strict
          .kmsLegacy()
          .tagResource(new TagResourceRequest({ keyId: arn(id), tags: tagsJson({ a: "1" }) })),
      );
      assert.equal(err.code, "Forbidden.KeyNotFound");
      assert.equal(err.status, 404);
      assert.equal(await aliKmsTagsOf(strict, id), undefined);
    } finally {
      await strict.stop(true);
    }
  });
});

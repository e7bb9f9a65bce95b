import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { UntagResourceRequest } from "@alicloud/kms20160120";
import { ALIBABA_ACCOUNT, aliKmsTagsOf, legacyError, startServer, type TestServer } from "../helpers.ts";
import { keyId, REGION, register } from "./alikms.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

describe("KMS UntagResource through the legacy client", () => {
  test("removes the keys TagKeys names from a key; keys it lacks are fine", async () => {
    const id = keyId("lu1");
    await register(server, [{ id, tags: { a: "1", b: "2", c: "3" } }]);
    const out = await server
      .kmsLegacy()
      .untagResource(new UntagResourceRequest({ keyId: id, tagKeys: '["a","c","never"]' }));
    assert.match(out.requestId, /^[0-9A-F-]{36}$/);
    assert.deepEqual(await aliKmsTagsOf(server, id), { b: "2" });
  });

  test("by ARN, and from a secret by name", async () => {
    const id = keyId("lu2");
    await register(server, [
      { id, region: "cn-beijing", tags: { a: "1" } },
      { id: "lu-secret", type: "secret", tags: { a: "1", b: "2" } },
    ]);
    await server.kmsLegacy().untagResource(
      new UntagResourceRequest({
        keyId: `acs:kms:cn-beijing:${ALIBABA_ACCOUNT}:key/${id}`,
        tagKeys: '["a"]',
      }),
    );
    await server
      .kmsLegacy()
      .untagResource(new UntagResourceRequest({ secretName: "lu-secret", tagKeys: '["b"]' }));
    assert.deepEqual(await aliKmsTagsOf(server, id, { region: "cn-beijing" }), {});
    assert.deepEqual(await aliKmsTagsOf(server, "lu-secret", { type: "secret" }), { a: "1" });
  });

  const keep = keyId("lukeep");
  const cases: {
    title: string;
    request: () => UntagResourceRequest;
    code: string;
    status: number;
    message: RegExp;
  }[] = [
    {
      title: "TagKeys that is not JSON",
      request: () => new UntagResourceRequest({ keyId: keep, tagKeys: "a,b" }),
      code: "InvalidParameter",
      status: 400,
      message: /"TagKeys" is not valid: it is not valid JSON; write it as \["…"\]/,
    },
    {
      title: "TagKeys as a JSON object",
      request: () => new UntagResourceRequest({ keyId: keep, tagKeys: '{"a":1}' }),
      code: "InvalidParameter",
      status: 400,
      message: /"TagKeys".*JSON array/,
    },
    {
      title: "a key starting with acs:",
      request: () => new UntagResourceRequest({ keyId: keep, tagKeys: '["a","acs:rm:rgId"]' }),
      code: "InvalidParameter",
      status: 400,
      message: /"TagKeys\.2".*acs:/,
    },
    {
      title: "an empty TagKeys",
      request: () => new UntagResourceRequest({ keyId: keep, tagKeys: "" }),
      code: "MissingParameter",
      status: 400,
      message: /"TagKeys"/,
    },
    {
      title: "an unseen key",
      request: () => new UntagResourceRequest({ keyId: keyId("lunowhere"), tagKeys: '["a"]' }),
      code: "Forbidden.KeyNotFound",
      status: 404,
      message: /^The specified Key is not found\./,
    },
    {
      title: "an unseen secret",
      request: () => new UntagResourceRequest({ secretName: "lu-nowhere", tagKeys: '["a"]' }),
      code: "Forbidden.ResourceNotFound",
      status: 404,
      message: /^The resource is not found\./,
    },
  ];
  for (const c of cases) {
    test(`${c.title}: ${c.code} (${c.status}), nothing changes`, async () => {
      await register(server, [{ id: keep, region: REGION, tags: { a: "1" } }]);
      const err = await legacyError(server.kmsLegacy().untagResource(c.request()));
      assert.equal(err.code, c.code, err.message);
      assert.equal(err.status, c.status);
      assert.match(err.message, c.message);
      assert.deepEqual(await aliKmsTagsOf(server, keep), { a: "1" });
    });
  }
});

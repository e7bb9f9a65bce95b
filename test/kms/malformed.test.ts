import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { KMSClient } from "@aws-sdk/client-kms";
import { startServer, type TestServer } from "../helpers.ts";
import { kmsTagsOf, newKeyId, type RawAnswer, rawKms, tagKey, tagList } from "./kms.ts";

/**
 * What the SDK would never send: every request gets a 4xx in KMS's format (`__type`, `message`,
 * `x-amzn-ErrorType`, a request id), changes nothing, and the server keeps serving.
 */

let server: TestServer;
let kms: KMSClient;
const id = newKeyId();
const TAGS = { keep: "me", team: "a" };
before(async () => {
  server = await startServer();
  kms = server.kms();
  await tagKey(kms, id, TAGS);
});
after(() => server.stop(true));

function assertError(res: RawAnswer, status: number, code: string, message?: RegExp | string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers["x-amzn-errortype"], code);
  assert.ok(res.headers["x-amzn-requestid"]);
  const body = res.json();
  assert.deepEqual(Object.keys(body).sort(), ["__type", "message"]);
  assert.equal(body.__type, code);
  assert.equal(typeof body.message, "string");
  if (typeof message === "string") assert.equal(body.message, message);
  else if (message) assert.match(body.message, message);
}

const cases: { name: string; op: string; body: string | object; code: string; message?: RegExp | string }[] =
  [
    {
      name: "not JSON",
      op: "TagResource",
      body: '{"KeyId": ',
      code: "SerializationException",
      message: /not valid JSON/,
    },
    { name: "a JSON array", op: "TagResource", body: "[]", code: "SerializationException" },
    { name: "a JSON string", op: "ListResourceTags", body: '"KeyId"', code: "SerializationException" },
    {
      name: "KeyId a number",
      op: "TagResource",
      body: { KeyId: 5, Tags: tagList({ a: "1" }) },
      code: "SerializationException",
      message: /'keyId'/,
    },
    {
      name: "Tags a string",
      op: "TagResource",
      body: { KeyId: id, Tags: "a=1" },
      code: "SerializationException",
      message: /'tags'/,
    },
    {
      name: "Tags a map, as TagResources takes them",
      op: "TagResource",
      body: { KeyId: id, Tags: { a: "1" } },
      code: "SerializationException",
    },
    {
      name: "a tag a number",
      op: "TagResource",
      body: { KeyId: id, Tags: [5] },
      code: "SerializationException",
    },
    {
      name: "a null tag",
      op: "TagResource",
      body: { KeyId: id, Tags: [null] },
      code: "SerializationException",
    },
    {
      name: "TagKey a number",
      op: "TagResource",
      body: { KeyId: id, Tags: [{ TagKey: 1, TagValue: "v" }] },
      code: "SerializationException",
    },
    {
      name: "TagValue a boolean",
      op: "TagResource",
      body: { KeyId: id, Tags: [{ TagKey: "k", TagValue: true }] },
      code: "SerializationException",
    },
    {
      name: "TagKeys a string",
      op: "UntagResource",
      body: { KeyId: id, TagKeys: "keep" },
      code: "SerializationException",
    },
    {
      name: "Limit a string",
      op: "ListResourceTags",
      body: { KeyId: id, Limit: "7" },
      code: "SerializationException",
      message: /'limit'/,
    },
    {
      name: "Limit a fraction",
      op: "ListResourceTags",
      body: { KeyId: id, Limit: 1.5 },
      code: "SerializationException",
    },
    {
      name: "Limit beyond 32 bits",
      op: "ListResourceTags",
      body: { KeyId: id, Limit: 2 ** 40 },
      code: "SerializationException",
    },
    {
      name: "a hostile object",
      op: "TagResource",
      body: '{"KeyId":{"toString":1},"Tags":[]}',
      code: "SerializationException",
    },
    {
      name: "nesting deeper than any shape",
      op: "TagResource",
      body: `{"KeyId":"${id}","Tags":${"[".repeat(5000)}${"]".repeat(5000)}}`,
      code: "SerializationException",
    },
    {
      name: "no KeyId",
      op: "TagResource",
      body: { Tags: tagList({ a: "1" }) },
      code: "ValidationException",
      message:
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null",
    },
    {
      name: "no Tags",
      op: "TagResource",
      body: { KeyId: id },
      code: "ValidationException",
      message:
        "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
    },
    {
      name: "a tag without its value",
      op: "TagResource",
      body: { KeyId: id, Tags: [{ TagKey: "k" }] },
      code: "ValidationException",
      message:
        /Value null at 'tags\.1\.member\.tagValue' failed to satisfy constraint: Member must not be null/,
    },
    {
      name: "two problems at once, both reported",
      op: "TagResource",
      body: { KeyId: "", Tags: [{ TagKey: "k".repeat(129), TagValue: "v" }] },
      code: "ValidationException",
      message: /^2 validation errors detected: .*'keyId'.*; .*'tags\.1\.member\.tagKey'/,
    },
    {
      name: "a KeyId of 2049 characters",
      op: "ListResourceTags",
      body: { KeyId: "x".repeat(2049) },
      code: "ValidationException",
    },
    {
      name: "an empty body: KeyId is missing",
      op: "ListResourceTags",
      body: "",
      code: "ValidationException",
      message: /'keyId'/,
    },
    {
      name: "an operation KMS has that tagd does not",
      op: "Encrypt",
      body: { KeyId: id },
      code: "UnknownOperationException",
    },
    {
      name: "an operation no one has",
      op: "TagResources",
      body: { KeyId: id },
      code: "UnknownOperationException",
    },
    {
      name: "an inherited property is not an operation",
      op: "constructor",
      body: {},
      code: "UnknownOperationException",
    },
  ];

describe("malformed KMS requests", () => {
  for (const c of cases) {
    test(`${c.op}: ${c.name} → ${c.code}`, async () => {
      assertError(await rawKms(server, c.op, c.body), 400, c.code, c.message);
    });
  }

  test("a body that is not UTF-8 → SerializationException", async () => {
    const body = Buffer.concat([
      Buffer.from(`{"KeyId":"${id}","Tags":[{"TagKey":"k","TagValue":"`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}]}'),
    ]);
    const res = await rawKms(server, "TagResource", body);
    assertError(res, 400, "SerializationException", /not valid UTF-8/);
  });

  test("a request signed for the tagging API, not for kms → InvalidSignatureException", async () => {
    const res = await rawKms(
      server,
      "TagResource",
      { KeyId: id, Tags: tagList({ a: "1" }) },
      { service: "tagging" },
    );
    assertError(
      res,
      400,
      "InvalidSignatureException",
      "Credential should be scoped to correct service: 'kms'.",
    );
  });

  test("a tagging API operation signed for kms → InvalidSignatureException", async () => {
    const res = await rawKms(server, "ResourceGroupsTaggingAPI_20170126.GetTagKeys", {});
    assertError(
      res,
      400,
      "InvalidSignatureException",
      "Credential should be scoped to correct service: 'tagging'.",
    );
  });

  test("an unknown access key → UnrecognizedClientException", async () => {
    const res = await rawKms(
      server,
      "ListResourceTags",
      { KeyId: id },
      { key: { accessKeyId: "AKIDNOBODY", secretAccessKey: "x" } },
    );
    assertError(res, 400, "UnrecognizedClientException");
  });

  test("a body under another Content-Type → UnknownOperationException", async () => {
    const res = await rawKms(server, "ListResourceTags", { KeyId: id }, { contentType: "text/plain" });
    assertError(res, 400, "UnknownOperationException", /Content-Type/);
  });

  test("after all of them the key's tags are as they were and the server answers", async () => {
    assert.deepEqual(await kmsTagsOf(kms, id), TAGS);
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type KMSClient, ListResourceTagsCommand, UntagResourceCommand } from "@aws-sdk/client-kms";
import { ACCOUNT_B, sdkError, startServer, type TestServer, testConfig } from "../helpers.ts";
import { keyArn, kmsTagsOf, newKeyId, rawKms, registerKeys, tagKey } from "./kms.ts";

let server: TestServer;
let kms: KMSClient;
before(async () => {
  server = await startServer();
  kms = server.kms();
});
after(() => server.stop(true));

const untag = (client: KMSClient, KeyId: string, TagKeys: string[]) =>
  client.send(new UntagResourceCommand({ KeyId, TagKeys }));

describe("UntagResource succeeds", () => {
  test("removes the named keys and keeps the others; the answer is 200 with an empty body", async () => {
    const id = newKeyId();
    await tagKey(kms, id, { a: "1", b: "2", c: "3" });
    const out = await untag(kms, id, ["a", "c"]);
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual(await kmsTagsOf(kms, id), { b: "2" });
    const raw = await rawKms(server, "UntagResource", { KeyId: keyArn(id), TagKeys: ["b"] });
    assert.equal(raw.status, 200);
    assert.equal(raw.text, "");
    assert.deepEqual(await kmsTagsOf(kms, id), {});
  });

  test("tag keys the key does not carry are no-ops, not errors", async () => {
    const id = newKeyId();
    await tagKey(kms, id, { keep: "1" });
    await untag(kms, id, ["absent", "also-absent"]);
    await untag(kms, keyArn(id), ["absent"]);
    assert.deepEqual(await kmsTagsOf(kms, id), { keep: "1" });
  });

  test("a key whose last tag is removed still exists, with no tags", async () => {
    const id = newKeyId();
    await tagKey(kms, id, { only: "1" });
    await untag(kms, id, ["only"]);
    const out = await kms.send(new ListResourceTagsCommand({ KeyId: id }));
    assert.deepEqual(out.Tags, []);
    assert.equal(out.Truncated, false);
  });

  test("open mode: an unknown key has nothing to remove, so success; it is not registered by it", async () => {
    const id = newKeyId();
    await untag(kms, id, ["a"]);
    const err = await sdkError(kms.send(new ListResourceTagsCommand({ KeyId: id })));
    assert.equal(err.name, "NotFoundException");
    const listed = await server.admin("GET", `/admin/v1/resources?service=kms&limit=1000`);
    assert.equal(
      listed.body.resources.some((r: { arn: string }) => r.arn === keyArn(id)),
      false,
    );
  });
});

describe("UntagResource errors, each with KMS's code and status, and nothing changed", () => {
  const id = newKeyId();
  before(async () => {
    await tagKey(kms, id, { keep: "me", "aws-ish": "x" });
  });
  const unchanged = async () => assert.deepEqual(await kmsTagsOf(kms, id), { keep: "me", "aws-ish": "x" });

  async function fails(KeyId: string, TagKeys: string[], code: string, message?: RegExp | string) {
    const err = await sdkError(untag(kms, KeyId, TagKeys));
    assert.equal(err.name, code, err.message);
    assert.equal(err.status, 400);
    if (typeof message === "string") assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
  }

  test("NotFoundException: another account's or another Region's key ARN", async () => {
    const theirs = keyArn(id, ACCOUNT_B);
    await fails(theirs, ["keep"], "NotFoundException", `Key '${theirs}' does not exist`);
    const west = keyArn(id, undefined, "eu-west-1");
    await fails(west, ["keep"], "NotFoundException", `Key '${west}' does not exist`);
    await fails("nope", ["keep"], "NotFoundException", "Invalid keyId nope");
    await unchanged();
  });

  test("InvalidArnException: a malformed ARN", async () => {
    await fails("arn:aws:kms:us-east-1:111111111111", ["keep"], "InvalidArnException", /not a valid ARN/);
    await unchanged();
  });

  test("TagException: removing an aws: tag", async () => {
    await fails(id, ["keep", "aws:createdBy"], "TagException", /aws:createdBy/);
    await unchanged();
  });

  test("KMSInvalidStateException: a key pending deletion keeps its tags", async () => {
    const pending = newKeyId();
    await tagKey(kms, pending, { a: "1" });
    await registerKeys(server, [{ arn: keyArn(pending), state: "PendingDeletion" }]);
    await fails(pending, ["a"], "KMSInvalidStateException", `${keyArn(pending)} is pending deletion.`);
    assert.deepEqual(await kmsTagsOf(kms, pending), { a: "1" });
  });

  test("ValidationException: tag key lengths, a missing TagKeys, an empty KeyId", async () => {
    await fails(
      id,
      ["k".repeat(129)],
      "ValidationException",
      /^1 validation error detected: Value 'k{129}' at 'tagKeys\.1\.member' failed to satisfy constraint: Member must have length less than or equal to 128$/,
    );
    await fails(id, [""], "ValidationException", /at 'tagKeys\.1\.member'.*greater than or equal to 1/);
    const raw = await rawKms(server, "UntagResource", { KeyId: id });
    assert.equal(raw.status, 400);
    assert.deepEqual(raw.json(), {
      __type: "ValidationException",
      message:
        "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
    });
    await fails("", ["keep"], "ValidationException", /'keyId'/);
    await unchanged();
  });
});

describe("UntagResource in strict inventory mode", () => {
  let strict: TestServer;
  let client: KMSClient;
  before(async () => {
    strict = await startServer({ config: testConfig({ inventory: "strict" }) });
    client = strict.kms();
  });
  after(() => strict.stop(true));

  test("a key the inventory does not hold is NotFoundException", async () => {
    const id = newKeyId();
    const err = await sdkError(untag(client, id, ["a"]));
    assert.equal(err.name, "NotFoundException");
    assert.equal(err.status, 400);
    assert.equal(err.message, `Key '${keyArn(id)}' does not exist`);
  });

  test("a registered key loses the named tags", async () => {
    const id = newKeyId();
    await registerKeys(strict, [{ arn: keyArn(id) }]);
    await tagKey(client, id, { a: "1", b: "2" });
    await untag(client, id, ["a"]);
    assert.deepEqual(await kmsTagsOf(client, id), { b: "2" });
  });
});

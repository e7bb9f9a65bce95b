import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type KMSClient, ListResourceTagsCommand, TagResourceCommand } from "@aws-sdk/client-kms";
import { ACCOUNT_B, sdkError, startServer, type TestServer, testConfig } from "../helpers.ts";
import { keyArn, kmsTagsOf, manyTags, newKeyId, rawKms, registerKeys, tagKey, tagList } from "./kms.ts";

let server: TestServer;
let kms: KMSClient;
before(async () => {
  server = await startServer();
  kms = server.kms();
});
after(() => server.stop(true));

async function fails(
  input: ConstructorParameters<typeof TagResourceCommand>[0],
  code: string,
  message?: RegExp | string,
) {
  const err = await sdkError(kms.send(new TagResourceCommand(input)));
  assert.equal(err.name, code, err.message);
  assert.equal(err.status, 400);
  if (typeof message === "string") assert.equal(err.message, message);
  else if (message) assert.match(err.message, message);
  return err;
}

describe("TagResource succeeds", () => {
  test("tags a key named by its key id; the answer is 200 with an empty body", async () => {
    const id = newKeyId();
    const out = await tagKey(kms, id, { Purpose: "Test", env: "prod" });
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual(await kmsTagsOf(kms, id), { Purpose: "Test", env: "prod" });

    const raw = await rawKms(server, "TagResource", { KeyId: id, Tags: tagList({ more: "x" }) });
    assert.equal(raw.status, 200);
    assert.equal(raw.text, "");
    assert.ok(raw.headers["x-amzn-requestid"]);
  });

  test("the key id and the key ARN name the same key", async () => {
    const id = newKeyId();
    await tagKey(kms, keyArn(id), { a: "1" });
    await tagKey(kms, id, { b: "2" });
    assert.deepEqual(await kmsTagsOf(kms, id), { a: "1", b: "2" });
    assert.deepEqual(await kmsTagsOf(kms, keyArn(id)), { a: "1", b: "2" });
  });

  test("a multi-Region key id (mrk-…) is a key id", async () => {
    const id = `mrk-${"0123456789abcdef".repeat(2)}`;
    await tagKey(kms, id, { scope: "global" });
    assert.deepEqual(await kmsTagsOf(kms, keyArn(id)), { scope: "global" });
  });

  test("an existing tag key gets the new value; the other tags stay", async () => {
    const id = newKeyId();
    await tagKey(kms, id, { Purpose: "Test", team: "a" });
    await tagKey(kms, id, { Purpose: "Prod" });
    assert.deepEqual(await kmsTagsOf(kms, id), { Purpose: "Prod", team: "a" });
  });

  test("an empty value is a value; keys, values and limits at their edges are accepted", async () => {
    const id = newKeyId();
    const key = "k".repeat(128);
    const value = "v".repeat(256);
    await tagKey(kms, id, { flag: "", [key]: value, "with space_.:/=+-@": "é ü 1" });
    assert.deepEqual(await kmsTagsOf(kms, id), { flag: "", [key]: value, "with space_.:/=+-@": "é ü 1" });
    const full = newKeyId();
    await tagKey(kms, full, manyTags(50));
    assert.equal(Object.keys(await kmsTagsOf(kms, full)).length, 50);
    // At 50, overwriting values adds no tag and is allowed.
    await tagKey(kms, full, { k00: "changed", k49: "changed" });
    const after50 = await kmsTagsOf(kms, full);
    assert.equal(Object.keys(after50).length, 50);
    assert.equal(after50.k00, "changed");
  });

  test("lengths count code points: 128 and 256 astral letters (two UTF-16 units each) are within the limits", async () => {
    const id = newKeyId();
    await tagKey(kms, id, { ["𝒜".repeat(128)]: "𝒜".repeat(256) });
    assert.deepEqual(await kmsTagsOf(kms, id), { ["𝒜".repeat(128)]: "𝒜".repeat(256) });
  });

  test("a Disabled key and a key pending import can be tagged", async () => {
    const disabled = newKeyId();
    const importing = newKeyId();
    await registerKeys(server, [
      { arn: keyArn(disabled), state: "Disabled" },
      { arn: keyArn(importing), state: "PendingImport" },
    ]);
    await tagKey(kms, disabled, { ok: "yes" });
    await tagKey(kms, importing, { ok: "yes" });
    assert.deepEqual(await kmsTagsOf(kms, disabled), { ok: "yes" });
    assert.deepEqual(await kmsTagsOf(kms, importing), { ok: "yes" });
  });
});

describe("TagResource errors, each with KMS's code and status, and nothing changed", () => {
  const id = newKeyId();
  before(async () => {
    await tagKey(kms, id, { keep: "me" });
  });
  const unchanged = async () => assert.deepEqual(await kmsTagsOf(kms, id), { keep: "me" });

  test("NotFoundException: a key ARN of another account, with the message a missing key gets", async () => {
    const other = keyArn(id, ACCOUNT_B);
    await fails(
      { KeyId: other, Tags: tagList({ x: "1" }) },
      "NotFoundException",
      `Key '${other}' does not exist`,
    );
    await unchanged();
  });

  test("NotFoundException: a key ARN of another Region", async () => {
    const west = keyArn(id, undefined, "us-west-2");
    await fails(
      { KeyId: west, Tags: tagList({ x: "1" }) },
      "NotFoundException",
      `Key '${west}' does not exist`,
    );
    await unchanged();
  });

  test("NotFoundException: a key id that is not one, and an alias", async () => {
    await fails(
      { KeyId: "not-a-key", Tags: tagList({ x: "1" }) },
      "NotFoundException",
      "Invalid keyId not-a-key",
    );
    await fails({ KeyId: id.toUpperCase(), Tags: tagList({ x: "1" }) }, "NotFoundException", /Invalid keyId/);
    await fails({ KeyId: "alias/my-key", Tags: tagList({ x: "1" }) }, "NotFoundException", /not an alias/);
    await fails(
      { KeyId: "arn:aws:kms:us-east-1:111111111111:alias/my-key", Tags: tagList({ x: "1" }) },
      "NotFoundException",
      /not an alias/,
    );
    await unchanged();
  });

  test("InvalidArnException: a malformed ARN, another service's ARN, a key ARN without a key id", async () => {
    for (const arn of [
      "arn:aws:kms:us-east-1:111111111111",
      `arn:aws:kms:us-east-1:12345:key/${id}`,
      `arn:nowhere:kms:us-east-1:111111111111:key/${id}`,
      "arn:aws:s3:::bucket",
      "arn:aws:kms:us-east-1:111111111111:key/not-a-uuid",
      `arn:aws:kms:::key/${id}`,
    ]) {
      await fails(
        { KeyId: arn, Tags: tagList({ x: "1" }) },
        "InvalidArnException",
        new RegExp(arn.replaceAll(/[/:]/g, ".")),
      );
    }
    await unchanged();
  });

  test("TagException: the reserved aws: prefix, in any case", async () => {
    await fails({ KeyId: id, Tags: tagList({ "aws:cost": "1" }) }, "TagException", /reserved/);
    await fails({ KeyId: id, Tags: tagList({ ok: "1", "AWS:cost": "1" }) }, "TagException", /AWS:cost/);
    await unchanged();
  });

  test("TagException: a tag key twice in one request", async () => {
    await fails(
      {
        KeyId: id,
        Tags: [
          { TagKey: "dup", TagValue: "1" },
          { TagKey: "dup", TagValue: "2" },
        ],
      },
      "TagException",
      /Duplicate tag key dup/,
    );
    await unchanged();
  });

  test("TagException: characters tags may not hold, in a key or in a value", async () => {
    await fails({ KeyId: id, Tags: tagList({ "bad#key": "1" }) }, "TagException", /bad#key/);
    await fails({ KeyId: id, Tags: tagList({ good: "bad;value" }) }, "TagException", /value of tag key good/);
    await unchanged();
  });

  test("LimitExceededException: more than 50 tags on the key, in one request or added to existing ones", async () => {
    await fails({ KeyId: id, Tags: tagList(manyTags(51)) }, "LimitExceededException", /at most 50 tags/);
    await unchanged();
    const full = newKeyId();
    await tagKey(kms, full, manyTags(45));
    await fails({ KeyId: full, Tags: tagList(manyTags(6, "new")) }, "LimitExceededException", /51 tags/);
    assert.deepEqual(await kmsTagsOf(kms, full), manyTags(45));
  });

  test("KMSInvalidStateException: a key pending deletion, with the state named", async () => {
    const pending = newKeyId();
    const replica = newKeyId();
    await registerKeys(server, [
      { arn: keyArn(pending), state: "PendingDeletion" },
      { arn: keyArn(replica), state: "PendingReplicaDeletion" },
    ]);
    await fails(
      { KeyId: pending, Tags: tagList({ x: "1" }) },
      "KMSInvalidStateException",
      `${keyArn(pending)} is pending deletion.`,
    );
    await fails(
      { KeyId: keyArn(replica), Tags: tagList({ x: "1" }) },
      "KMSInvalidStateException",
      `${keyArn(replica)} is pending replica deletion.`,
    );
    assert.deepEqual(await kmsTagsOf(kms, pending), {});
    // The admin API moves the key back to Enabled (CancelKeyDeletion leaves it Disabled; any state but
    // the pending ones allows tagging): then it can be tagged.
    await registerKeys(server, [{ arn: keyArn(pending), state: "Disabled" }]);
    await tagKey(kms, pending, { x: "1" });
    assert.deepEqual(await kmsTagsOf(kms, pending), { x: "1" });
  });

  test("ValidationException: lengths of KeyId, tag key and tag value, in the AWS wording", async () => {
    const long = await fails(
      { KeyId: id, Tags: tagList({ ["k".repeat(129)]: "v" }) },
      "ValidationException",
      /^1 validation error detected: Value 'k{129}' at 'tags\.1\.member\.tagKey' failed to satisfy constraint: Member must have length less than or equal to 128$/,
    );
    assert.ok(long);
    await fails(
      { KeyId: id, Tags: tagList({ ok: "v".repeat(257) }) },
      "ValidationException",
      /at 'tags\.1\.member\.tagValue' failed to satisfy constraint: Member must have length less than or equal to 256/,
    );
    await fails(
      { KeyId: id, Tags: tagList({ "": "v" }) },
      "ValidationException",
      /at 'tags\.1\.member\.tagKey' failed to satisfy constraint: Member must have length greater than or equal to 1/,
    );
    await fails(
      { KeyId: "", Tags: tagList({ a: "v" }) },
      "ValidationException",
      /at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1/,
    );
    await fails(
      { KeyId: `arn:aws:kms:us-east-1:111111111111:key/${"x".repeat(2049)}`, Tags: tagList({ a: "v" }) },
      "ValidationException",
      /at 'keyId' failed to satisfy constraint: Member must have length less than or equal to 2048/,
    );
    await unchanged();
  });

  test("the key listed afterwards is exactly as before every refused call", async () => {
    const out = await kms.send(new ListResourceTagsCommand({ KeyId: id }));
    assert.deepEqual(out.Tags, [{ TagKey: "keep", TagValue: "me" }]);
    assert.equal(out.Truncated, false);
  });
});

describe("TagResource in strict inventory mode", () => {
  let strict: TestServer;
  let client: KMSClient;
  before(async () => {
    strict = await startServer({ config: testConfig({ inventory: "strict" }) });
    client = strict.kms();
  });
  after(() => strict.stop(true));

  test("a key the inventory does not hold is NotFoundException; a registered one is tagged", async () => {
    const id = newKeyId();
    const err = await sdkError(tagKey(client, id, { a: "1" }));
    assert.equal(err.name, "NotFoundException");
    assert.equal(err.status, 400);
    assert.equal(err.message, `Key '${keyArn(id)}' does not exist`);
    await registerKeys(strict, [{ arn: keyArn(id) }]);
    await tagKey(client, id, { a: "1" });
    assert.deepEqual(await kmsTagsOf(client, id), { a: "1" });
  });
});

describe("key states through the admin API", () => {
  test("a key registered with a state reports it; registering it again changes it", async () => {
    const id = newKeyId();
    await registerKeys(server, [{ arn: keyArn(id), state: "PendingDeletion" }]);
    const listed = async () =>
      (await server.admin("GET", "/admin/v1/resources?service=kms&limit=1000")).body.resources.find(
        (r: { arn: string }) => r.arn === keyArn(id),
      );
    assert.equal((await listed()).state, "PendingDeletion");
    assert.equal((await sdkError(tagKey(kms, id, { a: "1" }))).name, "KMSInvalidStateException");
    await registerKeys(server, [{ arn: keyArn(id), state: "Enabled" }]);
    assert.equal((await listed()).state, "Enabled");
    await tagKey(kms, id, { a: "1" });
    assert.deepEqual(await kmsTagsOf(kms, id), { a: "1" });
  });

  test("a state that is not a KMS key state is refused, and nothing is registered", async () => {
    const id = newKeyId();
    const res = await server.admin("POST", "/admin/v1/resources", {
      resources: [{ arn: keyArn(id), state: "pendingdeletion" }],
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, "InvalidResource");
    assert.match(res.body.error.message, /state pendingdeletion is not a KMS key state/);
    assert.equal(
      (await sdkError(kms.send(new ListResourceTagsCommand({ KeyId: id })))).name,
      "NotFoundException",
    );
  });
});

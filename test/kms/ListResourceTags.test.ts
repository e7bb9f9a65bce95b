import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type KMSClient, ListResourceTagsCommand } from "@aws-sdk/client-kms";
import { ACCOUNT_B, sdkError, startServer, type TestServer, testConfig } from "../helpers.ts";
import { keyArn, manyTags, newKeyId, rawKms, registerKeys, tagKey } from "./kms.ts";

let server: TestServer;
let kms: KMSClient;
before(async () => {
  server = await startServer();
  kms = server.kms();
});
after(() => server.stop(true));

const list = (input: ConstructorParameters<typeof ListResourceTagsCommand>[0], client = kms) =>
  client.send(new ListResourceTagsCommand(input));

async function fails(
  input: ConstructorParameters<typeof ListResourceTagsCommand>[0],
  code: string,
  message?: RegExp | string,
) {
  const err = await sdkError(list(input));
  assert.equal(err.name, code, err.message);
  assert.equal(err.status, 400);
  if (typeof message === "string") assert.equal(err.message, message);
  else if (message) assert.match(err.message, message);
}

describe("ListResourceTags pages", () => {
  const id = newKeyId();
  const all = manyTags(50);
  before(async () => {
    await tagKey(kms, id, all);
  });

  test("Limit 7 over 50 tags: 8 pages in key order, Truncated and NextMarker until the last", async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    for (;;) {
      const out = await list({ KeyId: id, Limit: 7, Marker: marker });
      pages++;
      const tags = out.Tags ?? [];
      for (const t of tags) {
        assert.equal(t.TagValue, all[t.TagKey as string]);
        seen.push(t.TagKey as string);
      }
      if (!out.Truncated) {
        assert.equal(out.NextMarker, undefined);
        assert.equal(tags.length, 1);
        break;
      }
      assert.equal(tags.length, 7);
      assert.ok(out.NextMarker);
      marker = out.NextMarker;
    }
    assert.equal(pages, 8);
    assert.deepEqual(seen, Object.keys(all).sort());
  });

  test("without Limit the default is 50: every tag on one page", async () => {
    const out = await list({ KeyId: keyArn(id) });
    assert.equal(out.Tags?.length, 50);
    assert.equal(out.Truncated, false);
    assert.equal(out.NextMarker, undefined);
  });

  test("a page continues after the last key it returned, also when tags change in between", async () => {
    const key = newKeyId();
    await tagKey(kms, key, { b: "1", d: "2", f: "3", h: "4" });
    const first = await list({ KeyId: key, Limit: 2 });
    assert.deepEqual(
      first.Tags?.map((t) => t.TagKey),
      ["b", "d"],
    );
    // A key before the marker and one after it appear after the change; nothing repeats.
    await tagKey(kms, key, { a: "0", e: "9" });
    const second = await list({ KeyId: key, Limit: 2, Marker: first.NextMarker });
    assert.deepEqual(
      second.Tags?.map((t) => t.TagKey),
      ["e", "f"],
    );
    const third = await list({ KeyId: key, Limit: 2, Marker: second.NextMarker });
    assert.deepEqual(
      third.Tags?.map((t) => t.TagKey),
      ["h"],
    );
    assert.equal(third.Truncated, false);
  });

  test("a registered key never tagged lists no tags; a key pending deletion still lists its tags", async () => {
    const bare = newKeyId();
    const pending = newKeyId();
    await tagKey(kms, pending, { a: "1" });
    await registerKeys(server, [{ arn: keyArn(bare) }, { arn: keyArn(pending), state: "PendingDeletion" }]);
    const none = await list({ KeyId: bare });
    assert.deepEqual(none.Tags, []);
    assert.equal(none.Truncated, false);
    const still = await list({ KeyId: pending });
    assert.deepEqual(still.Tags, [{ TagKey: "a", TagValue: "1" }]);
  });

  test("the JSON on the wire: Tags, Truncated, and NextMarker only when truncated", async () => {
    const raw = await rawKms(server, "ListResourceTags", { KeyId: id, Limit: 49 });
    assert.equal(raw.status, 200);
    const body = raw.json();
    assert.deepEqual(Object.keys(body).sort(), ["NextMarker", "Tags", "Truncated"]);
    assert.equal(body.Truncated, true);
    const last = await rawKms(server, "ListResourceTags", { KeyId: id, Marker: body.NextMarker });
    assert.deepEqual(last.json(), { Tags: [{ TagKey: "k49", TagValue: "v49" }], Truncated: false });
  });
});

describe("ListResourceTags errors", () => {
  const id = newKeyId();
  const other = newKeyId();
  before(async () => {
    await tagKey(kms, id, manyTags(10));
    await tagKey(kms, other, manyTags(10));
  });

  test("NotFoundException: an unknown key, another account's key, another Region's key", async () => {
    const unknown = newKeyId();
    await fails({ KeyId: unknown }, "NotFoundException", `Key '${keyArn(unknown)}' does not exist`);
    await fails(
      { KeyId: keyArn(id, ACCOUNT_B) },
      "NotFoundException",
      `Key '${keyArn(id, ACCOUNT_B)}' does not exist`,
    );
    await fails({ KeyId: keyArn(id, undefined, "us-east-2") }, "NotFoundException", /does not exist/);
    await fails({ KeyId: "alias/aws/kms" }, "NotFoundException", /not an alias/);
  });

  test("InvalidArnException: a malformed ARN", async () => {
    await fails({ KeyId: "arn:aws:kms" }, "InvalidArnException", /arn:aws:kms is not a valid ARN/);
  });

  test("ValidationException: Limit outside 1–50, an oversized Marker or KeyId", async () => {
    await fails(
      { KeyId: id, Limit: 0 },
      "ValidationException",
      "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    await fails(
      { KeyId: id, Limit: 51 },
      "ValidationException",
      /Value '51' at 'limit'.*less than or equal to 50/,
    );
    await fails(
      { KeyId: id, Marker: "m".repeat(1025) },
      "ValidationException",
      /'marker'.*less than or equal to 1024/,
    );
    await fails(
      { KeyId: id, Marker: "marker\u0100" },
      "ValidationException",
      /'marker'.*regular expression pattern/,
    );
    await fails({ KeyId: "k".repeat(2049) }, "ValidationException", /'keyId'.*less than or equal to 2048/);
  });

  test("InvalidMarkerException: a made-up marker, a tampered one, another key's", async () => {
    const page = await list({ KeyId: id, Limit: 3 });
    const marker = page.NextMarker as string;
    await fails({ KeyId: id, Marker: "made-up" }, "InvalidMarkerException", /Marker is not valid/);
    const tampered = `${marker.slice(0, -2)}${marker.endsWith("AA") ? "BB" : "AA"}`;
    await fails({ KeyId: id, Marker: tampered }, "InvalidMarkerException");
    await fails({ KeyId: other, Marker: marker }, "InvalidMarkerException");
    // Another account cannot use it either: its own key of the same id is another key.
    const b = server.kms("us-east-1", {
      accessKeyId: "AKIDACCOUNTB",
      secretAccessKey: "secret-of-account-b",
    });
    await tagKey(b, id, { theirs: "1" });
    const err = await sdkError(list({ KeyId: id, Marker: marker }, b));
    assert.equal(err.name, "InvalidMarkerException");
    // The marker still works where it was issued.
    const next = await list({ KeyId: keyArn(id), Limit: 3, Marker: marker });
    assert.equal(next.Tags?.length, 3);
  });
});

describe("ListResourceTags in strict inventory mode", () => {
  let strict: TestServer;
  before(async () => {
    strict = await startServer({ config: testConfig({ inventory: "strict" }) });
  });
  after(() => strict.stop(true));

  test("an unknown key is NotFoundException; a registered one lists", async () => {
    const client = strict.kms();
    const id = newKeyId();
    const err = await sdkError(list({ KeyId: id }, client));
    assert.equal(err.name, "NotFoundException");
    await registerKeys(strict, [{ arn: keyArn(id), state: "Enabled" }]);
    assert.deepEqual((await list({ KeyId: id }, client)).Tags, []);
  });
});

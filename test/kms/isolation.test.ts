import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type KMSClient, ListResourceTagsCommand, UntagResourceCommand } from "@aws-sdk/client-kms";
import { GetResourcesCommand } from "@aws-sdk/client-resource-groups-tagging-api";
import { ACCOUNT_A, ACCOUNT_B, KEY_B, sdkError, startServer, type TestServer } from "../helpers.ts";
import { keyArn, kmsTagsOf, newKeyId, registerKeys, tagKey } from "./kms.ts";

/** Accounts and Regions never see each other's keys, not even through an error message. */

let server: TestServer;
let a: KMSClient;
let b: KMSClient;
before(async () => {
  server = await startServer();
  a = server.kms();
  b = server.kms("us-east-1", KEY_B);
});
after(() => server.stop(true));

describe("cross-account isolation", () => {
  const id = newKeyId();
  before(async () => {
    await tagKey(b, id, { owner: "b" });
  });

  test("the same key id in two accounts is two keys", async () => {
    await tagKey(a, id, { owner: "a" });
    assert.deepEqual(await kmsTagsOf(a, id), { owner: "a" });
    assert.deepEqual(await kmsTagsOf(b, id), { owner: "b" });
  });

  test("account A cannot list, tag or untag B's key by ARN: the answer is the one for a missing key", async () => {
    const theirs = keyArn(id, ACCOUNT_B);
    const missing = keyArn(newKeyId(), ACCOUNT_B);
    for (const [arn, text] of [
      [theirs, `Key '${theirs}' does not exist`],
      [missing, `Key '${missing}' does not exist`],
    ] as const) {
      const list = await sdkError(a.send(new ListResourceTagsCommand({ KeyId: arn })));
      assert.deepEqual([list.name, list.status, list.message], ["NotFoundException", 400, text]);
      const tagged = await sdkError(tagKey(a, arn, { stolen: "1" }));
      assert.deepEqual([tagged.name, tagged.status, tagged.message], ["NotFoundException", 400, text]);
      const untagged = await sdkError(a.send(new UntagResourceCommand({ KeyId: arn, TagKeys: ["owner"] })));
      assert.deepEqual([untagged.name, untagged.status, untagged.message], ["NotFoundException", 400, text]);
    }
    assert.deepEqual(await kmsTagsOf(b, id), { owner: "b" });
  });

  test("a state B's key is in does not show to A", async () => {
    const pending = newKeyId();
    await registerKeys(server, [{ arn: keyArn(pending, ACCOUNT_B), state: "PendingDeletion" }]);
    const err = await sdkError(tagKey(a, keyArn(pending, ACCOUNT_B), { x: "1" }));
    assert.equal(err.name, "NotFoundException");
    assert.doesNotMatch(err.message, /pending/i);
    // A's own key of that id is A's, and Enabled.
    await tagKey(a, pending, { x: "1" });
    assert.deepEqual(await kmsTagsOf(a, pending), { x: "1" });
  });

  test("B's GetResources does not list A's keys", async () => {
    const mine = newKeyId();
    await tagKey(a, mine, { secret: "a" });
    const out = await server
      .tagging("us-east-1", KEY_B)
      .send(new GetResourcesCommand({ ResourceTypeFilters: ["kms:key"] }));
    const arns = out.ResourceTagMappingList?.map((m) => m.ResourceARN) ?? [];
    assert.ok(!arns.includes(keyArn(mine, ACCOUNT_A)));
    assert.ok(arns.every((arn) => arn?.includes(`:${ACCOUNT_B}:`)));
  });
});

describe("Region isolation", () => {
  test("a key id resolves in the Region of the request; another Region's ARN is not found", async () => {
    const id = newKeyId();
    const west = server.kms("us-west-2");
    await tagKey(west, id, { region: "us-west-2" });
    assert.deepEqual(await kmsTagsOf(west, keyArn(id, ACCOUNT_A, "us-west-2")), { region: "us-west-2" });
    const err = await sdkError(a.send(new ListResourceTagsCommand({ KeyId: id })));
    assert.equal(err.name, "NotFoundException");
    const byArn = await sdkError(
      a.send(new ListResourceTagsCommand({ KeyId: keyArn(id, ACCOUNT_A, "us-west-2") })),
    );
    assert.equal(byArn.name, "NotFoundException");
  });
});

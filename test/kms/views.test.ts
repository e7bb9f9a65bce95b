import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type KMSClient, ListResourceTagsCommand, UntagResourceCommand } from "@aws-sdk/client-kms";
import {
  GetResourcesCommand,
  GetTagKeysCommand,
  GetTagValuesCommand,
  type ResourceGroupsTaggingAPIClient,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { ec2Arn, startServer, type TestServer, tag, tagsOf, untag } from "../helpers.ts";
import { keyArn, kmsTagsOf, newKeyId, tagKey } from "./kms.ts";

/** One store, two APIs: what one writes, the other reads. */

let server: TestServer;
let kms: KMSClient;
let tagging: ResourceGroupsTaggingAPIClient;
before(async () => {
  server = await startServer();
  kms = server.kms();
  tagging = server.tagging();
});
after(() => server.stop(true));

async function listedArns(filters: string[]): Promise<string[]> {
  const arns: string[] = [];
  let token: string | undefined;
  do {
    const page = await tagging.send(
      new GetResourcesCommand({ ResourceTypeFilters: filters, PaginationToken: token }),
    );
    for (const m of page.ResourceTagMappingList ?? []) arns.push(m.ResourceARN as string);
    token = page.PaginationToken || undefined;
  } while (token);
  return arns;
}

describe("KMS TagResource → Resource Groups Tagging API", () => {
  const id = newKeyId();
  before(async () => {
    await tagKey(kms, id, { "kms-view": "yes", team: "crypto" });
    await tag(tagging, [ec2Arn("i-viewsec2")], { "kms-view": "no" });
  });

  test("GetResources with ResourceTypeFilters kms and kms:key lists the key with its tags", async () => {
    for (const filter of ["kms", "kms:key"]) {
      const arns = await listedArns([filter]);
      assert.ok(arns.includes(keyArn(id)), `${filter} lists the key`);
      assert.ok(!arns.includes(ec2Arn("i-viewsec2")), `${filter} leaves the instance out`);
    }
    assert.ok(!(await listedArns(["ec2"])).includes(keyArn(id)));
    assert.deepEqual(await tagsOf(tagging, keyArn(id)), { "kms-view": "yes", team: "crypto" });
  });

  test("a TagFilter finds the key; its keys and values count in GetTagKeys and GetTagValues", async () => {
    const page = await tagging.send(
      new GetResourcesCommand({
        TagFilters: [{ Key: "team", Values: ["crypto"] }],
        ResourceTypeFilters: ["kms:key"],
      }),
    );
    assert.deepEqual(
      page.ResourceTagMappingList?.map((m) => m.ResourceARN),
      [keyArn(id)],
    );
    const keys = await tagging.send(new GetTagKeysCommand({}));
    assert.ok(keys.TagKeys?.includes("kms-view"));
    const values = await tagging.send(new GetTagValuesCommand({ Key: "kms-view" }));
    assert.deepEqual([...(values.TagValues ?? [])].sort(), ["no", "yes"]);
  });

  test("KMS UntagResource shows in GetResources: the key stays listed with what is left", async () => {
    const key = newKeyId();
    await tagKey(kms, key, { a: "1", b: "2" });
    await kms.send(new UntagResourceCommand({ KeyId: key, TagKeys: ["a", "b"] }));
    assert.deepEqual(await tagsOf(tagging, keyArn(key)), {});
  });
});

describe("Resource Groups Tagging API TagResources → KMS ListResourceTags", () => {
  test("a key tagged by ARN through TagResources lists those tags through KMS", async () => {
    const id = newKeyId();
    await tag(tagging, [keyArn(id)], { via: "tagging-api", env: "prod" });
    assert.deepEqual(await kmsTagsOf(kms, id), { env: "prod", via: "tagging-api" });
    const out = await kms.send(new ListResourceTagsCommand({ KeyId: keyArn(id) }));
    assert.deepEqual(out.Tags, [
      { TagKey: "env", TagValue: "prod" },
      { TagKey: "via", TagValue: "tagging-api" },
    ]);
    await untag(tagging, [keyArn(id)], ["env"]);
    assert.deepEqual(await kmsTagsOf(kms, id), { via: "tagging-api" });
  });

  test("tags written through both APIs are one set", async () => {
    const id = newKeyId();
    await tagKey(kms, id, { one: "kms" });
    await tag(tagging, [keyArn(id)], { two: "tagging", one: "overwritten" });
    assert.deepEqual(await kmsTagsOf(kms, id), { one: "overwritten", two: "tagging" });
  });
});

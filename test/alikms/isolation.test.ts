import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  ListTagResourcesRequest,
  ListTagResourcesRequestTag,
  TagResourcesRequest,
  TagResourcesRequestTag,
} from "@alicloud/ecs20140526";
import { ListResourceTagsRequest, TagResourceRequest } from "@alicloud/kms20160120";
import {
  ALIBABA_ACCOUNT,
  ALIBABA_ACCOUNT_2,
  ALIBABA_KEY_2,
  aliError,
  aliKmsTagsOf,
  ecsTagsOf,
  legacyError,
  startServer,
  type TestServer,
} from "../helpers.ts";
import { flatIds, keyId, kmsCall, kmsTag, REGION } from "./alikms.ts";

let server: TestServer;
const mine = keyId("isomine");
before(async () => {
  server = await startServer();
  await kmsTag(server, [mine], { owner: "one" });
});
after(() => server.stop(true));

const listAs = (key: typeof ALIBABA_KEY_2 | undefined, query: Record<string, string>) =>
  kmsCall(
    server,
    "ListTagResources",
    { RegionId: REGION, ResourceType: "key", ...query },
    key ? { key } : {},
  );

describe("Alibaba KMS: one account never sees another's keys", () => {
  test("ListTagResources of another account lists none of them, by id or by tag", async () => {
    for (const query of [flatIds([mine]), { "Tag.1.Key": "owner" }, {}]) {
      const out = await listAs(ALIBABA_KEY_2, query);
      assert.deepEqual(out.body.TagResources.TagResource, [], JSON.stringify(query));
    }
    const own = await listAs(undefined, flatIds([mine]));
    assert.equal(own.body.TagResources.TagResource.length, 1);
  });

  test("the legacy actions answer another account's key as they answer a key that does not exist", async () => {
    const other = server.kmsLegacy(ALIBABA_KEY_2);
    const byId = await legacyError(other.listResourceTags(new ListResourceTagsRequest({ keyId: mine })));
    const byArn = await legacyError(
      other.listResourceTags(
        new ListResourceTagsRequest({ keyId: `acs:kms:${REGION}:${ALIBABA_ACCOUNT}:key/${mine}` }),
      ),
    );
    const absent = await legacyError(
      other.listResourceTags(new ListResourceTagsRequest({ keyId: keyId("isonone") })),
    );
    for (const err of [byId, byArn]) {
      assert.equal(err.code, "Forbidden.KeyNotFound");
      assert.equal(err.status, 404);
      assert.doesNotMatch(err.message, new RegExp(`${ALIBABA_ACCOUNT}|${REGION}`));
    }
    assert.equal(byId.message, absent.message);
  });

  test("another account's writes on the same id touch its own key only", async () => {
    await kmsTag(server, [mine], { owner: "two" }, { key: ALIBABA_KEY_2 });
    await kmsCall(
      server,
      "UntagResources",
      { RegionId: REGION, ResourceType: "key", ...flatIds([mine]), All: "true" },
      {
        key: ALIBABA_KEY_2,
      },
    );
    await server.kmsLegacy(ALIBABA_KEY_2).tagResource(
      new TagResourceRequest({
        keyId: `acs:kms:${REGION}:${ALIBABA_ACCOUNT_2}:key/${mine}`,
        tags: '[{"TagKey":"second","TagValue":"yes"}]',
      }),
    );
    assert.deepEqual(await aliKmsTagsOf(server, mine), { owner: "one" });
    assert.deepEqual(await aliKmsTagsOf(server, mine, { account: ALIBABA_ACCOUNT_2 }), { second: "yes" });
  });

  test("a key is seen only from its own region", async () => {
    const out = await kmsCall(server, "ListTagResources", {
      RegionId: "cn-beijing",
      ResourceType: "key",
      ...flatIds([mine]),
    });
    assert.deepEqual(out.body.TagResources.TagResource, []);
  });
});

describe("Alibaba KMS and ECS resources are seen only through their own actions", () => {
  test("a KMS secret and an ECS key pair of one name stay apart", async () => {
    const name = "shared-name";
    await kmsTag(server, [name], { kmsonly: "1" }, { type: "secret" });
    await server.ecs().tagResources(
      new TagResourcesRequest({
        regionId: REGION,
        resourceType: "keypair",
        resourceId: [name],
        tag: [new TagResourcesRequestTag({ key: "ecsonly", value: "1" })],
      }),
    );
    assert.deepEqual(await aliKmsTagsOf(server, name, { type: "secret" }), { kmsonly: "1" });
    assert.deepEqual(await ecsTagsOf(server, name, { type: "keypair" }), { ecsonly: "1" });

    const kmsRows = await kmsCall(server, "ListTagResources", {
      RegionId: REGION,
      ResourceType: "secret",
      ...flatIds([name]),
    });
    assert.deepEqual(
      kmsRows.body.TagResources.TagResource.map((r: { TagKey: string }) => r.TagKey),
      ["kmsonly"],
    );
    const ecsByKey = await server.ecs().listTagResources(
      new ListTagResourcesRequest({
        regionId: REGION,
        resourceType: "keypair",
        tag: [new ListTagResourcesRequestTag({ key: "kmsonly" })],
      }),
    );
    assert.deepEqual(ecsByKey.body?.tagResources?.tagResource ?? [], []);
    const kmsByKey = await kmsCall(server, "ListTagResources", {
      RegionId: REGION,
      ResourceType: "secret",
      "Tag.1.Key": "ecsonly",
    });
    assert.deepEqual(kmsByKey.body.TagResources.TagResource, []);
  });

  test("ECS does not take KMS resource types, nor KMS ECS ones", async () => {
    const byKms = await aliError(
      kmsCall(server, "UntagResources", {
        RegionId: REGION,
        ResourceType: "instance",
        ...flatIds(["i-bp1abc"]),
        All: "true",
      }),
    );
    assert.equal(byKms.code, "InvalidParameter");
    assert.equal(byKms.status, 400);
    const byEcs = await aliError(
      server.ecs().tagResources(
        new TagResourcesRequest({
          regionId: REGION,
          resourceType: "key",
          resourceId: [mine],
          tag: [new TagResourcesRequestTag({ key: "x", value: "1" })],
        }),
      ),
    );
    assert.equal(byEcs.code, "InvalidResourceType.NotFound");
    assert.equal(byEcs.status, 404);
    assert.deepEqual(await aliKmsTagsOf(server, mine), { owner: "one" });
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { TagResourcesRequest, TagResourcesRequestTag } from "@alicloud/ecs20140526";
import { ALIBABA_ACCOUNT, aliError, callRpc, ecsTagsOf, startServer, type TestServer } from "../helpers.ts";
import { ORG_ID, orgConfig, policy, putPolicy, ROOT } from "../policy/org.ts";

/**
 * A tag policy that reaches an Alibaba Cloud account (placed in the organization) is enforced by the
 * Alibaba actions too, each in its product's error format; types outside `enforced_for` are only
 * evaluated.
 */
let server: TestServer;
before(async () => {
  const config = orgConfig({
    organization: { id: ORG_ID, root: ROOT, accounts: [ALIBABA_ACCOUNT], units: [] },
  });
  server = await startServer({ config });
  await putPolicy(
    server,
    "cost",
    policy("costcenter", {
      tag_key: { "@@assign": "CostCenter" },
      tag_value: { "@@assign": ["100"] },
      enforced_for: { "@@assign": ["ecs:instance", "kms:key"] },
    }),
    [ALIBABA_ACCOUNT],
  );
});
after(() => server.stop(true));

const tagEcs = (type: string, ids: string[], tags: [string, string][]) =>
  server.ecs().tagResources(
    new TagResourcesRequest({
      regionId: "cn-hangzhou",
      resourceType: type,
      resourceId: ids,
      tag: tags.map(([key, value]) => new TagResourcesRequestTag({ key, value })),
    }),
  );

describe("tag policy enforcement in the Alibaba actions", () => {
  test("ECS TagResources: a value the policy does not allow is OperationDenied.TagPolicy (403), nothing written", async () => {
    const err = await aliError(tagEcs("instance", ["i-pol1", "i-pol2"], [["CostCenter", "999"]]));
    assert.equal(err.code, "OperationDenied.TagPolicy");
    assert.equal(err.status, 403);
    assert.match(err.message, /CostCenter/);
    assert.equal(await ecsTagsOf(server, "i-pol1"), undefined);
    assert.equal(await ecsTagsOf(server, "i-pol2"), undefined);
  });

  test("ECS TagResources: the key in another capitalization is refused too", async () => {
    const err = await aliError(tagEcs("instance", ["i-pol3"], [["costcenter", "100"]]));
    assert.equal(err.code, "OperationDenied.TagPolicy");
    assert.equal(await ecsTagsOf(server, "i-pol3"), undefined);
  });

  test("a compliant tag passes; a type the policy does not enforce is only evaluated", async () => {
    await tagEcs("instance", ["i-pol4"], [["CostCenter", "100"]]);
    assert.deepEqual(await ecsTagsOf(server, "i-pol4"), { CostCenter: "100" });
    await tagEcs("disk", ["d-pol1"], [["CostCenter", "999"]]);
    assert.deepEqual(await ecsTagsOf(server, "d-pol1", { type: "disk" }), { CostCenter: "999" });
  });

  test("Alibaba KMS TagResources: Forbidden.TagPolicy (403)", async () => {
    const err = await aliError(
      callRpc(
        server,
        "TagResources",
        {
          RegionId: "cn-hangzhou",
          ResourceType: "key",
          "ResourceId.1": "key-hzz0000000000000001",
          "Tag.1.Key": "CostCenter",
          "Tag.1.Value": "999",
        },
        { version: "2016-01-20" },
      ),
    );
    assert.equal(err.code, "Forbidden.TagPolicy");
    assert.equal(err.status, 403);
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ListResourceTagsCommand, TagResourceCommand } from "@aws-sdk/client-kms";
import {
  GetResourcesCommand,
  TagResourcesCommand,
  UntagResourcesCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import {
  ACCOUNT_A,
  ACCOUNT_B,
  ec2Arn,
  KEY_B,
  sdkError,
  startServer,
  type TestServer,
  tag,
  tagsOf,
} from "../helpers.ts";
import { orgConfig, policy, putPolicy } from "../policy/org.ts";

let server: TestServer;
before(async () => {
  server = await startServer({ config: orgConfig() });
  await putPolicy(
    server,
    "cost",
    policy("costcenter", {
      tag_key: { "@@assign": "CostCenter" },
      tag_value: { "@@assign": ["100", "200*"] },
      enforced_for: { "@@assign": ["ec2:instance", "kms:ALL_SUPPORTED"] },
    }),
    [ACCOUNT_A],
  );
});
after(() => server.stop(true));

const volume = (id: string, account = ACCOUNT_A) => `arn:aws:ec2:us-east-1:${account}:volume/${id}`;

describe("enforcement in TagResources", () => {
  test("a value the policy does not allow fails the enforced resource only, and writes nothing to it", async () => {
    const c = server.tagging();
    const instance = ec2Arn("i-0000000000000e001");
    const vol = volume("vol-0000000000000e001");
    await tag(c, [instance], { team: "web" });
    const out = await c.send(
      new TagResourcesCommand({ ResourceARNList: [instance, vol], Tags: { CostCenter: "999", env: "prod" } }),
    );
    assert.deepEqual(Object.keys(out.FailedResourcesMap ?? {}), [instance]);
    const failure = out.FailedResourcesMap?.[instance];
    assert.equal(failure?.ErrorCode, "InvalidParameterException");
    assert.equal(failure?.StatusCode, 400);
    assert.match(
      failure?.ErrorMessage ?? "",
      /tag policy does not allow the specified value for the following tag key: 'CostCenter'/,
    );
    assert.deepEqual(await tagsOf(c, instance), { team: "web" });
    // ec2:volume is not in enforced_for: tagged, and reported as noncompliant.
    assert.deepEqual(await tagsOf(c, vol), { CostCenter: "999", env: "prod" });
    const listed = await c.send(
      new GetResourcesCommand({ ResourceARNList: [vol], IncludeComplianceDetails: true }),
    );
    assert.deepEqual(listed.ResourceTagMappingList?.[0]?.ComplianceDetails?.KeysWithNoncompliantValues, [
      "CostCenter",
    ]);
  });

  test("a key in another capitalization fails; allowed values, wildcards and other keys pass", async () => {
    const c = server.tagging();
    const instance = ec2Arn("i-0000000000000e002");
    const wrong = await c.send(
      new TagResourcesCommand({ ResourceARNList: [instance], Tags: { costcenter: "100" } }),
    );
    assert.match(wrong.FailedResourcesMap?.[instance]?.ErrorMessage ?? "", /'CostCenter'/);
    assert.equal(await tagsOf(c, instance), undefined);
    await tag(c, [instance], { CostCenter: "200-east", owner: "me" });
    await tag(c, [instance], { CostCenter: "100" });
    assert.deepEqual(await tagsOf(c, instance), { CostCenter: "100", owner: "me" });
    await c.send(new UntagResourcesCommand({ ResourceARNList: [instance], TagKeys: ["CostCenter"] }));
    assert.deepEqual(await tagsOf(c, instance), { owner: "me" });
  });

  test("an account whose effective policy does not have the key is not refused", async () => {
    const b = server.tagging("us-east-1", KEY_B);
    await tag(b, [ec2Arn("i-0000000000000e003", ACCOUNT_B)], { CostCenter: "999" });
  });
});

describe("enforcement in KMS TagResource", () => {
  const keyId = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

  test("a noncompliant tag on a KMS key: TagException (400), the key's tags unchanged", async () => {
    const kms = server.kms();
    await kms.send(
      new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: "CostCenter", TagValue: "100" }] }),
    );
    const err = await sdkError(
      kms.send(
        new TagResourceCommand({
          KeyId: keyId,
          Tags: [
            { TagKey: "CostCenter", TagValue: "300" },
            { TagKey: "env", TagValue: "prod" },
          ],
        }),
      ),
    );
    assert.equal(err.name, "TagException");
    assert.equal(err.status, 400);
    assert.match(err.message, /CostCenter/);
    const tags = await kms.send(new ListResourceTagsCommand({ KeyId: keyId }));
    assert.deepEqual(tags.Tags, [{ TagKey: "CostCenter", TagValue: "100" }]);
    const wrongCase = await sdkError(
      kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: "COSTCENTER", TagValue: "100" }] })),
    );
    assert.equal(wrongCase.name, "TagException");
  });
});

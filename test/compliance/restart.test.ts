import assert from "node:assert/strict";
import { test } from "node:test";
import { GetResourcesCommand } from "@aws-sdk/client-resource-groups-tagging-api";
import { ec2Arn, startServer, tag } from "../helpers.ts";
import { orgConfig, policy, putPolicy, ROOT } from "../policy/org.ts";

const COST = policy("costcenter", {
  tag_key: { "@@assign": "CostCenter" },
  tag_value: { "@@assign": ["100"] },
});

async function status(server: Awaited<ReturnType<typeof startServer>>, arn: string) {
  const out = await server
    .tagging()
    .send(new GetResourcesCommand({ ResourceARNList: [arn], IncludeComplianceDetails: true }));
  return out.ResourceTagMappingList?.[0]?.ComplianceDetails?.ComplianceStatus;
}

test("policies and compliance survive a restart", async () => {
  const first = await startServer({ config: orgConfig() });
  const arn = ec2Arn("i-0000000000000d001");
  await putPolicy(first, "cost", COST, [ROOT]);
  await tag(first.tagging(), [arn], { CostCenter: "7" });
  assert.equal(await status(first, arn), false);
  await first.stop();
  const second = await startServer({ config: orgConfig(), dataDir: first.dataDir });
  try {
    assert.equal(await status(second, arn), false);
    assert.equal((await second.admin("GET", "/admin/v1/tag-policies/cost")).status, 200);
  } finally {
    await second.stop(true);
  }
});

test("a policy change whose re-evaluation was cut short is followed through at the next start", async () => {
  const first = await startServer({ config: orgConfig() });
  const arn = ec2Arn("i-0000000000000d002");
  await tag(first.tagging(), [arn], { CostCenter: "7" });
  // The policy reaches the store, the instance stops before re-evaluating anything.
  await first.tagd.store.putTagPolicy({
    name: "cost",
    content: JSON.stringify(COST),
    targets: [ROOT],
    updatedAt: Date.now(),
  });
  assert.equal(await status(first, arn), true);
  await first.stop();
  const second = await startServer({ config: orgConfig(), dataDir: first.dataDir });
  try {
    assert.equal(await status(second, arn), false);
    const { revision, evaluated } = await second.tagd.store.policyRevision();
    assert.equal(evaluated, revision);
  } finally {
    await second.stop(true);
  }
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  GetComplianceSummaryCommand,
  type GetComplianceSummaryCommandInput,
  paginateGetComplianceSummary,
  type Summary,
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
} from "../helpers.ts";
import {
  ACCOUNT_C,
  deletePolicy,
  KEY_C,
  OU_CHILD,
  OU_PARENT,
  orgConfig,
  policy,
  putPolicy,
  ROOT,
} from "../policy/org.ts";

let server: TestServer;
let plain: TestServer;
before(async () => {
  server = await startServer({ config: orgConfig() });
  plain = await startServer();
});
after(async () => {
  await server.stop(true);
  await plain.stop(true);
});

const volume = (id: string, account: string, region = "us-east-1") =>
  `arn:aws:ec2:${region}:${account}:volume/${id}`;

async function summary(input: GetComplianceSummaryCommandInput = {}, client = server.tagging()) {
  const out = await client.send(new GetComplianceSummaryCommand(input));
  assert.equal(out.$metadata.httpStatusCode, 200);
  return out;
}

/** Rows without LastUpdated, as [target, type, region, resource type, count]. */
function rows(list: Summary[] | undefined) {
  return (list ?? []).map((s) => [
    s.TargetId,
    s.TargetIdType,
    s.Region,
    s.ResourceType,
    s.NonCompliantResources,
  ]);
}

async function constraint(promise: Promise<unknown>, message: RegExp) {
  const err = await sdkError(promise);
  assert.equal(err.name, "ConstraintViolationException", err.message);
  assert.equal(err.status, 400);
  assert.match(err.message, message);
}

async function invalid(input: GetComplianceSummaryCommandInput) {
  const err = await sdkError(server.tagging().send(new GetComplianceSummaryCommand(input)));
  assert.equal(err.name, "InvalidParameterException", err.message);
  assert.equal(err.status, 400);
}

describe("GetComplianceSummary restrictions", () => {
  test("without a tag policy attached: ConstraintViolationException", async () => {
    await constraint(server.tagging().send(new GetComplianceSummaryCommand({})), /tag policy attached/);
    // A policy attached nowhere does not count.
    await putPolicy(server, "detached", policy("env", { tag_value: { "@@assign": ["prod"] } }), []);
    await constraint(server.tagging().send(new GetComplianceSummaryCommand({})), /tag policy attached/);
    await deletePolicy(server, "detached");
  });

  test("without an organization: ConstraintViolationException", async () => {
    await constraint(plain.tagging().send(new GetComplianceSummaryCommand({})), /organization/);
  });
});

describe("GetComplianceSummary across the organization", () => {
  before(async () => {
    await putPolicy(
      server,
      "cost",
      policy("costcenter", { tag_key: { "@@assign": "CostCenter" }, tag_value: { "@@assign": ["100"] } }),
      [ROOT],
    );
    const a = server.tagging();
    await tag(a, [ec2Arn("i-a-bad"), ec2Arn("i-a-case")], { costcenter: "100" });
    await tag(a, [ec2Arn("i-a-good")], { CostCenter: "100" });
    await tag(server.tagging("us-west-2"), [volume("vol-a-west", ACCOUNT_A, "us-west-2")], {
      CostCenter: "9",
    });
    await tag(server.tagging("us-east-1", KEY_B), [ec2Arn("i-b-bad", ACCOUNT_B)], {
      CostCenter: "9",
      team: "x",
    });
    await tag(server.tagging("us-east-1", KEY_B), [volume("vol-b-good", ACCOUNT_B)], { CostCenter: "100" });
    await tag(server.tagging("us-east-1", KEY_C), [ec2Arn("i-c-bad", ACCOUNT_C)], {
      CostCenter: "9",
      team: "y",
    });
  });

  test("only the management account, only in us-east-1", async () => {
    await constraint(
      server.tagging("us-east-1", KEY_B).send(new GetComplianceSummaryCommand({})),
      /management account/,
    );
    await constraint(server.tagging("us-west-2").send(new GetComplianceSummaryCommand({})), /us-east-1/);
  });

  test("without GroupBy: one row for the organization root", async () => {
    const out = await summary();
    assert.deepEqual(rows(out.SummaryList), [[ROOT, "ROOT", undefined, undefined, 5]]);
    assert.match(out.SummaryList?.[0]?.LastUpdated ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(out.PaginationToken, "");
  });

  test("grouped by TARGET_ID, REGION and RESOURCE_TYPE, sorted; groups that comply show 0", async () => {
    const out = await summary({ GroupBy: ["TARGET_ID", "REGION", "RESOURCE_TYPE"] });
    assert.deepEqual(rows(out.SummaryList), [
      [ACCOUNT_A, "ACCOUNT", "us-east-1", "ec2:instance", 2],
      [ACCOUNT_A, "ACCOUNT", "us-west-2", "ec2:volume", 1],
      [ACCOUNT_B, "ACCOUNT", "us-east-1", "ec2:instance", 1],
      [ACCOUNT_B, "ACCOUNT", "us-east-1", "ec2:volume", 0],
      [ACCOUNT_C, "ACCOUNT", "us-east-1", "ec2:instance", 1],
    ]);
    assert.deepEqual(rows((await summary({ GroupBy: ["REGION"] })).SummaryList), [
      [ROOT, "ROOT", "us-east-1", undefined, 4],
      [ROOT, "ROOT", "us-west-2", undefined, 1],
    ]);
    assert.deepEqual(rows((await summary({ GroupBy: ["RESOURCE_TYPE"] })).SummaryList), [
      [ROOT, "ROOT", undefined, "ec2:instance", 4],
      [ROOT, "ROOT", undefined, "ec2:volume", 1],
    ]);
  });

  test("the four filters narrow what is counted", async () => {
    assert.deepEqual(rows((await summary({ RegionFilters: ["us-west-2"] })).SummaryList), [
      [ROOT, "ROOT", undefined, undefined, 1],
    ]);
    assert.deepEqual(rows((await summary({ ResourceTypeFilters: ["ec2:volume"] })).SummaryList), [
      [ROOT, "ROOT", undefined, undefined, 1],
    ]);
    assert.deepEqual(rows((await summary({ ResourceTypeFilters: ["ec2"] })).SummaryList), [
      [ROOT, "ROOT", undefined, undefined, 5],
    ]);
    assert.deepEqual(rows((await summary({ TagKeyFilters: ["team"] })).SummaryList), [
      [ROOT, "ROOT", undefined, undefined, 2],
    ]);
    assert.deepEqual(
      rows((await summary({ TargetIdFilters: [OU_PARENT, ACCOUNT_C, OU_CHILD, ACCOUNT_A] })).SummaryList),
      [
        [ACCOUNT_A, "ACCOUNT", undefined, undefined, 3],
        [ACCOUNT_C, "ACCOUNT", undefined, undefined, 1],
        [OU_CHILD, "OU", undefined, undefined, 1],
        [OU_PARENT, "OU", undefined, undefined, 2],
      ],
    );
    assert.deepEqual(
      rows((await summary({ TargetIdFilters: [OU_PARENT], GroupBy: ["TARGET_ID"] })).SummaryList),
      [
        [ACCOUNT_B, "ACCOUNT", undefined, undefined, 1],
        [ACCOUNT_C, "ACCOUNT", undefined, undefined, 1],
      ],
    );
  });

  test("MaxResults pages, and the token continues the same query only", async () => {
    const first = await summary({ GroupBy: ["TARGET_ID", "REGION", "RESOURCE_TYPE"], MaxResults: 2 });
    assert.equal(first.SummaryList?.length, 2);
    assert.ok(first.PaginationToken);
    const all: Summary[] = [];
    for await (const page of paginateGetComplianceSummary(
      { client: server.tagging(), pageSize: 2 },
      { GroupBy: ["TARGET_ID", "REGION", "RESOURCE_TYPE"] },
    )) {
      assert.ok((page.SummaryList?.length ?? 0) <= 2);
      all.push(...(page.SummaryList ?? []));
    }
    assert.equal(all.length, 5);
    assert.deepEqual(
      all.slice(0, 2).map((s) => s.ResourceType),
      first.SummaryList?.map((s) => s.ResourceType),
    );
    await invalid({ GroupBy: ["REGION"], PaginationToken: first.PaginationToken });
  });

  test("bad parameters: InvalidParameterException", async () => {
    await invalid({ MaxResults: 0 });
    await invalid({ MaxResults: 1001 });
    await invalid({ TargetIdFilters: ["ou-nowhere"] });
    await invalid({ TargetIdFilters: ["44444444444!"] });
    await invalid({ TargetIdFilters: [] });
    await invalid({ RegionFilters: Array(101).fill("us-east-1") });
    await invalid({ TagKeyFilters: Array(51).fill("k") });
    await invalid({ ResourceTypeFilters: ["nosuchservice:thing"] });
    // biome-ignore lint/suspicious/noExplicitAny: a value outside the SDK's enum, sent as is.
    await invalid({ GroupBy: ["ACCOUNT" as any] });
  });

  test("counts follow tag changes at once", async () => {
    await tag(server.tagging("us-east-1", KEY_C), [ec2Arn("i-c-bad", ACCOUNT_C)], { CostCenter: "100" });
    assert.deepEqual(rows((await summary({ TargetIdFilters: [ACCOUNT_C] })).SummaryList), [
      [ACCOUNT_C, "ACCOUNT", undefined, undefined, 0],
    ]);
  });

  test("detaching the last policy refuses the next summary; attaching it again answers", async () => {
    const cost = policy("costcenter", {
      tag_key: { "@@assign": "CostCenter" },
      tag_value: { "@@assign": ["100"] },
    });
    await summary({});
    await putPolicy(server, "cost", cost, []);
    await constraint(server.tagging().send(new GetComplianceSummaryCommand({})), /tag policy attached/);
    await putPolicy(server, "cost", cost, [ROOT]);
    assert.ok((await summary({})).SummaryList?.length);
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  GetResourcesCommand,
  type GetResourcesCommandInput,
  type ResourceGroupsTaggingAPIClient,
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
} from "../helpers.ts";
import { deletePolicy, orgConfig, policy, putPolicy, ROOT } from "../policy/org.ts";

let server: TestServer;
let c: ResourceGroupsTaggingAPIClient;
before(async () => {
  server = await startServer({ config: orgConfig() });
  c = server.tagging();
});
after(() => server.stop(true));

const COST = policy("costcenter", {
  tag_key: { "@@assign": "CostCenter" },
  tag_value: { "@@assign": ["100", "200", "300*"] },
});

async function details(input: GetResourcesCommandInput = {}, client = c) {
  const out = await client.send(new GetResourcesCommand({ IncludeComplianceDetails: true, ...input }));
  return Object.fromEntries(
    (out.ResourceTagMappingList ?? []).map((m) => [m.ResourceARN, m.ComplianceDetails]),
  );
}

const COMPLIANT = { ComplianceStatus: true, NoncompliantKeys: [], KeysWithNoncompliantValues: [] };

describe("ComplianceDetails in GetResources", () => {
  const ok = ec2Arn("i-0000000000000c001");
  const wildcard = ec2Arn("i-0000000000000c002");
  const badValue = ec2Arn("i-0000000000000c003");
  const badCase = ec2Arn("i-0000000000000c004");
  const both = ec2Arn("i-0000000000000c005");
  const unnamed = ec2Arn("i-0000000000000c006");
  const untagged = ec2Arn("i-0000000000000c007");

  before(async () => {
    await tag(c, [ok], { CostCenter: "100" });
    await tag(c, [wildcard], { CostCenter: "300-east" });
    await tag(c, [badValue], { CostCenter: "999", team: "a" });
    await tag(c, [badCase], { costcenter: "200" });
    await tag(c, [both], { COSTCENTER: "1" });
    await tag(c, [unnamed], { owner: "anyone" });
    await tag(c, [untagged], { tmp: "x" });
    await c.send(new UntagResourcesCommand({ ResourceARNList: [untagged], TagKeys: ["tmp"] }));
  });

  test("without an effective policy every resource is compliant", async () => {
    const all = await details();
    assert.equal(Object.keys(all).length, 7);
    for (const d of Object.values(all)) assert.deepEqual(d, COMPLIANT);
  });

  test("with a policy: capitalization, values and wildcards decide; other keys and untagged comply", async () => {
    await putPolicy(server, "cost", COST, [ROOT]);
    const all = await details();
    assert.deepEqual(all[ok], COMPLIANT);
    assert.deepEqual(all[wildcard], COMPLIANT);
    assert.deepEqual(all[badValue], {
      ComplianceStatus: false,
      NoncompliantKeys: [],
      KeysWithNoncompliantValues: ["CostCenter"],
    });
    assert.deepEqual(all[badCase], {
      ComplianceStatus: false,
      NoncompliantKeys: ["costcenter"],
      KeysWithNoncompliantValues: [],
    });
    assert.deepEqual(all[both], {
      ComplianceStatus: false,
      NoncompliantKeys: ["COSTCENTER"],
      KeysWithNoncompliantValues: ["COSTCENTER"],
    });
    assert.deepEqual(all[unnamed], COMPLIANT);
    assert.deepEqual(all[untagged], COMPLIANT);
    // Without IncludeComplianceDetails the field is absent.
    const plain = await c.send(new GetResourcesCommand({ ResourceARNList: [badValue] }));
    assert.equal(plain.ResourceTagMappingList?.[0]?.ComplianceDetails, undefined);
    // The ARN-list form answers the same.
    assert.deepEqual(await details({ ResourceARNList: [badCase, ok] }), {
      [badCase]: all[badCase],
      [ok]: COMPLIANT,
    });
  });

  test("ExcludeCompliantResources lists only noncompliant resources, full pages by keyset", async () => {
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const out = await c.send(
        new GetResourcesCommand({
          IncludeComplianceDetails: true,
          ExcludeCompliantResources: true,
          ResourcesPerPage: 2,
          PaginationToken: token,
        }),
      );
      pages.push((out.ResourceTagMappingList ?? []).map((m) => m.ResourceARN as string));
      for (const m of out.ResourceTagMappingList ?? [])
        assert.equal(m.ComplianceDetails?.ComplianceStatus, false);
      token = out.PaginationToken || undefined;
    } while (token);
    assert.deepEqual(pages, [[badValue, badCase], [both]]);
    const filtered = await details({ ExcludeCompliantResources: true, TagFilters: [{ Key: "team" }] });
    assert.deepEqual(Object.keys(filtered), [badValue]);
    const byArn = await details({ ExcludeCompliantResources: true, ResourceARNList: [ok, both] });
    assert.deepEqual(Object.keys(byArn), [both]);
  });

  test("ExcludeCompliantResources without IncludeComplianceDetails: InvalidParameterException", async () => {
    for (const include of [undefined, false]) {
      const err = await sdkError(
        c.send(
          new GetResourcesCommand({ ExcludeCompliantResources: true, IncludeComplianceDetails: include }),
        ),
      );
      assert.equal(err.name, "InvalidParameterException");
      assert.equal(err.status, 400);
    }
  });

  test("a tag change updates compliance at once", async () => {
    await tag(c, [badValue], { CostCenter: "200" });
    await c.send(new UntagResourcesCommand({ ResourceARNList: [badCase], TagKeys: ["costcenter"] }));
    await tag(c, [ok], { CostCenter: "150" });
    const all = await details();
    assert.deepEqual(all[badValue], COMPLIANT);
    assert.deepEqual(all[badCase], COMPLIANT);
    assert.equal(all[ok]?.ComplianceStatus, false);
  });

  test("a policy change re-evaluates at once; deleting it makes everything compliant", async () => {
    await putPolicy(server, "cost", policy("costcenter", { tag_value: { "@@assign": ["*"] } }), [ROOT]);
    const loose = await details();
    // tag_key now defaults to lower case: only the lower-case spelling complies.
    assert.deepEqual(loose[badValue]?.NoncompliantKeys, ["CostCenter"]);
    assert.deepEqual(loose[both]?.KeysWithNoncompliantValues, []);
    await deletePolicy(server, "cost");
    for (const d of Object.values(await details())) assert.deepEqual(d, COMPLIANT);
  });

  test("resources registered with tags through the admin API are evaluated", async () => {
    await putPolicy(server, "cost", COST, [ROOT]);
    const arn = ec2Arn("i-0000000000000c008");
    const res = await server.admin("POST", "/admin/v1/resources", {
      resources: [{ arn, tags: { CostCenter: "x" } }],
    });
    assert.equal(res.status, 200);
    assert.equal((await details({ ResourceARNList: [arn] }))[arn]?.ComplianceStatus, false);
  });

  test("another account sees only its own resources and its own compliance", async () => {
    const b = server.tagging("us-east-1", KEY_B);
    const mine = ec2Arn("i-0000000000000b001", ACCOUNT_B);
    await tag(b, [mine], { CostCenter: "nope" });
    const seen = await details({ ExcludeCompliantResources: true }, b);
    assert.deepEqual(Object.keys(seen), [mine]);
    assert.ok(!Object.keys(await details({ ExcludeCompliantResources: true })).includes(mine));
    assert.ok(
      Object.keys(await details({ ExcludeCompliantResources: true })).every((a) => a.includes(ACCOUNT_A)),
    );
  });
});

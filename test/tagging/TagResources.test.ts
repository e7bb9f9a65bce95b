import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  GetResourcesCommand,
  type ResourceGroupsTaggingAPIClient,
  TagResourcesCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { ACCOUNT_B, ec2Arn, sdkError, startServer, type TestServer, tagsOf, testConfig } from "../helpers.ts";

let server: TestServer;
let client: ResourceGroupsTaggingAPIClient;
before(async () => {
  server = await startServer();
  client = server.tagging();
});
after(() => server.stop(true));

/** The tags of one resource as GetResources reports them, or undefined when it is not listed. */

function manyTags(n: number, prefix = "k"): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, `v${i}`]));
}

async function invalid(input: ConstructorParameters<typeof TagResourcesCommand>[0], message?: RegExp) {
  const err = await sdkError(client.send(new TagResourcesCommand(input)));
  assert.equal(err.name, "InvalidParameterException");
  assert.equal(err.status, 400);
  if (message) assert.match(err.message, message);
  return err;
}

describe("TagResources succeeds", () => {
  test("tags every resource of the list and reports an empty FailedResourcesMap", async () => {
    const arns = [ec2Arn("i-ok1"), ec2Arn("i-ok2"), "arn:aws:s3:::tagd-ok-bucket"];
    const out = await client.send(new TagResourcesCommand({ ResourceARNList: arns, Tags: { env: "prod" } }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual(out.FailedResourcesMap, {});
    for (const arn of arns) assert.deepEqual(await tagsOf(client, arn), { env: "prod" });
  });

  test("a second call overwrites an existing value and keeps the other keys", async () => {
    const arn = ec2Arn("i-overwrite");
    await client.send(new TagResourcesCommand({ ResourceARNList: [arn], Tags: { env: "prod", team: "a" } }));
    const out = await client.send(new TagResourcesCommand({ ResourceARNList: [arn], Tags: { env: "dev" } }));
    assert.deepEqual(out.FailedResourcesMap, {});
    assert.deepEqual(await tagsOf(client, arn), { env: "dev", team: "a" });
  });

  test("an empty value is a value", async () => {
    const arn = ec2Arn("i-empty-value");
    await client.send(new TagResourcesCommand({ ResourceARNList: [arn], Tags: { flag: "" } }));
    assert.deepEqual(await tagsOf(client, arn), { flag: "" });
  });

  test("limits at their edges are accepted: 20 ARNs, 50 tags, key 128, value 256, ARN 1011", async () => {
    const arns = Array.from({ length: 20 }, (_, i) => ec2Arn(`i-edge${i}`));
    const out = await client.send(new TagResourcesCommand({ ResourceARNList: arns, Tags: manyTags(50) }));
    assert.deepEqual(out.FailedResourcesMap, {});
    assert.equal(Object.keys((await tagsOf(client, arns[19]!)) ?? {}).length, 50);

    const longArn = ec2Arn("i-").padEnd(1011, "x");
    assert.equal(longArn.length, 1011);
    const key = "k".repeat(128);
    const value = "v".repeat(256);
    const edge = await client.send(
      new TagResourcesCommand({ ResourceARNList: [longArn], Tags: { [key]: value } }),
    );
    assert.deepEqual(edge.FailedResourcesMap, {});
    assert.deepEqual(await tagsOf(client, longArn), { [key]: value });
  });

  test("lengths are counted in code points, not UTF-16 units", async () => {
    const arn = ec2Arn("i-unicode");
    // "🏷" is one code point and two UTF-16 units: 128 and 256 of them are within the limits.
    const key = "🏷".repeat(128);
    const value = "🏷".repeat(256);
    const out = await client.send(
      new TagResourcesCommand({ ResourceARNList: [arn], Tags: { [key]: value } }),
    );
    assert.deepEqual(out.FailedResourcesMap, {});
    assert.deepEqual(await tagsOf(client, arn), { [key]: value });
    await invalid({ ResourceARNList: [arn], Tags: { [`${key}🏷`]: "v" } });
    await invalid({ ResourceARNList: [arn], Tags: { k: `${value}🏷` } });
  });
});

describe("TagResources rejects the whole request", () => {
  const arn = ec2Arn("i-untouched");

  test("ResourceARNList with 0 or 21 items", async () => {
    await invalid({ ResourceARNList: [], Tags: { a: "b" } }, /resourceARNList/);
    const arns = Array.from({ length: 21 }, (_, i) => ec2Arn(`i-21-${i}`));
    await invalid({ ResourceARNList: arns, Tags: { a: "b" } }, /resourceARNList/);
    assert.equal(await tagsOf(client, arns[0]!), undefined);
  });

  test("an ARN longer than 1011 characters", async () => {
    const longArn = ec2Arn("i-").padEnd(1012, "x");
    await invalid({ ResourceARNList: [longArn], Tags: { a: "b" } });
  });

  test("more than 50 tags", async () => {
    await invalid({ ResourceARNList: [arn], Tags: manyTags(51) });
  });

  test("a key of 0 or 129 characters, a value of 257", async () => {
    await invalid({ ResourceARNList: [arn], Tags: { "": "v" } });
    await invalid({ ResourceARNList: [arn], Tags: { ["k".repeat(129)]: "v" } });
    await invalid({ ResourceARNList: [arn], Tags: { k: "v".repeat(257) } });
  });

  test("a key with the reserved aws: prefix, in any case", async () => {
    await invalid({ ResourceARNList: [arn], Tags: { ok: "1", "aws:cloudformation:stack": "x" } }, /aws:/i);
    await invalid({ ResourceARNList: [arn], Tags: { "AWS:Owner": "x" } });
    await invalid({ ResourceARNList: [arn], Tags: { "Aws:owner": "x" } });
  });

  test("a malformed ARN among good ones: nothing is changed", async () => {
    for (const bad of [
      "not-an-arn",
      "arn:aws:ec2:us-east-1:111111111111",
      "arn:aws:ec2:us-east-1:12345:instance/i-1",
    ]) {
      await invalid({ ResourceARNList: [arn, bad], Tags: { a: "b" } });
    }
    assert.equal(await tagsOf(client, arn), undefined);
  });

  test("an ARN of another partition than the Region's", async () => {
    const cn = "arn:aws-cn:ec2:cn-north-1:111111111111:instance/i-china";
    await invalid({ ResourceARNList: [arn, cn], Tags: { a: "b" } }, /partition/);
    assert.equal(await tagsOf(client, arn), undefined);
  });

  test("nothing is changed when validation fails after a resource was already tagged", async () => {
    const tagged = ec2Arn("i-keeps-tags");
    await client.send(new TagResourcesCommand({ ResourceARNList: [tagged], Tags: { env: "prod" } }));
    await invalid({ ResourceARNList: [tagged], Tags: { env: "dev", "aws:x": "y" } });
    await invalid({ ResourceARNList: [tagged, "bogus"], Tags: { env: "dev" } });
    assert.deepEqual(await tagsOf(client, tagged), { env: "prod" });
  });
});

describe("TagResources fails per resource in FailedResourcesMap", () => {
  function assertFailure(
    map: Record<string, { ErrorCode?: string; StatusCode?: number; ErrorMessage?: string }> | undefined,
    arn: string,
  ) {
    const f = map?.[arn];
    assert.ok(f, `expected a FailedResourcesMap entry for ${arn}`);
    assert.equal(f.ErrorCode, "InvalidParameterException");
    assert.equal(f.StatusCode, 400);
    assert.ok(f.ErrorMessage && f.ErrorMessage.length > 0);
  }

  test("another account, another Region, unsupported types; the other resources succeed", async () => {
    const good = ec2Arn("i-good-neighbour");
    const otherAccount = ec2Arn("i-not-mine", ACCOUNT_B);
    const otherRegion = ec2Arn("i-elsewhere", undefined, "us-west-2");
    const iamGroup = "arn:aws:iam::111111111111:group/developers";
    const s3Object = "arn:aws:s3:::tagd-photos/cat.jpg";
    const cwDashboard = "arn:aws:cloudwatch:us-east-1:111111111111:dashboard/main";
    const failed = [otherAccount, otherRegion, iamGroup, s3Object, cwDashboard];
    const out = await client.send(
      new TagResourcesCommand({ ResourceARNList: [good, ...failed], Tags: { env: "prod" } }),
    );
    assert.deepEqual(Object.keys(out.FailedResourcesMap ?? {}).sort(), [...failed].sort());
    for (const arn of failed) assertFailure(out.FailedResourcesMap, arn);
    assert.match(out.FailedResourcesMap?.[otherRegion]?.ErrorMessage ?? "", /us-west-2/);
    assert.deepEqual(await tagsOf(client, good), { env: "prod" });
    // The failed ones are not tagged anywhere the caller can see.
    assert.equal(await tagsOf(client, iamGroup), undefined);
    assert.equal(await tagsOf(client, s3Object), undefined);
    assert.equal(await tagsOf(server.tagging("us-west-2"), otherRegion), undefined);
  });

  test("an S3 object ARN fails even when its bucket is named like the type", async () => {
    const object = "arn:aws:s3:::bucket/photos/cat.jpg";
    const out = await client.send(new TagResourcesCommand({ ResourceARNList: [object], Tags: { a: "b" } }));
    assertFailure(out.FailedResourcesMap, object);
  });

  test("a global resource (IAM role) is tagged in us-east-1 and refused from another Region", async () => {
    const role = "arn:aws:iam::111111111111:role/deployer";
    const west = server.tagging("us-west-2");
    const refused = await west.send(new TagResourcesCommand({ ResourceARNList: [role], Tags: { a: "b" } }));
    assertFailure(refused.FailedResourcesMap, role);
    const ok = await client.send(new TagResourcesCommand({ ResourceARNList: [role], Tags: { a: "b" } }));
    assert.deepEqual(ok.FailedResourcesMap, {});
    assert.deepEqual(await tagsOf(client, role), { a: "b" });
  });

  test("the 50-tag limit fails one resource and leaves it unchanged; the others succeed", async () => {
    const full = ec2Arn("i-45-tags");
    const empty = ec2Arn("i-0-tags");
    const initial = manyTags(45, "old");
    await client.send(new TagResourcesCommand({ ResourceARNList: [full], Tags: initial }));
    const six = manyTags(6, "new");
    const out = await client.send(new TagResourcesCommand({ ResourceARNList: [full, empty], Tags: six }));
    assert.deepEqual(Object.keys(out.FailedResourcesMap ?? {}), [full]);
    assertFailure(out.FailedResourcesMap, full);
    assert.match(out.FailedResourcesMap?.[full]?.ErrorMessage ?? "", /50/);
    assert.deepEqual(await tagsOf(client, full), initial);
    assert.deepEqual(await tagsOf(client, empty), six);

    // Overwriting existing keys does not count against the limit: 45 + 5 new = 50 is fine.
    const fits = { ...manyTags(5, "new"), old0: "changed" };
    const ok = await client.send(new TagResourcesCommand({ ResourceARNList: [full], Tags: fits }));
    assert.deepEqual(ok.FailedResourcesMap, {});
    assert.equal(Object.keys((await tagsOf(client, full)) ?? {}).length, 50);
    assert.equal((await tagsOf(client, full))?.old0, "changed");
  });
});

describe("TagResources in strict inventory mode", () => {
  let strict: TestServer;
  before(async () => {
    strict = await startServer({ config: testConfig({ inventory: "strict" }) });
  });
  after(() => strict.stop(true));

  test("an unknown resource fails in FailedResourcesMap; a registered one is tagged", async () => {
    const known = ec2Arn("i-registered");
    const unknown = ec2Arn("i-unregistered");
    const reg = await strict.admin("POST", "/admin/v1/resources", { resources: [{ arn: known }] });
    assert.ok(reg.status >= 200 && reg.status < 300, JSON.stringify(reg.body));
    const c = strict.tagging();
    const out = await c.send(
      new TagResourcesCommand({ ResourceARNList: [known, unknown], Tags: { a: "b" } }),
    );
    assert.deepEqual(Object.keys(out.FailedResourcesMap ?? {}), [unknown]);
    const f = out.FailedResourcesMap?.[unknown];
    assert.equal(f?.ErrorCode, "InvalidParameterException");
    assert.equal(f?.StatusCode, 400);
    assert.ok(f?.ErrorMessage);
    assert.deepEqual(await tagsOf(c, known), { a: "b" });
    assert.equal(await tagsOf(c, unknown), undefined);
    const all = await c.send(new GetResourcesCommand({}));
    assert.deepEqual(
      all.ResourceTagMappingList?.map((m) => m.ResourceARN),
      [known],
    );
  });
});

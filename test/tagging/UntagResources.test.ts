import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  GetResourcesCommand,
  GetTagKeysCommand,
  GetTagValuesCommand,
  type ResourceGroupsTaggingAPIClient,
  UntagResourcesCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import {
  ACCOUNT_B,
  ec2Arn,
  sdkError,
  startServer,
  type TestServer,
  tag,
  tagsOf,
  testConfig,
} from "../helpers.ts";

let server: TestServer;
let client: ResourceGroupsTaggingAPIClient;
before(async () => {
  server = await startServer();
  client = server.tagging();
});
after(() => server.stop(true));

async function invalid(input: ConstructorParameters<typeof UntagResourcesCommand>[0], message?: RegExp) {
  const err = await sdkError(client.send(new UntagResourcesCommand(input)));
  assert.equal(err.name, "InvalidParameterException");
  assert.equal(err.status, 400);
  if (message) assert.match(err.message, message);
}

describe("UntagResources succeeds", () => {
  test("removes the given keys with their values and leaves the others", async () => {
    const arns = [ec2Arn("i-untag1"), ec2Arn("i-untag2")];
    await tag(client, arns, { env: "prod", team: "a", owner: "me" });
    const out = await client.send(
      new UntagResourcesCommand({ ResourceARNList: arns, TagKeys: ["env", "team"] }),
    );
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual(out.FailedResourcesMap, {});
    for (const arn of arns) assert.deepEqual(await tagsOf(client, arn), { owner: "me" });
  });

  test("keys the resource does not have, and resources tagd never saw, succeed", async () => {
    const arn = ec2Arn("i-untag-absent");
    await tag(client, [arn], { keep: "1" });
    const never = ec2Arn("i-never-seen");
    const out = await client.send(
      new UntagResourcesCommand({ ResourceARNList: [arn, never], TagKeys: ["nope", "also-nope"] }),
    );
    assert.deepEqual(out.FailedResourcesMap, {});
    assert.deepEqual(await tagsOf(client, arn), { keep: "1" });
    // Untagging does not register the resource: it was never tagged, so it is not listed.
    assert.equal(await tagsOf(client, never), undefined);
  });

  test("50 keys are accepted", async () => {
    const arn = ec2Arn("i-untag-50");
    const tags = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`]));
    await tag(client, [arn], tags);
    const out = await client.send(
      new UntagResourcesCommand({ ResourceARNList: [arn], TagKeys: Object.keys(tags) }),
    );
    assert.deepEqual(out.FailedResourcesMap, {});
    assert.deepEqual(await tagsOf(client, arn), {});
  });

  test("a resource whose last tag is removed is still listed, with Tags: []", async () => {
    const arn = ec2Arn("i-previously-tagged");
    await tag(client, [arn], { lonely: "yes" });
    await client.send(new UntagResourcesCommand({ ResourceARNList: [arn], TagKeys: ["lonely"] }));
    const all = await client.send(new GetResourcesCommand({ ResourcesPerPage: 100 }));
    const mapping = all.ResourceTagMappingList?.find((m) => m.ResourceARN === arn);
    assert.deepEqual(mapping, { ResourceARN: arn, Tags: [] });
    assert.deepEqual(await tagsOf(client, arn), {});
    // Filtered queries no longer match it, and its key and value are gone.
    const filtered = await client.send(new GetResourcesCommand({ TagFilters: [{ Key: "lonely" }] }));
    assert.deepEqual(filtered.ResourceTagMappingList, []);
    const keys = await client.send(new GetTagKeysCommand({}));
    assert.ok(!keys.TagKeys?.includes("lonely"));
    const values = await client.send(new GetTagValuesCommand({ Key: "lonely" }));
    assert.deepEqual(values.TagValues, []);
  });
});

describe("UntagResources rejects the whole request", () => {
  const arn = ec2Arn("i-untag-untouched");
  before(() => tag(client, [arn], { env: "prod" }));

  test("TagKeys with 0 or 51 items", async () => {
    await invalid({ ResourceARNList: [arn], TagKeys: [] }, /tagKeys/);
    const keys = ["env", ...Array.from({ length: 50 }, (_, i) => `k${i}`)];
    await invalid({ ResourceARNList: [arn], TagKeys: keys }, /tagKeys/);
    assert.deepEqual(await tagsOf(client, arn), { env: "prod" });
  });

  test("a key of 0 or 129 characters", async () => {
    await invalid({ ResourceARNList: [arn], TagKeys: [""] });
    await invalid({ ResourceARNList: [arn], TagKeys: ["k".repeat(129)] });
  });

  test("ResourceARNList with 0 or 21 items", async () => {
    await invalid({ ResourceARNList: [], TagKeys: ["env"] }, /resourceARNList/);
    const arns = [arn, ...Array.from({ length: 20 }, (_, i) => ec2Arn(`i-u21-${i}`))];
    await invalid({ ResourceARNList: arns, TagKeys: ["env"] });
    assert.deepEqual(await tagsOf(client, arn), { env: "prod" });
  });

  test("keys with the reserved aws: prefix, in any case", async () => {
    await invalid({ ResourceARNList: [arn], TagKeys: ["env", "aws:cloudformation:stack-name"] }, /aws:/i);
    await invalid({ ResourceARNList: [arn], TagKeys: ["AWS:owner"] });
    assert.deepEqual(await tagsOf(client, arn), { env: "prod" });
  });

  test("a malformed ARN or one of another partition: nothing is changed", async () => {
    await invalid({ ResourceARNList: [arn, "arn:aws:ec2"], TagKeys: ["env"] });
    await invalid({
      ResourceARNList: [arn, "arn:aws-us-gov:ec2:us-gov-west-1:111111111111:instance/i-gov"],
      TagKeys: ["env"],
    });
    assert.deepEqual(await tagsOf(client, arn), { env: "prod" });
  });
});

describe("UntagResources fails per resource in FailedResourcesMap", () => {
  test("another account's and another Region's ARNs fail; the others succeed", async () => {
    const mine = ec2Arn("i-untag-mine");
    const west = ec2Arn("i-untag-west", undefined, "us-west-2");
    await tag(client, [mine], { env: "prod" });
    await tag(server.tagging("us-west-2"), [west], { env: "prod" });
    const theirs = ec2Arn("i-untag-theirs", ACCOUNT_B);
    const out = await client.send(
      new UntagResourcesCommand({ ResourceARNList: [mine, west, theirs], TagKeys: ["env"] }),
    );
    assert.deepEqual(Object.keys(out.FailedResourcesMap ?? {}).sort(), [theirs, west].sort());
    for (const arn of [west, theirs]) {
      const f = out.FailedResourcesMap?.[arn];
      assert.equal(f?.ErrorCode, "InvalidParameterException");
      assert.equal(f?.StatusCode, 400);
      assert.ok(f?.ErrorMessage);
    }
    assert.deepEqual(await tagsOf(client, mine), {});
    assert.deepEqual(await tagsOf(server.tagging("us-west-2"), west), { env: "prod" });
  });

  describe("in strict inventory mode", () => {
    let strict: TestServer;
    before(async () => {
      strict = await startServer({ config: testConfig({ inventory: "strict" }) });
    });
    after(() => strict.stop(true));

    test("an unknown resource fails; a registered one succeeds", async () => {
      const known = ec2Arn("i-strict-known");
      const unknown = ec2Arn("i-strict-unknown");
      const reg = await strict.admin("POST", "/admin/v1/resources", { resources: [{ arn: known }] });
      assert.ok(reg.status >= 200 && reg.status < 300, JSON.stringify(reg.body));
      const c = strict.tagging();
      await tag(c, [known], { env: "prod", keep: "1" });
      const out = await c.send(
        new UntagResourcesCommand({ ResourceARNList: [known, unknown], TagKeys: ["env"] }),
      );
      assert.deepEqual(Object.keys(out.FailedResourcesMap ?? {}), [unknown]);
      const f = out.FailedResourcesMap?.[unknown];
      assert.equal(f?.ErrorCode, "InvalidParameterException");
      assert.equal(f?.StatusCode, 400);
      assert.ok(f?.ErrorMessage);
      assert.deepEqual(await tagsOf(c, known), { keep: "1" });
    });
  });
});

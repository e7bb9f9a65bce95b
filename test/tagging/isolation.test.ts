import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  GetResourcesCommand,
  GetTagKeysCommand,
  GetTagValuesCommand,
  type ResourceGroupsTaggingAPIClient,
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
  tagsOf,
} from "../helpers.ts";

let server: TestServer;
let a: ResourceGroupsTaggingAPIClient;
let b: ResourceGroupsTaggingAPIClient;
const aArns = Array.from({ length: 3 }, (_, i) => ec2Arn(`i-alpha${i}`, ACCOUNT_A));
const aBucket = "arn:aws:s3:::tagd-isolation-bucket";

before(async () => {
  server = await startServer();
  a = server.tagging("us-east-1");
  b = server.tagging("us-east-1", KEY_B);
  const out = await a.send(
    new TagResourcesCommand({
      ResourceARNList: [...aArns, aBucket],
      Tags: { secret: "alpha", owner: "team-a" },
    }),
  );
  assert.deepEqual(out.FailedResourcesMap, {});
});
after(() => server.stop(true));

describe("accounts", () => {
  test("B sees none of A's resources, keys or values", async () => {
    const listed = await b.send(new GetResourcesCommand({}));
    assert.deepEqual(listed.ResourceTagMappingList, []);
    assert.equal(listed.PaginationToken, "");
    const filtered = await b.send(new GetResourcesCommand({ TagFilters: [{ Key: "secret" }] }));
    assert.deepEqual(filtered.ResourceTagMappingList, []);
    const byType = await b.send(new GetResourcesCommand({ ResourceTypeFilters: ["ec2", "s3"] }));
    assert.deepEqual(byType.ResourceTagMappingList, []);
    const byArn = await b.send(new GetResourcesCommand({ ResourceARNList: [...aArns, aBucket] }));
    assert.deepEqual(byArn.ResourceTagMappingList, []);
    const keys = await b.send(new GetTagKeysCommand({}));
    assert.deepEqual(keys.TagKeys, []);
    const values = await b.send(new GetTagValuesCommand({ Key: "secret" }));
    assert.deepEqual(values.TagValues, []);
  });

  test("B's own tags are B's alone, even on an ARN with the same resource id", async () => {
    const bArn = ec2Arn("i-alpha0", ACCOUNT_B);
    await b.send(new TagResourcesCommand({ ResourceARNList: [bArn], Tags: { secret: "bravo" } }));
    const bValues = await b.send(new GetTagValuesCommand({ Key: "secret" }));
    assert.deepEqual(bValues.TagValues, ["bravo"]);
    const aValues = await a.send(new GetTagValuesCommand({ Key: "secret" }));
    assert.deepEqual(aValues.TagValues, ["alpha"]);
    const aList = await a.send(new GetResourcesCommand({ ResourceARNList: [bArn, aArns[0]!] }));
    assert.deepEqual(
      aList.ResourceTagMappingList?.map((m) => m.ResourceARN),
      [aArns[0]],
    );
    await b.send(new UntagResourcesCommand({ ResourceARNList: [bArn], TagKeys: ["secret"] }));
    assert.deepEqual(await tagsOf(a, aArns[0]!), { secret: "alpha", owner: "team-a" });
  });

  test("B tagging A's ARN fails without telling whether the resource exists", async () => {
    const existing = aArns[0]!;
    const missing = ec2Arn("i-alpha-never", ACCOUNT_A);
    const out = await b.send(
      new TagResourcesCommand({ ResourceARNList: [existing, missing], Tags: { secret: "stolen" } }),
    );
    const failures = out.FailedResourcesMap ?? {};
    assert.deepEqual(Object.keys(failures).sort(), [existing, missing].sort());
    const e = failures[existing];
    const m = failures[missing];
    assert.equal(e?.ErrorCode, "InvalidParameterException");
    assert.equal(e?.StatusCode, 400);
    assert.equal(m?.ErrorCode, e?.ErrorCode);
    assert.equal(m?.StatusCode, e?.StatusCode);
    assert.equal(m?.ErrorMessage?.replace(missing, "<arn>"), e?.ErrorMessage?.replace(existing, "<arn>"));
    assert.doesNotMatch(e?.ErrorMessage ?? "", /not (found|exist)|does not exist|unknown/i);
    assert.deepEqual(await tagsOf(a, existing), { secret: "alpha", owner: "team-a" });
    assert.equal(await tagsOf(a, missing), undefined);
  });

  test("B untagging A's ARN fails the same way and changes nothing", async () => {
    const existing = aArns[1]!;
    const missing = ec2Arn("i-alpha-never", ACCOUNT_A);
    const out = await b.send(
      new UntagResourcesCommand({ ResourceARNList: [existing, missing], TagKeys: ["secret"] }),
    );
    const failures = out.FailedResourcesMap ?? {};
    assert.deepEqual(Object.keys(failures).sort(), [existing, missing].sort());
    assert.equal(
      failures[missing]?.ErrorMessage?.replace(missing, "<arn>"),
      failures[existing]?.ErrorMessage?.replace(existing, "<arn>"),
    );
    assert.deepEqual(await tagsOf(a, existing), { secret: "alpha", owner: "team-a" });
  });

  test("B tagging A's bucket (an ARN without an account) does not touch A's tags", async () => {
    // An S3 ARN names no account, so tagd cannot tell whose bucket it is: in open mode B's call acts
    // on a bucket of that name in B's own account. Whatever B gets, A's tags stay as they were.
    await b.send(new TagResourcesCommand({ ResourceARNList: [aBucket], Tags: { secret: "bravo" } }));
    assert.deepEqual(await tagsOf(a, aBucket), { secret: "alpha", owner: "team-a" });
    assert.notDeepEqual(await tagsOf(b, aBucket), { secret: "alpha", owner: "team-a" });
    await b.send(new UntagResourcesCommand({ ResourceARNList: [aBucket], TagKeys: ["secret", "owner"] }));
    assert.deepEqual(await tagsOf(a, aBucket), { secret: "alpha", owner: "team-a" });
    const aValues = await a.send(new GetTagValuesCommand({ Key: "secret" }));
    assert.deepEqual(aValues.TagValues, ["alpha"]);
  });

  test("a pagination token issued to A is refused for B", async () => {
    const first = await a.send(new GetResourcesCommand({ ResourcesPerPage: 1 }));
    assert.ok(first.PaginationToken);
    const err = await sdkError(
      b.send(new GetResourcesCommand({ ResourcesPerPage: 1, PaginationToken: first.PaginationToken })),
    );
    assert.equal(err.name, "InvalidParameterException");
    assert.equal(err.status, 400);
    // The same token still works for A.
    const second = await a.send(
      new GetResourcesCommand({ ResourcesPerPage: 1, PaginationToken: first.PaginationToken }),
    );
    assert.equal(second.ResourceTagMappingList?.length, 1);
  });
});

describe("Regions", () => {
  test("A's us-east-1 resources, keys and values are invisible from us-west-2", async () => {
    const west = server.tagging("us-west-2");
    assert.deepEqual((await west.send(new GetResourcesCommand({}))).ResourceTagMappingList, []);
    assert.deepEqual(
      (await west.send(new GetResourcesCommand({ ResourceARNList: aArns }))).ResourceTagMappingList,
      [],
    );
    assert.deepEqual((await west.send(new GetTagKeysCommand({}))).TagKeys, []);
    assert.deepEqual((await west.send(new GetTagValuesCommand({ Key: "secret" }))).TagValues, []);
  });

  test("tags applied in us-west-2 stay there", async () => {
    const west = server.tagging("us-west-2");
    const westArn = ec2Arn("i-west", ACCOUNT_A, "us-west-2");
    await west.send(new TagResourcesCommand({ ResourceARNList: [westArn], Tags: { where: "west" } }));
    assert.deepEqual(await tagsOf(west, westArn), { where: "west" });
    assert.equal(await tagsOf(a, westArn), undefined);
    assert.ok(!(await a.send(new GetTagKeysCommand({}))).TagKeys?.includes("where"));
    // Tagging a us-west-2 resource from us-east-1 is refused per resource.
    const out = await a.send(
      new TagResourcesCommand({ ResourceARNList: [westArn], Tags: { where: "east" } }),
    );
    assert.equal(out.FailedResourcesMap?.[westArn]?.ErrorCode, "InvalidParameterException");
    assert.deepEqual(await tagsOf(west, westArn), { where: "west" });
  });

  test("a token issued in one Region is refused in another", async () => {
    const first = await a.send(new GetResourcesCommand({ ResourcesPerPage: 1 }));
    const err = await sdkError(
      server
        .tagging("us-west-2")
        .send(new GetResourcesCommand({ ResourcesPerPage: 1, PaginationToken: first.PaginationToken })),
    );
    assert.equal(err.name, "InvalidParameterException");
  });
});

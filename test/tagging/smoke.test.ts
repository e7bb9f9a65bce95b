import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { GetResourcesCommand, TagResourcesCommand } from "@aws-sdk/client-resource-groups-tagging-api";
import { ec2Arn, startServer, type TestServer } from "../helpers.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

test("a resource tagged through the SDK is listed by GetResources", async () => {
  const client = server.tagging();
  const tagged = await client.send(
    new TagResourcesCommand({ ResourceARNList: [ec2Arn("i-smoke")], Tags: { env: "prod" } }),
  );
  assert.deepEqual(tagged.FailedResourcesMap, {});
  const listed = await client.send(new GetResourcesCommand({}));
  assert.deepEqual(listed.ResourceTagMappingList, [
    { ResourceARN: ec2Arn("i-smoke"), Tags: [{ Key: "env", Value: "prod" }] },
  ]);
  assert.equal(listed.PaginationToken, "");
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  GetTagKeysCommand,
  GetTagValuesCommand,
  type GetTagValuesCommandInput,
  paginateGetTagValues,
  type ResourceGroupsTaggingAPIClient,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { resolveResourceInput } from "../../src/domain/inventory.ts";
import { ACCOUNT_A, ec2Arn, sdkError, startServer, type TestServer, tag, untag } from "../helpers.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

async function valuesOf(c: ResourceGroupsTaggingAPIClient, key: string): Promise<string[]> {
  const out = await c.send(new GetTagValuesCommand({ Key: key }));
  assert.equal(out.$metadata.httpStatusCode, 200);
  assert.equal(out.PaginationToken, "");
  return [...(out.TagValues ?? [])].sort();
}

async function invalid(c: ResourceGroupsTaggingAPIClient, input: GetTagValuesCommandInput, message?: RegExp) {
  const err = await sdkError(c.send(new GetTagValuesCommand(input)));
  assert.equal(err.name, "InvalidParameterException", err.message);
  assert.equal(err.status, 400);
  if (message) assert.match(err.message, message);
}

describe("GetTagValues", () => {
  const region = "us-east-2";
  const r = (id: string) => ec2Arn(id, ACCOUNT_A, region);
  let c: ResourceGroupsTaggingAPIClient;
  before(async () => {
    c = server.tagging(region);
    await tag(c, [r("i-v1"), r("i-v4")], { env: "prod" });
    await tag(c, [r("i-v2")], { env: "dev", team: "a" });
    await tag(c, [r("i-v3")], { env: "" });
  });

  test("lists each value of the key once, the empty value too", async () => {
    assert.deepEqual(await valuesOf(c, "env"), ["", "dev", "prod"]);
    assert.deepEqual(await valuesOf(c, "team"), ["a"]);
  });

  test("a key nobody uses has no values", async () => {
    assert.deepEqual(await valuesOf(c, "nobody"), []);
    assert.deepEqual(await valuesOf(c, "ENV"), []);
  });

  test("an overwritten value disappears when no other resource has it", async () => {
    await tag(c, [r("i-v1")], { env: "staging" });
    assert.deepEqual(await valuesOf(c, "env"), ["", "dev", "prod", "staging"]);
    await tag(c, [r("i-v4")], { env: "staging" });
    assert.deepEqual(await valuesOf(c, "env"), ["", "dev", "staging"]);
    await tag(c, [r("i-v2")], { env: "dev" });
    assert.deepEqual(await valuesOf(c, "env"), ["", "dev", "staging"]);
  });

  test("values disappear with the last resource that has them, and the key with them", async () => {
    await untag(c, [r("i-v3")], ["env"]);
    assert.deepEqual(await valuesOf(c, "env"), ["dev", "staging"]);
    await untag(c, [r("i-v1")], ["env"]);
    assert.deepEqual(await valuesOf(c, "env"), ["dev", "staging"]);
    await untag(c, [r("i-v1"), r("i-v2"), r("i-v4")], ["env"]);
    assert.deepEqual(await valuesOf(c, "env"), []);
    const keys = await c.send(new GetTagKeysCommand({}));
    assert.deepEqual(keys.TagKeys, ["team"]);
  });

  test("Key is required, 1 to 128 characters", async () => {
    await invalid(c, {} as GetTagValuesCommandInput, /key/i);
    await invalid(c, { Key: "" });
    await invalid(c, { Key: "k".repeat(129) });
    assert.deepEqual(await valuesOf(c, "k".repeat(128)), []);
    assert.deepEqual(await valuesOf(c, "🏷".repeat(128)), []);
  });

  test("values are scoped to the Region of the request", async () => {
    const west = server.tagging("us-west-2");
    await tag(west, [ec2Arn("i-west", ACCOUNT_A, "us-west-2")], { team: "west" });
    assert.deepEqual(await valuesOf(west, "team"), ["west"]);
    assert.deepEqual(await valuesOf(c, "team"), ["a"]);
    assert.deepEqual(await valuesOf(server.tagging("us-east-1"), "team"), []);
  });
});

describe("GetTagValues pagination", () => {
  const region = "eu-central-1";
  const expected = Array.from({ length: 510 }, (_, i) => `value-${String(i).padStart(3, "0")}`);
  let c: ResourceGroupsTaggingAPIClient;
  before(async () => {
    c = server.tagging(region);
    // A resource has one value per key, so 510 values take 510 resources, and as many TagResources
    // calls: they go straight to the store, which is several times faster than over HTTP. The store
    // is the one the server reads; TagResources itself is covered in its own file.
    const changes = expected.map((v, i) => ({
      resource: resolveResourceInput({ arn: ec2Arn(`i-val${i}`, ACCOUNT_A, region) }),
      register: true,
      set: [
        { key: "many", value: v },
        { key: "other", value: `o${i % 3}` },
      ],
      remove: [],
    }));
    const results = await server.tagd.store.applyTagChanges(ACCOUNT_A, changes);
    assert.ok(results.every((r) => r.ok));
  });

  test("pages of 500 values, then the rest with an empty token", async () => {
    const first = await c.send(new GetTagValuesCommand({ Key: "many" }));
    assert.equal(first.TagValues?.length, 500);
    assert.ok(first.PaginationToken);
    const second = await c.send(
      new GetTagValuesCommand({ Key: "many", PaginationToken: first.PaginationToken }),
    );
    assert.equal(second.TagValues?.length, 10);
    assert.equal(second.PaginationToken, "");
    const all = [...(first.TagValues ?? []), ...(second.TagValues ?? [])];
    assert.equal(new Set(all).size, 510);
    assert.deepEqual(all.sort(), expected);
  });

  test("the SDK paginator collects every value", async () => {
    const all: string[] = [];
    for await (const page of paginateGetTagValues({ client: c }, { Key: "many" }))
      all.push(...(page.TagValues ?? []));
    assert.deepEqual(all.sort(), expected);
  });

  test("a token only continues the key it was issued for", async () => {
    const first = await c.send(new GetTagValuesCommand({ Key: "many" }));
    await invalid(c, { Key: "other", PaginationToken: first.PaginationToken });
    await invalid(c, { Key: "many", PaginationToken: `${first.PaginationToken}A` });
    await invalid(c, { Key: "many", PaginationToken: "garbage" });
    const keysToken = await sdkError(
      c.send(new GetTagKeysCommand({ PaginationToken: first.PaginationToken })),
    );
    assert.equal(keysToken.name, "InvalidParameterException");
  });
});

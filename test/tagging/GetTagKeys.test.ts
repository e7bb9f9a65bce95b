import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  GetResourcesCommand,
  GetTagKeysCommand,
  GetTagValuesCommand,
  paginateGetTagKeys,
  type ResourceGroupsTaggingAPIClient,
  TagResourcesCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { ACCOUNT_A, ec2Arn, sdkError, startServer, type TestServer, tag, untag } from "../helpers.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

async function keysIn(c: ResourceGroupsTaggingAPIClient): Promise<string[]> {
  const out = await c.send(new GetTagKeysCommand({}));
  assert.equal(out.PaginationToken, "");
  return out.TagKeys ?? [];
}

describe("GetTagKeys", () => {
  const region = "us-east-2";
  const r = (id: string) => ec2Arn(id, ACCOUNT_A, region);
  let c: ResourceGroupsTaggingAPIClient;
  before(() => {
    c = server.tagging(region);
  });

  test("an account without tags has no keys", async () => {
    const out = await c.send(new GetTagKeysCommand({}));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual(out.TagKeys, []);
    assert.equal(out.PaginationToken, "");
  });

  test("lists every key in use once, whatever its values", async () => {
    await tag(c, [r("i-k1")], { Example: "a", Example1: "b" });
    await tag(c, [r("i-k2")], { Example: "c", Example2: "" });
    assert.deepEqual((await keysIn(c)).sort(), ["Example", "Example1", "Example2"]);
  });

  test("a key stays while one resource has it and disappears with the last one", async () => {
    await untag(c, [r("i-k1")], ["Example"]);
    assert.deepEqual((await keysIn(c)).sort(), ["Example", "Example1", "Example2"]);
    await untag(c, [r("i-k2")], ["Example"]);
    assert.deepEqual((await keysIn(c)).sort(), ["Example1", "Example2"]);
    await untag(c, [r("i-k1"), r("i-k2")], ["Example1", "Example2"]);
    assert.deepEqual(await keysIn(c), []);
  });

  test("overwriting a value keeps the key; a refused change adds no key", async () => {
    await tag(c, [r("i-k3")], { owner: "a" });
    await tag(c, [r("i-k3")], { owner: "b" });
    assert.deepEqual(await keysIn(c), ["owner"]);

    const full = r("i-k-full");
    await tag(c, [full], Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, "x"])));
    const out = await c.send(
      new TagResourcesCommand({ ResourceARNList: [full], Tags: { "one-too-many": "x" } }),
    );
    assert.ok(out.FailedResourcesMap?.[full]);
    assert.ok(!(await keysIn(c)).includes("one-too-many"));
    await untag(
      c,
      [full],
      Array.from({ length: 50 }, (_, i) => `f${i}`),
    );
    assert.deepEqual(await keysIn(c), ["owner"]);
  });

  test("keys are scoped to the Region of the request", async () => {
    const west = server.tagging("us-west-2");
    await tag(west, [ec2Arn("i-west", ACCOUNT_A, "us-west-2")], { "west-only": "1" });
    const east = server.tagging("us-east-1");
    await tag(east, [ec2Arn("i-east")], { "east-only": "1" });
    assert.deepEqual(await keysIn(west), ["west-only"]);
    assert.deepEqual(await keysIn(east), ["east-only"]);
    assert.ok(!(await keysIn(c)).includes("west-only"));
  });
});

describe("GetTagKeys pagination", () => {
  const region = "eu-central-1";
  const expected: string[] = [];
  let c: ResourceGroupsTaggingAPIClient;
  before(async () => {
    c = server.tagging(region);
    // 11 resources with 50 keys of their own: 550 keys, more than one page of 500.
    await Promise.all(
      Array.from({ length: 11 }, (_, n) => {
        const tags = Object.fromEntries(
          Array.from({ length: 50 }, (_, i) => [
            `key-${String(n).padStart(2, "0")}-${String(i).padStart(2, "0")}`,
            "v",
          ]),
        );
        expected.push(...Object.keys(tags));
        return tag(c, [ec2Arn(`i-keys${n}`, ACCOUNT_A, region)], tags);
      }),
    );
    expected.sort();
  });

  test("pages of 500 keys, then the rest with an empty token", async () => {
    const first = await c.send(new GetTagKeysCommand({}));
    assert.equal(first.TagKeys?.length, 500);
    assert.ok(first.PaginationToken);
    const second = await c.send(new GetTagKeysCommand({ PaginationToken: first.PaginationToken }));
    assert.equal(second.TagKeys?.length, 50);
    assert.equal(second.PaginationToken, "");
    const all = [...(first.TagKeys ?? []), ...(second.TagKeys ?? [])];
    assert.equal(new Set(all).size, 550);
    assert.deepEqual([...all].sort(), expected);
  });

  test("the SDK paginator collects every key", async () => {
    const all: string[] = [];
    for await (const page of paginateGetTagKeys({ client: c }, {})) all.push(...(page.TagKeys ?? []));
    assert.deepEqual(all.sort(), expected);
  });

  test("a tampered token, or one from another action or Region, is refused", async () => {
    const first = await c.send(new GetTagKeysCommand({}));
    const token = first.PaginationToken ?? "";
    const tampered = `${token.slice(0, 5)}${token[5] === "a" ? "b" : "a"}${token.slice(6)}`;
    for (const bad of [tampered, "garbage", `${token}A`, `x${token}`]) {
      const err = await sdkError(c.send(new GetTagKeysCommand({ PaginationToken: bad })));
      assert.equal(err.name, "InvalidParameterException");
      assert.equal(err.status, 400);
    }
    const asValues = await sdkError(
      c.send(new GetTagValuesCommand({ Key: "key-00-00", PaginationToken: token })),
    );
    assert.equal(asValues.name, "InvalidParameterException");
    const asResources = await sdkError(c.send(new GetResourcesCommand({ PaginationToken: token })));
    assert.equal(asResources.name, "InvalidParameterException");
    const elsewhere = await sdkError(
      server.tagging("us-east-1").send(new GetTagKeysCommand({ PaginationToken: token })),
    );
    assert.equal(elsewhere.name, "InvalidParameterException");
  });

  test("a token with a non-canonical MAC encoding is refused", async () => {
    const first = await c.send(new GetTagKeysCommand({}));
    const token = first.PaginationToken ?? "";
    // The last of 43 base64url characters carries two spare bits: a spelling that decodes to the
    // same bytes is still not the token tagd issued.
    const last = token.at(-1) ?? "";
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] ?? "";
    for (const bad of [`${token}=`, `${token.slice(0, -1)}${sibling}`]) {
      const err = await sdkError(c.send(new GetTagKeysCommand({ PaginationToken: bad })));
      assert.equal(err.name, "InvalidParameterException");
    }
  });

  test("a key removed between pages is simply not on the next page", async () => {
    const first = await c.send(new GetTagKeysCommand({}));
    const last = expected.at(-1) ?? "";
    await untag(c, [ec2Arn("i-keys10", ACCOUNT_A, region)], [last]);
    const second = await c.send(new GetTagKeysCommand({ PaginationToken: first.PaginationToken }));
    assert.equal(second.TagKeys?.length, 49);
    assert.ok(!second.TagKeys?.includes(last));
  });
});

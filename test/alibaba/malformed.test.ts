import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  ALIBABA_SIGNATURES,
  aliError,
  callRpc,
  ecsTagsOf,
  startServer,
  type TestServer,
} from "../helpers.ts";
import { json } from "./wire.ts";

const REGION = "cn-hangzhou";
const ID = "i-malformed";
let server: TestServer;
before(async () => {
  server = await startServer();
  await callRpc(server, "AddTags", {
    RegionId: REGION,
    ResourceType: "instance",
    ResourceId: ID,
    "Tag.1.Key": "keep",
    "Tag.1.Value": "me",
  });
});
after(() => server.stop(true));

const base = { RegionId: REGION, ResourceType: "instance" };

/** Signed requests whose parameters are malformed: each is a 4xx naming the parameter. */
const signed: {
  title: string;
  action: string;
  query: Record<string, string>;
  code: string;
  status: number;
  names: RegExp;
}[] = [
  {
    title: "index 0",
    action: "AddTags",
    query: { ...base, ResourceId: ID, "Tag.0.Key": "a", "Tag.0.Value": "b" },
    code: "InvalidParameter",
    status: 400,
    names: /"Tag\.0\.Key"/,
  },
  {
    title: "an index that is not a number",
    action: "AddTags",
    query: { ...base, ResourceId: ID, "Tag.x.Key": "a", "Tag.x.Value": "b" },
    code: "InvalidParameter",
    status: 400,
    names: /"Tag\.x\.Key"/,
  },
  {
    title: "an index with a leading zero",
    action: "TagResources",
    query: { ...base, "ResourceId.01": ID, "Tag.1.Key": "a" },
    code: "InvalidParameter",
    status: 400,
    names: /"ResourceId\.01"/,
  },
  {
    title: "a gap in the indexes",
    action: "AddTags",
    query: {
      ...base,
      ResourceId: ID,
      "Tag.1.Key": "a",
      "Tag.1.Value": "b",
      "Tag.3.Key": "c",
      "Tag.3.Value": "d",
    },
    code: "InvalidParameter",
    status: 400,
    names: /"Tag\.2"/,
  },
  {
    title: "a huge index",
    action: "AddTags",
    query: {
      ...base,
      ResourceId: ID,
      "Tag.99999999999999999999999.Key": "a",
      "Tag.99999999999999999999999.Value": "b",
    },
    code: "InvalidTagCount",
    status: 400,
    names: /tags/,
  },
  {
    title: "ResourceId.51",
    action: "UntagResources",
    query: { ...base, "ResourceId.51": ID, "TagKey.1": "keep" },
    code: "NumberExceed.ResourceIds",
    status: 400,
    names: /ResourceIds/,
  },
  {
    title: "a member a tag does not have",
    action: "AddTags",
    query: { ...base, ResourceId: ID, "Tag.1.Colour": "red" },
    code: "InvalidParameter",
    status: 400,
    names: /"Tag\.1\.Colour"/,
  },
  {
    title: "a plain parameter given as a list",
    action: "UntagResources",
    query: { ...base, "ResourceId.1": ID, "TagKey.1": "keep", "All.1": "true" },
    code: "InvalidParameter",
    status: 400,
    names: /"All\.1"/,
  },
  {
    title: "a boolean that is not true or false",
    action: "UntagResources",
    query: { ...base, "ResourceId.1": ID, All: "yes" },
    code: "InvalidParameter",
    status: 400,
    names: /"All"/,
  },
  {
    title: "an oversized value",
    action: "UntagResources",
    query: { ...base, "ResourceId.1": ID, "TagKey.1": "k".repeat(5000) },
    code: "InvalidParameter",
    status: 400,
    names: /"TagKey\.1"/,
  },
  {
    title: "an oversized resource id",
    action: "TagResources",
    query: { ...base, "ResourceId.1": `i-${"a".repeat(300)}`, "Tag.1.Key": "k" },
    code: "InvalidParameter",
    status: 400,
    names: /"ResourceId\.1"/,
  },
];

for (const { name, options } of ALIBABA_SIGNATURES) {
  describe(`malformed parameters (${name})`, () => {
    for (const c of signed) {
      test(`${c.title}: ${c.code} (${c.status}), naming the parameter, changing nothing`, async () => {
        const err = await aliError(callRpc(server, c.action, c.query, options));
        assert.equal(err.code, c.code);
        assert.equal(err.status, c.status);
        assert.match(err.data.Message, c.names);
        assert.deepEqual(await ecsTagsOf(server, ID), { keep: "me" });
      });
    }
  });
}

describe("malformed requests refused before the signature is looked at", () => {
  const raw: { title: string; query: string; body?: string; names: RegExp }[] = [
    { title: "a value that is not UTF-8", query: "Tag.1.Key=%FF%FE", names: /"Tag\.1\.Key".*UTF-8/ },
    { title: "a broken percent escape", query: "Tag.1.Key=%G1", names: /"Tag\.1\.Key"/ },
    {
      title: "a parameter given twice",
      query: "RegionId=cn-hangzhou&RegionId=cn-beijing",
      names: /"RegionId".*more than once/,
    },
    {
      title: "a parameter in both the query string and the form body",
      query: "RegionId=cn-hangzhou",
      body: "RegionId=cn-beijing",
      names: /"RegionId"/,
    },
    { title: "a form body that is not UTF-8", query: "", body: "Tag.1.Key=\xff", names: /UTF-8/ },
  ];
  for (const c of raw) {
    test(`${c.title}: InvalidParameter (400)`, async () => {
      const res = await fetch(`${server.url}/?Action=AddTags&Version=2014-05-26&${c.query}`, {
        method: "POST",
        ...(c.body !== undefined
          ? {
              headers: { "content-type": "application/x-www-form-urlencoded" },
              body: Buffer.from(c.body, "latin1"),
            }
          : {}),
      });
      assert.equal(res.status, 400);
      const body = await json(res);
      assert.equal(body.Code, "InvalidParameter");
      assert.match(body.Message, c.names);
      assert.deepEqual(await ecsTagsOf(server, ID), { keep: "me" });
    });
  }

  test("the server keeps answering after all of it", async () => {
    const res = await fetch(`${server.url}/health`);
    assert.equal(res.status, 200);
  });
});

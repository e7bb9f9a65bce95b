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
let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

for (const { name, options } of ALIBABA_SIGNATURES) {
  describe(`Alibaba RPC dialect (${name})`, () => {
    const sig = name.startsWith("v1") ? "v1" : "acs3";

    test("an unknown action is InvalidAction.NotFound (404) in Alibaba's error body", async () => {
      const err = await aliError(callRpc(server, "DescribeNothing", { RegionId: REGION }, options));
      assert.equal(err.code, "InvalidAction.NotFound");
      assert.equal(err.status, 404);
      // The SDK adds statusCode to what it parsed.
      const { statusCode: _, ...body } = err.data;
      assert.deepEqual(Object.keys(body).sort(), ["Code", "HostId", "Message", "Recommend", "RequestId"]);
      assert.equal(err.data.Message, "Specified api is not found, please check your url and method.");
      assert.equal(err.data.HostId, new URL(server.url).host);
      assert.match(err.data.RequestId, /^[0-9A-F-]{36}$/);
      assert.equal(
        err.data.Recommend,
        `https://api.aliyun.com/troubleshoot?q=InvalidAction.NotFound&product=Ecs&requestId=${err.data.RequestId}`,
      );
    });

    test("an inherited property name is not an action either", async () => {
      const err = await aliError(callRpc(server, "constructor", { RegionId: REGION }, options));
      assert.equal(err.code, "InvalidAction.NotFound");
      assert.equal(err.status, 404);
    });

    test("a version no product has is InvalidVersion (400)", async () => {
      const err = await aliError(
        callRpc(server, "AddTags", { RegionId: REGION }, { ...options, version: "2099-01-01" }),
      );
      assert.equal(err.code, "InvalidVersion");
      assert.equal(err.status, 400);
    });

    test("GET with every parameter in the query string works", async () => {
      const id = `i-${sig}get`;
      await callRpc(
        server,
        "AddTags",
        {
          RegionId: REGION,
          ResourceType: "instance",
          ResourceId: id,
          "Tag.1.Key": "via",
          "Tag.1.Value": "get",
        },
        { ...options, method: "GET" },
      );
      assert.deepEqual(await ecsTagsOf(server, id), { via: "get" });
    });

    test("parameters in a form body are read and covered by the signature", async () => {
      const id = `i-${sig}form`;
      const out = await callRpc(
        server,
        "TagResources",
        { RegionId: REGION, ResourceType: "instance" },
        { ...options, body: { "ResourceId.1": id, "Tag.1.Key": "via", "Tag.1.Value": "form" } },
      );
      assert.equal(out.statusCode, 200);
      assert.match(out.body.RequestId, /^[0-9A-F-]{36}$/);
      assert.equal(out.headers["x-acs-request-id"], out.body.RequestId);
      assert.deepEqual(await ecsTagsOf(server, id), { via: "form" });
    });

    test("a missing RegionId on the tag service actions is MissingParameter.RegionId (404)", async () => {
      const err = await aliError(
        callRpc(
          server,
          "TagResources",
          { ResourceType: "instance", "ResourceId.1": "i-x", "Tag.1.Key": "k" },
          options,
        ),
      );
      assert.equal(err.code, "MissingParameter.RegionId");
      assert.equal(err.status, 404);
      assert.equal(err.data.Message, "The parameter - RegionId should not be null.");
    });
  });
}

describe("requests without the SDK", () => {
  test("no signature at all is MissingParameter (400) naming AccessKeyId", async () => {
    const res = await fetch(`${server.url}/?Action=AddTags&Version=2014-05-26&RegionId=${REGION}`, {
      method: "POST",
    });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.Code, "MissingParameter");
    assert.match(body.Message, /"AccessKeyId"/);
    assert.equal(res.headers.get("content-type"), "application/json;charset=utf-8");
  });

  test("a request naming no version is MissingParameter (400) naming Version", async () => {
    const res = await fetch(`${server.url}/?Action=AddTags`, { method: "POST" });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.Code, "MissingParameter");
    assert.match(body.Message, /"Version"/);
  });

  test("Format=XML is refused: tagd answers in JSON only", async () => {
    const res = await fetch(`${server.url}/?Action=AddTags&Version=2014-05-26&Format=XML`, {
      method: "POST",
    });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).Code, "InvalidParameter");
  });

  test("an x-acs-action header on another path is InvalidAction.NotFound in Alibaba's format", async () => {
    const res = await fetch(`${server.url}/somewhere`, {
      method: "POST",
      headers: { "x-acs-action": "AddTags", "x-acs-version": "2014-05-26" },
    });
    assert.equal(res.status, 404);
    assert.equal((await json(res)).Code, "InvalidAction.NotFound");
  });

  test("an oversized body is RequestEntityTooLarge (413) in Alibaba's format", async () => {
    const res = await fetch(`${server.url}/?Action=AddTags&Version=2014-05-26`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `Tag.1.Key=${"x".repeat(2 * 1024 * 1024)}`,
    });
    assert.equal(res.status, 413);
    const body = await json(res);
    assert.equal(body.Code, "RequestEntityTooLarge");
    assert.ok(body.RequestId && body.HostId && body.Recommend);
  });

  test("AWS requests still get AWS answers", async () => {
    const res = await fetch(`${server.url}/`, { method: "POST" });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).__type, "UnknownOperationException");
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { TagResourcesRequest, TagResourcesRequestTag, UntagResourcesRequest } from "@alicloud/ecs20140526";
import {
  ALIBABA_KEY_2,
  ALIBABA_SIGNATURES,
  aliError,
  ecsTagsOf,
  startServer,
  type TestServer,
  testConfig,
} from "../helpers.ts";

const REGION = "cn-hangzhou";

function untag(ids: string[], keys: string[], over: Partial<UntagResourcesRequest> = {}) {
  return new UntagResourcesRequest({
    regionId: REGION,
    resourceType: "instance",
    resourceId: ids,
    tagKey: keys,
    ...over,
  });
}

async function seed(server: TestServer, ids: string[], tags: Record<string, string>) {
  await server.ecs().tagResources(
    new TagResourcesRequest({
      regionId: REGION,
      resourceType: "instance",
      resourceId: ids,
      tag: Object.entries(tags).map(([key, value]) => new TagResourcesRequestTag({ key, value })),
    }),
  );
}

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

for (const { name, options } of ALIBABA_SIGNATURES) {
  describe(`UntagResources (${name})`, () => {
    const sig = name.startsWith("v1") ? "v1" : "acs3";
    const client = () => server.ecs(REGION, undefined, options);

    test("removes the named keys from every resource; other keys and unknown keys are fine", async () => {
      const ids = [`i-${sig}u1`, `i-${sig}u2`];
      await seed(server, ids, { a: "1", b: "2", c: "3" });
      const out = await client().untagResources(untag(ids, ["a", "c", "never-there"]));
      assert.equal(out.statusCode, 200);
      for (const id of ids) assert.deepEqual(await ecsTagsOf(server, id), { b: "2" });
    });

    test("All=true removes every tag", async () => {
      const id = `i-${sig}all`;
      await seed(server, [id], { a: "1", b: "2" });
      await client().untagResources(untag([id], [], { all: true }));
      assert.deepEqual(await ecsTagsOf(server, id), {});
    });

    test("All takes effect only when TagKey.N is not set", async () => {
      const id = `i-${sig}allkeys`;
      await seed(server, [id], { a: "1", b: "2" });
      await client().untagResources(untag([id], ["a"], { all: true }));
      assert.deepEqual(await ecsTagsOf(server, id), { b: "2" });
    });

    test("neither TagKey nor All removes nothing", async () => {
      const id = `i-${sig}nothing`;
      await seed(server, [id], { a: "1" });
      await client().untagResources(untag([id], []));
      assert.deepEqual(await ecsTagsOf(server, id), { a: "1" });
    });

    test("a resource never tagged is fine in open mode and stays unregistered", async () => {
      await client().untagResources(untag([`i-${sig}never`], ["a"]));
      assert.equal(await ecsTagsOf(server, `i-${sig}never`), undefined);
    });

    test("another account's keys cannot remove this account's tags", async () => {
      const id = `i-${sig}mine`;
      await seed(server, [id], { a: "1" });
      await server.ecs(REGION, ALIBABA_KEY_2, options).untagResources(untag([id], [], { all: true }));
      assert.deepEqual(await ecsTagsOf(server, id), { a: "1" });
    });

    const cases: { title: string; request: () => UntagResourcesRequest; code: string; status: number }[] = [
      {
        title: "21 tag keys",
        request: () =>
          untag(
            ["i-keep"],
            Array.from({ length: 21 }, (_, i) => `k${i}`),
          ),
        code: "InvalidTagCount",
        status: 400,
      },
      {
        title: "a reserved key",
        request: () => untag(["i-keep"], ["aliyun-x"]),
        code: "InvalidTagKey.Malformed",
        status: 400,
      },
      {
        title: "an empty key",
        request: () => untag(["i-keep"], [""]),
        code: "InvalidTagKey.Malformed",
        status: 400,
      },
      {
        title: "no ResourceId",
        request: () => untag([], ["a"]),
        code: "MissingParameter.ResourceIds",
        status: 404,
      },
      {
        title: "an unknown type",
        request: () => untag(["i-keep"], ["a"], { resourceType: "oss" }),
        code: "InvalidResourceType.NotFound",
        status: 404,
      },
      {
        title: "an unknown region",
        request: () => untag(["i-keep"], ["a"], { regionId: "cn-nowhere" }),
        code: "InvalidRegionId.NotFound",
        status: 404,
      },
    ];
    for (const c of cases) {
      test(`${c.title}: ${c.code} (${c.status}), nothing changes`, async () => {
        await seed(server, ["i-keep"], { a: "1" });
        const err = await aliError(client().untagResources(c.request()));
        assert.equal(err.code, c.code);
        assert.equal(err.status, c.status);
        assert.deepEqual(await ecsTagsOf(server, "i-keep"), { a: "1" });
      });
    }
  });
}

describe("UntagResources in strict inventory mode", () => {
  test("an unregistered resource is InvalidResourceId.NotFound (404)", async () => {
    const strict = await startServer({ config: testConfig({ inventory: "strict" }) });
    try {
      const err = await aliError(strict.ecs().untagResources(untag(["i-unregistered"], ["a"])));
      assert.equal(err.code, "InvalidResourceId.NotFound");
      assert.equal(err.status, 404);
    } finally {
      await strict.stop(true);
    }
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { TagResourcesRequest, TagResourcesRequestTag } from "@alicloud/ecs20140526";
import {
  ALIBABA_ACCOUNT_2,
  ALIBABA_KEY_2,
  ALIBABA_SIGNATURES,
  aliError,
  ecsTagsOf,
  startServer,
  type TestServer,
} from "../helpers.ts";

const REGION = "cn-hangzhou";

function tagResources(
  ids: string[],
  tags: [string, string | undefined][],
  over: Partial<TagResourcesRequest> = {},
) {
  return new TagResourcesRequest({
    regionId: REGION,
    resourceType: "instance",
    resourceId: ids,
    tag: tags.map(
      ([key, value]) => new TagResourcesRequestTag(value === undefined ? { key } : { key, value }),
    ),
    ...over,
  });
}

const many = (n: number, prefix = "k") =>
  Array.from({ length: n }, (_, i) => [`${prefix}${i}`, `v${i}`] as [string, string]);

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

for (const { name, options } of ALIBABA_SIGNATURES) {
  describe(`TagResources (${name})`, () => {
    const sig = name.startsWith("v1") ? "v1" : "acs3";
    const client = (region = REGION) => server.ecs(region, undefined, options);

    test("tags 50 resources at once", async () => {
      const ids = Array.from({ length: 50 }, (_, i) => `i-${sig}fifty${i}`);
      const out = await client().tagResources(tagResources(ids, [["env", "prod"]]));
      assert.equal(out.statusCode, 200);
      for (const id of [ids[0], ids[49]])
        assert.deepEqual(await ecsTagsOf(server, id as string), { env: "prod" });
    });

    test("a tag without a value gets the empty value", async () => {
      await client().tagResources(tagResources([`i-${sig}novalue`], [["flag", undefined]]));
      assert.deepEqual(await ecsTagsOf(server, `i-${sig}novalue`), { flag: "" });
    });

    test("every type of the tag service, each with its id form", async () => {
      const samples: [string, string][] = [
        ["disk", "d-bp1abc"],
        ["ddhcluster", "dc-bp1abc"],
        ["keypair", "my-key_pair.1"],
        ["command", "c-hz01abc"],
        ["activation", "4ECEEE12-56F1-4FBC-9AB1-890F1234ABCD"],
        ["managedinstance", "mi-hz01abc"],
      ];
      for (const [type, id] of samples) {
        await client().tagResources(tagResources([id], [["t", sig]], { resourceType: type }));
        assert.deepEqual(await ecsTagsOf(server, id, { type }), { t: sig }, type);
      }
    });

    test("51 resources is NumberExceed.ResourceIds (400)", async () => {
      const ids = Array.from({ length: 51 }, (_, i) => `i-${sig}toomany${i}`);
      const err = await aliError(client().tagResources(tagResources(ids, [["env", "prod"]])));
      assert.equal(err.code, "NumberExceed.ResourceIds");
      assert.equal(err.status, 400);
      assert.equal(await ecsTagsOf(server, `i-${sig}toomany0`), undefined);
    });

    test("passing 20 tags on one resource is QuotaExceed.Tags (403); the other resources are not tagged either", async () => {
      const full = `i-${sig}full`;
      const other = `i-${sig}notfull`;
      await client().tagResources(tagResources([full], many(20)));
      const err = await aliError(client().tagResources(tagResources([other, full], [["new", "x"]])));
      assert.equal(err.code, "QuotaExceed.Tags");
      assert.equal(err.status, 403);
      assert.match(err.data.Message, /20/);
      assert.equal(await ecsTagsOf(server, other), undefined);
      assert.equal(Object.keys((await ecsTagsOf(server, full)) ?? {}).length, 20);
    });

    const cases: { title: string; request: () => TagResourcesRequest; code: string; status: number }[] = [
      {
        title: "no ResourceId",
        request: () => tagResources([], [["k", "v"]]),
        code: "MissingParameter.ResourceIds",
        status: 404,
      },
      {
        title: "no Tag",
        request: () => tagResources(["i-e2"], []),
        code: "MissingParameter.Tags",
        status: 404,
      },
      {
        title: "no ResourceType",
        request: () => tagResources(["i-e2"], [["k", "v"]], { resourceType: undefined }),
        code: "MissingParameter.ResourceType",
        status: 404,
      },
      {
        title: "21 tags",
        request: () => tagResources(["i-e2"], many(21)),
        code: "InvalidTagCount",
        status: 400,
      },
      {
        title: "a reserved key",
        request: () => tagResources(["i-e2"], [["acs:rm:rgId", "rg-1"]]),
        code: "InvalidTagKey.Malformed",
        status: 400,
      },
      {
        title: "keys equal but for case",
        request: () =>
          tagResources(
            ["i-e2"],
            [
              ["Team", "a"],
              ["TEAM", "b"],
            ],
          ),
        code: "TagKey.Duplication",
        status: 403,
      },
      {
        title: "one bad id among good ones",
        request: () => tagResources(["i-e2", "sg-not-an-instance"], [["k", "v"]]),
        code: "InvalidResourceId.NotFound",
        status: 404,
      },
      {
        title: "an unknown type",
        request: () => tagResources(["i-e2"], [["k", "v"]], { resourceType: "vpc" }),
        code: "InvalidResourceType.NotFound",
        status: 404,
      },
      {
        title: "an unknown region",
        request: () => tagResources(["i-e2"], [["k", "v"]], { regionId: "xx-nowhere-9" }),
        code: "InvalidRegionId.NotFound",
        status: 404,
      },
    ];
    for (const c of cases) {
      test(`${c.title}: ${c.code} (${c.status}), nothing changes`, async () => {
        const err = await aliError(client().tagResources(c.request()));
        assert.equal(err.code, c.code);
        assert.equal(err.status, c.status);
        assert.equal(await ecsTagsOf(server, "i-e2"), undefined);
      });
    }
  });
}

describe("ECS tags are visible only to their own account and region", () => {
  test("the same instance id in another account or region is another resource", async () => {
    const id = "i-shared";
    await server.ecs().tagResources(tagResources([id], [["owner", "one"]]));
    await server.ecs(REGION, ALIBABA_KEY_2).tagResources(tagResources([id], [["owner", "two"]]));
    await server
      .ecs("cn-beijing")
      .tagResources(tagResources([id], [["owner", "beijing"]], { regionId: "cn-beijing" }));
    assert.deepEqual(await ecsTagsOf(server, id), { owner: "one" });
    assert.deepEqual(await ecsTagsOf(server, id, { account: ALIBABA_ACCOUNT_2 }), { owner: "two" });
    assert.deepEqual(await ecsTagsOf(server, id, { region: "cn-beijing" }), { owner: "beijing" });
  });
});

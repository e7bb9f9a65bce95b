import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  DescribeTagsRequest,
  DescribeTagsRequestTag,
  TagResourcesRequest,
  TagResourcesRequestTag,
  UntagResourcesRequest,
} from "@alicloud/ecs20140526";
import {
  ALIBABA_ACCOUNT,
  ALIBABA_ACCOUNT_2,
  ALIBABA_SIGNATURES,
  aliError,
  startServer,
  type TestServer,
} from "../helpers.ts";

const REGION = "cn-hangzhou";

let server: TestServer;
before(async () => {
  server = await startServer();
  const ecs = (
    type: string,
    id: string,
    tags: Record<string, string>,
    account = ALIBABA_ACCOUNT,
    region = REGION,
  ) => ({
    cloud: "alibaba",
    accountId: account,
    region,
    service: "ecs",
    resourceType: type,
    resourceId: id,
    tags,
  });
  const answer = await server.admin("POST", "/admin/v1/resources", {
    resources: [
      ecs("instance", "i-1", { env: "prod", team: "web" }),
      ecs("instance", "i-2", { env: "prod" }),
      ecs("disk", "d-1", { env: "prod", team: "web" }),
      ecs("snapshot", "s-1", { env: "dev" }),
      ecs("command", "c-1", { env: "dev" }),
      ecs("instance", "i-9", { env: "prod", secret: "theirs" }, ALIBABA_ACCOUNT_2),
      ecs("instance", "i-8", { env: "beijing" }, ALIBABA_ACCOUNT, "cn-beijing"),
      // Alibaba KMS keys are not ECS resources: never counted here.
      {
        cloud: "alibaba",
        accountId: ALIBABA_ACCOUNT,
        region: REGION,
        service: "kms",
        resourceType: "key",
        resourceId: "key-1",
        tags: { env: "prod" },
      },
    ],
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
});
after(() => server.stop(true));

for (const { name, options } of ALIBABA_SIGNATURES) {
  describe(`DescribeTags (${name})`, () => {
    const describeTags = async (q: Partial<DescribeTagsRequest> & { tags?: [string, string?][] } = {}) => {
      const { tags, ...rest } = q;
      const out = await server.ecs(REGION, undefined, options).describeTags(
        new DescribeTagsRequest({
          regionId: REGION,
          ...rest,
          ...(tags ? { tag: tags.map(([key, value]) => new DescribeTagsRequestTag({ key, value })) } : {}),
        }),
      );
      assert.equal(out.statusCode, 200);
      return out.body;
    };
    const summary = (body: Awaited<ReturnType<typeof describeTags>>) =>
      (body?.tags?.tag ?? []).map((t) => {
        const counts = Object.entries(t.resourceTypeCount ?? {})
          .filter(([, n]) => typeof n === "number" && n > 0)
          .map(([type, n]) => `${type}:${n}`)
          .join(",");
        return `${t.tagKey}=${t.tagValue} ${counts}`;
      });

    test("every pair of the account's ECS resources in the region, counted by type", async () => {
      const body = await describeTags();
      assert.equal(body?.totalCount, 3);
      assert.equal(body?.pageNumber, 1);
      assert.equal(body?.pageSize, 50);
      assert.deepEqual(summary(body), [
        "env=dev snapshot:1",
        "env=prod disk:1,instance:2",
        "team=web disk:1,instance:1",
      ]);
      // Every count member is there, zero when none.
      assert.equal(body?.tags?.tag?.[0]?.resourceTypeCount?.instance, 0);
      assert.equal(body?.tags?.tag?.[0]?.resourceTypeCount?.ddh, 0);
    });

    test("by resource type, by resource, by tag", async () => {
      assert.deepEqual(summary(await describeTags({ resourceType: "disk" })), [
        "env=prod disk:1",
        "team=web disk:1",
      ]);
      assert.deepEqual(summary(await describeTags({ resourceType: "instance", resourceId: "i-1" })), [
        "env=prod instance:1",
        "team=web instance:1",
      ]);
      // The id's form tells the type when ResourceType is left out.
      assert.deepEqual(summary(await describeTags({ resourceId: "d-1" })), [
        "env=prod disk:1",
        "team=web disk:1",
      ]);
      assert.deepEqual(summary(await describeTags({ tags: [["env", "prod"]] })), [
        "env=prod disk:1,instance:2",
      ]);
      assert.deepEqual(summary(await describeTags({ tags: [["team"]] })), ["team=web disk:1,instance:1"]);
    });

    test("a type ECS does not count still shows its pair", async () => {
      const body = await describeTags({ resourceType: "command" });
      assert.equal(body?.totalCount, 1);
      assert.deepEqual(summary(body), ["env=dev "]);
    });

    test("page numbers", async () => {
      const second = await describeTags({ pageSize: 2, pageNumber: 2 });
      assert.equal(second?.totalCount, 3);
      assert.deepEqual(summary(second), ["team=web disk:1,instance:1"]);
      assert.deepEqual(summary(await describeTags({ pageSize: 2, pageNumber: 3 })), []);
    });

    test("another account's and another region's tags never show", async () => {
      const all = summary(await describeTags()).join(" ");
      assert.ok(!all.includes("secret") && !all.includes("beijing"), all);
    });

    test("bad input is refused", async () => {
      const cases: [Partial<DescribeTagsRequest>, string, number][] = [
        [{ pageSize: 101 }, "InvalidParameter", 400],
        [{ pageNumber: 0 }, "InvalidParameter", 400],
        [{ resourceType: "spaceship" }, "InvalidResourceType.NotFound", 404],
        [{ regionId: "cn-nowhere" }, "InvalidRegionId.NotFound", 404],
      ];
      for (const [q, code, status] of cases) {
        const err = await aliError(
          server
            .ecs(REGION, undefined, options)
            .describeTags(new DescribeTagsRequest({ regionId: REGION, ...q })),
        );
        assert.equal(err.code, code, JSON.stringify(q));
        assert.equal(err.status, status, JSON.stringify(q));
      }
    });
  });
}

describe("DescribeTags after writes", () => {
  const pairs = async (tags?: [string][]) => {
    const out = await server.ecs(REGION).describeTags(
      new DescribeTagsRequest({
        regionId: REGION,
        resourceType: "instance",
        ...(tags ? { tag: tags.map(([key]) => new DescribeTagsRequestTag({ key })) } : {}),
      }),
    );
    return {
      total: out.body?.totalCount,
      pairs: (out.body?.tags?.tag ?? []).map(
        (t) => `${t.tagKey}=${t.tagValue} ${t.resourceTypeCount?.instance}`,
      ),
    };
  };

  // Answers are kept until the next write to the region's tags (and the same question is asked
  // twice before each write here, so a kept answer would be served): every write shows at once.
  test("a tag written or removed shows in the next answer", async () => {
    const ecs = server.ecs(REGION);
    for (let i = 0; i < 2; i++) assert.deepEqual(await pairs([["cache-probe"]]), { total: 0, pairs: [] });
    const before = (await pairs()).total ?? 0;
    await ecs.tagResources(
      new TagResourcesRequest({
        regionId: REGION,
        resourceType: "instance",
        resourceId: ["i-77", "i-78"],
        tag: [new TagResourcesRequestTag({ key: "cache-probe", value: "a" })],
      }),
    );
    for (let i = 0; i < 2; i++)
      assert.deepEqual(await pairs([["cache-probe"]]), { total: 1, pairs: ["cache-probe=a 2"] });
    assert.equal((await pairs()).total, before + 1);
    await ecs.untagResources(
      new UntagResourcesRequest({
        regionId: REGION,
        resourceType: "instance",
        resourceId: ["i-77"],
        tagKey: ["cache-probe"],
      }),
    );
    assert.deepEqual(await pairs([["cache-probe"]]), { total: 1, pairs: ["cache-probe=a 1"] });
    // Through the admin API too.
    const answer = await server.admin("POST", "/admin/v1/resources", {
      resources: [
        {
          cloud: "alibaba",
          accountId: ALIBABA_ACCOUNT,
          region: REGION,
          service: "ecs",
          resourceType: "instance",
          resourceId: "i-77",
          tags: { "cache-probe": "b" },
        },
      ],
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(await pairs([["cache-probe"]]), {
      total: 2,
      pairs: ["cache-probe=a 1", "cache-probe=b 1"],
    });
    await ecs.untagResources(
      new UntagResourcesRequest({
        regionId: REGION,
        resourceType: "instance",
        resourceId: ["i-77", "i-78"],
        all: true,
      }),
    );
    assert.deepEqual(await pairs([["cache-probe"]]), { total: 0, pairs: [] });
    assert.equal((await pairs()).total, before);
  });
});

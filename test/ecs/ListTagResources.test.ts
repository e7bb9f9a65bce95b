import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  ListTagResourcesRequest,
  ListTagResourcesRequestTag,
  ListTagResourcesRequestTagFilter,
} from "@alicloud/ecs20140526";
import {
  ALIBABA_ACCOUNT,
  ALIBABA_ACCOUNT_2,
  ALIBABA_DEFAULT_GROUP,
  ALIBABA_KEY_2,
  ALIBABA_SIGNATURES,
  aliError,
  callRpc,
  startServer,
  type TestServer,
} from "../helpers.ts";

const REGION = "cn-hangzhou";

interface Seed {
  id: string;
  type?: string;
  group?: string;
  tags: Record<string, string>;
  account?: string;
  region?: string;
}

/** Resources in registration order: listings come back in this order. */
const SEEDS: Seed[] = [
  { id: "i-web1", group: "rg-web", tags: { env: "prod", team: "web", app: "shop" } },
  { id: "i-web2", group: "rg-web", tags: { environment: "production", team: "web" } },
  { id: "i-data1", tags: { myenv: "staging", team: "data" } },
  { id: "d-web1", type: "disk", group: "rg-web", tags: { env: "prod" } },
  { id: "i-proxy", tags: { envoy: "proxy-prod", team: "web" } },
  { id: "i-dev1", tags: { env: "dev", team: "data" } },
  { id: "i-other", account: ALIBABA_ACCOUNT_2, tags: { env: "prod", team: "web" } },
  { id: "i-bj1", region: "cn-beijing", tags: { env: "prod", team: "web" } },
];

let server: TestServer;
before(async () => {
  server = await startServer();
  const resources = SEEDS.map((s) => ({
    cloud: "alibaba",
    accountId: s.account ?? ALIBABA_ACCOUNT,
    region: s.region ?? REGION,
    service: "ecs",
    resourceType: s.type ?? "instance",
    resourceId: s.id,
    ...(s.group ? { resourceGroupId: s.group } : {}),
    tags: s.tags,
  }));
  // 30 resources with 3 tags each: 90 rows, more than a page of 50.
  for (let i = 0; i < 30; i++) {
    resources.push({
      cloud: "alibaba",
      accountId: ALIBABA_ACCOUNT,
      region: REGION,
      service: "ecs",
      resourceType: "instance",
      resourceId: `i-page${String(i).padStart(2, "0")}`,
      tags: { paged: "yes", n: String(i), z: "last" },
    });
  }
  const answer = await server.admin("POST", "/admin/v1/resources", { resources });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
});
after(() => server.stop(true));

type Tag = [string, string?];
interface Query {
  ids?: string[];
  tags?: Tag[];
  filters?: [string, ...string[]][];
  type?: string;
  token?: string;
  region?: string;
}

function request(q: Query) {
  return new ListTagResourcesRequest({
    regionId: q.region ?? REGION,
    resourceType: q.type ?? "instance",
    ...(q.ids ? { resourceId: q.ids } : {}),
    ...(q.tags
      ? {
          tag: q.tags.map(
            ([key, value]) =>
              new ListTagResourcesRequestTag({
                ...(key ? { key } : {}),
                ...(value !== undefined ? { value } : {}),
              }),
          ),
        }
      : {}),
    ...(q.filters
      ? {
          tagFilter: q.filters.map(
            ([tagKey, ...tagValues]) =>
              new ListTagResourcesRequestTagFilter({ tagKey, ...(tagValues.length ? { tagValues } : {}) }),
          ),
        }
      : {}),
    ...(q.token ? { nextToken: q.token } : {}),
  });
}

for (const { name, options } of ALIBABA_SIGNATURES) {
  describe(`ListTagResources (${name})`, () => {
    const client = (key?: typeof ALIBABA_KEY_2) => server.ecs(REGION, key, options);
    /** One page, as `id key=value` rows. */
    const page = async (q: Query, key?: typeof ALIBABA_KEY_2) => {
      const out = await client(key).listTagResources(request(q));
      assert.equal(out.statusCode, 200);
      assert.match(out.body?.requestId ?? "", /.+/);
      const rows = (out.body?.tagResources?.tagResource ?? []).map((r) => {
        assert.equal(r.resourceType, q.type ?? "instance");
        return `${r.resourceId} ${r.tagKey}=${r.tagValue}`;
      });
      return { rows, token: out.body?.nextToken };
    };
    /** Every row, following NextToken. */
    const all = async (q: Query) => {
      const rows: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const p = await page({ ...q, ...(token ? { token } : {}) });
        rows.push(...p.rows);
        token = p.token || undefined;
        pages++;
      } while (token);
      return { rows, pages };
    };
    const ids = (rows: string[]) => [...new Set(rows.map((r) => r.split(" ")[0]))];

    test("ResourceId.N: the tags of those resources of the type, resource by resource, keys in order", async () => {
      const { rows } = await page({ ids: ["i-web1", "i-data1", "d-web1", "i-nowhere"] });
      assert.deepEqual(rows, [
        "i-web1 app=shop",
        "i-web1 env=prod",
        "i-web1 team=web",
        "i-data1 myenv=staging",
        "i-data1 team=data",
      ]);
      assert.deepEqual((await page({ ids: ["d-web1"], type: "disk" })).rows, ["d-web1 env=prod"]);
    });

    test("Tag.N: every pair must be present; a key alone matches any value", async () => {
      assert.deepEqual(ids((await all({ tags: [["team", "web"]] })).rows), ["i-web1", "i-web2", "i-proxy"]);
      assert.deepEqual(ids((await all({ tags: [["team", "web"], ["env"]] })).rows), ["i-web1"]);
      assert.deepEqual(ids((await all({ tags: [["env", "prod"]], type: "disk" })).rows), ["d-web1"]);
      assert.deepEqual((await all({ tags: [["team", "nobody"]] })).rows, []);
    });

    test("Tag.N with ResourceId.N: only the named resources that match", async () => {
      assert.deepEqual(ids((await page({ ids: ["i-web1", "i-web2", "i-dev1"], tags: [["env"]] })).rows), [
        "i-web1",
        "i-dev1",
      ]);
    });

    test("TagFilter.N on keys: env* prefix, *env* substring, env exact", async () => {
      assert.deepEqual(ids((await all({ filters: [["env*"]] })).rows), [
        "i-web1",
        "i-web2",
        "i-proxy",
        "i-dev1",
      ]);
      assert.deepEqual(ids((await all({ filters: [["*env*"]] })).rows), [
        "i-web1",
        "i-web2",
        "i-data1",
        "i-proxy",
        "i-dev1",
      ]);
      assert.deepEqual(ids((await all({ filters: [["env"]] })).rows), ["i-web1", "i-dev1"]);
    });

    test("TagFilter.N on values of an exact key: OR across values, AND across filters", async () => {
      assert.deepEqual(ids((await all({ filters: [["env", "pro*"]] })).rows), ["i-web1"]);
      assert.deepEqual(ids((await all({ filters: [["env", "prod", "dev"]] })).rows), ["i-web1", "i-dev1"]);
      assert.deepEqual(ids((await all({ filters: [["envoy", "*prod*"]] })).rows), ["i-proxy"]);
      assert.deepEqual(ids((await all({ filters: [["*env*"], ["team", "d*"]] })).rows), [
        "i-data1",
        "i-dev1",
      ]);
      // One pattern kind per key: the first value's; `dev` (exact) is left out after `pro*` (prefix).
      assert.deepEqual(ids((await all({ filters: [["env", "pro*", "dev"]] })).rows), ["i-web1"]);
    });

    test("TagFilter.N with ResourceId.N", async () => {
      assert.deepEqual(
        ids((await page({ ids: ["i-web1", "i-web2", "i-data1"], filters: [["env*"]] })).rows),
        ["i-web1", "i-web2"],
      );
    });

    test("acs:rm:rgId lists a resource group's resources of the type", async () => {
      assert.deepEqual(ids((await all({ tags: [["acs:rm:rgId", "rg-web"]] })).rows), ["i-web1", "i-web2"]);
      assert.deepEqual(ids((await all({ tags: [["acs:rm:rgId", "rg-web"]], type: "disk" })).rows), [
        "d-web1",
      ]);
      assert.deepEqual((await all({ tags: [["acs:rm:rgId", "rg-empty"]] })).rows, []);
    });

    test("pages of at most 50 rows, a resource never split, NextToken to the end", async () => {
      const first = await page({ tags: [["paged", "yes"]] });
      assert.ok(first.rows.length <= 50 && first.rows.length >= 48, `${first.rows.length} rows`);
      assert.ok(first.token);
      const { rows, pages } = await all({ tags: [["paged", "yes"]] });
      assert.equal(rows.length, 90);
      assert.equal(new Set(rows).size, 90);
      assert.ok(pages >= 2);
      for (const id of ids(rows)) assert.equal(rows.filter((r) => r.startsWith(`${id} `)).length, 3, id);
    });

    test("another account's and another region's resources never show", async () => {
      const mine = ids((await all({ tags: [["env", "prod"]] })).rows);
      assert.ok(!mine.includes("i-other") && !mine.includes("i-bj1"));
      const theirs = await client(ALIBABA_KEY_2).listTagResources(request({ tags: [["env", "prod"]] }));
      assert.deepEqual(
        (theirs.body?.tagResources?.tagResource ?? []).map((r) => r.resourceId),
        ["i-other", "i-other"],
      );
      assert.deepEqual((await page({ ids: ["i-bj1"] })).rows, []);
    });

    const errors: { label: string; q: Query; code: string; status: number }[] = [
      { label: "nothing to search by", q: {}, code: "BothEmpty.TagsAndResources", status: 403 },
      {
        label: "Tag with TagFilter",
        q: { tags: [["env"]], filters: [["env*"]] },
        code: "InvalidTags.MalFormed",
        status: 400,
      },
      {
        label: "a value without its key",
        q: { tags: [[undefined as unknown as string, "prod"]] },
        code: "InvalidParameter.TagValue",
        status: 400,
      },
      {
        label: "51 ResourceId",
        q: { ids: Array.from({ length: 51 }, (_, i) => `i-x${i}`) },
        code: "NumberExceed.ResourceIds",
        status: 400,
      },
      {
        label: "21 Tag",
        q: { tags: Array.from({ length: 21 }, (_, i): Tag => [`k${i}`, "v"]) },
        code: "NumberExceed.Tags",
        status: 400,
      },
      {
        label: "6 TagValues",
        q: { filters: [["env", "a", "b", "c", "d", "e", "f"]] },
        code: "NumberExceed.TagValues",
        status: 403,
      },
      {
        label: "a key pattern with values",
        q: { filters: [["env*", "prod"]] },
        code: "InvalidTagFilter.Malformed",
        status: 403,
      },
      {
        label: "the same key twice",
        q: {
          tags: [
            ["env", "a"],
            ["env", "b"],
          ],
        },
        code: "Duplicate.TagKey",
        status: 400,
      },
      {
        label: "a key over 128 characters",
        q: { tags: [["k".repeat(129), "v"]] },
        code: "InvalidTagKey.Malformed",
        status: 400,
      },
      {
        label: "the default resource group",
        q: { tags: [["acs:rm:rgId", ALIBABA_DEFAULT_GROUP]] },
        code: "InvalidDefaultResourceGroup.NotSupported",
        status: 400,
      },
      {
        label: "a resource group with a tag",
        q: {
          tags: [
            ["acs:rm:rgId", "rg-web"],
            ["env", "prod"],
          ],
        },
        code: "InvalidTag.NotSupported",
        status: 400,
      },
      {
        label: "an unknown resource type",
        q: { ids: ["i-web1"], type: "spaceship" },
        code: "InvalidResourceType.NotFound",
        status: 404,
      },
      {
        label: "an unknown region",
        q: { ids: ["i-web1"], region: "cn-nowhere" },
        code: "InvalidRegionId.NotFound",
        status: 404,
      },
      {
        label: "a tampered NextToken",
        q: { tags: [["paged", "yes"]], token: "eyJjIjoiMSJ9.bad" },
        code: "Invalid.NextToken",
        status: 403,
      },
    ];
    for (const e of errors) {
      test(`${e.label}: ${e.code} (${e.status})`, async () => {
        const err = await aliError(client().listTagResources(request(e.q)));
        assert.equal(err.code, e.code, err.message);
        assert.equal(err.status, e.status);
      });
    }

    test("a NextToken is bound to its query", async () => {
      const first = await page({ tags: [["paged", "yes"]] });
      const err = await aliError(
        client().listTagResources(request({ tags: [["team", "web"]], token: first.token })),
      );
      assert.equal(err.code, "Invalid.NextToken");
      assert.equal(err.status, 403);
    });
  });
}

test("ListTagResources without ResourceType: MissingParameter.ResourceType (404)", async () => {
  const err = await aliError(
    server
      .ecs(REGION)
      .listTagResources(new ListTagResourcesRequest({ regionId: REGION, resourceId: ["i-web1"] })),
  );
  assert.equal(err.code, "MissingParameter.ResourceType");
  assert.equal(err.status, 404);
});

test("owner and scope parameters only Alibaba's own services may set: PermissionDenied.* (403), nothing done", async () => {
  const cases: [string, string][] = [
    ["TagOwnerUid", "PermissionDenied.TagOwnerUid"],
    ["TagOwnerBid", "PermissionDenied.TagOwnerBid"],
    ["Scope", "PermissionDenied.Scope"],
  ];
  for (const action of ["ListTagResources", "TagResources", "UntagResources"]) {
    for (const [param, code] of cases) {
      const err = await aliError(
        callRpc(server, action, {
          RegionId: REGION,
          ResourceType: "instance",
          "ResourceId.1": "i-web1",
          "Tag.1.Key": "owned",
          "Tag.1.Value": "x",
          "TagKey.1": "env",
          [param]: "1",
        }),
      );
      assert.equal(err.code, code, `${action} ${param}`);
      assert.equal(err.status, 403);
    }
  }
  const [still] = await server.tagd.store.getTagged(ALIBABA_ACCOUNT, REGION, [
    `acs:ecs:${REGION}:${ALIBABA_ACCOUNT}:instance/i-web1`,
  ]);
  assert.deepEqual(
    still?.tags.map((t) => t.key),
    ["app", "env", "team"],
  );
});

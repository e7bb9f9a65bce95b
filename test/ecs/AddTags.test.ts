import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AddTagsRequest, AddTagsRequestTag } from "@alicloud/ecs20140526";
import {
  ALIBABA_SIGNATURES,
  aliError,
  callRpc,
  ecsTagsOf,
  startServer,
  type TestServer,
  testConfig,
} from "../helpers.ts";

const REGION = "cn-hangzhou";

function addTags(id: string, tags: [string, string | undefined][], over: Partial<AddTagsRequest> = {}) {
  return new AddTagsRequest({
    regionId: REGION,
    resourceType: "instance",
    resourceId: id,
    tag: tags.map(([key, value]) => new AddTagsRequestTag(value === undefined ? { key } : { key, value })),
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
  describe(`AddTags (${name})`, () => {
    const sig = name.startsWith("v1") ? "v1" : "acs3";
    const client = () => server.ecs(REGION, undefined, options);

    test("adds tags and answers a RequestId", async () => {
      const out = await client().addTags(
        addTags(`i-${sig}add1`, [
          ["env", "prod"],
          ["team", ""],
        ]),
      );
      assert.equal(out.statusCode, 200);
      assert.match(
        out.body?.requestId ?? "",
        /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/,
      );
      assert.deepEqual(await ecsTagsOf(server, `i-${sig}add1`), { env: "prod", team: "" });
    });

    test("overwrites the value of a key the resource already has and keeps the others", async () => {
      const id = `i-${sig}add2`;
      await client().addTags(
        addTags(id, [
          ["env", "prod"],
          ["owner", "ann"],
        ]),
      );
      await client().addTags(addTags(id, [["env", "dev"]]));
      assert.deepEqual(await ecsTagsOf(server, id), { env: "dev", owner: "ann" });
    });

    test("keys and values keep every character: spaces, &, =, /, *, ~, non-ASCII", async () => {
      const id = `i-${sig}add3`;
      await client().addTags(addTags(id, [["a b&c=d/e*f~g", "värde 值 +%"]]));
      assert.deepEqual(await ecsTagsOf(server, id), { "a b&c=d/e*f~g": "värde 值 +%" });
    });

    test("20 tags on a resource is the limit: the 21st is OperationDenied.QuotaExceed (400), nothing changes", async () => {
      const id = `i-${sig}quota`;
      await client().addTags(addTags(id, many(19)));
      await client().addTags(addTags(id, [["k19", "x"]]));
      const err = await aliError(
        client().addTags(
          addTags(id, [
            ["k0", "changed"],
            ["extra", "x"],
          ]),
        ),
      );
      assert.equal(err.code, "OperationDenied.QuotaExceed");
      assert.equal(err.status, 400);
      const tags = await ecsTagsOf(server, id);
      assert.equal(Object.keys(tags ?? {}).length, 20);
      assert.equal(tags?.k0, "v0");
      // Overwriting keys it already has keeps a full resource at 20.
      await client().addTags(addTags(id, [["k0", "changed"]]));
      assert.equal((await ecsTagsOf(server, id))?.k0, "changed");
    });

    const cases: {
      title: string;
      request: () => AddTagsRequest;
      code: string;
      status: number;
      message?: RegExp;
    }[] = [
      {
        title: "an empty key",
        request: () => addTags("i-e1", [["", "v"]]),
        code: "InvalidTagKey.Malformed",
        status: 400,
      },
      {
        title: "a key of 129 characters",
        request: () =>
          addTags("i-e1", [
            ["ok", "v"],
            ["k".repeat(129), "v"],
          ]),
        code: "InvalidTagKey.Malformed",
        status: 400,
        message: /The specified Tag\.2\.Key is not valid\./,
      },
      {
        title: "a key starting with aliyun",
        request: () => addTags("i-e1", [["aliyunx", "v"]]),
        code: "InvalidTagKey.Malformed",
        status: 400,
      },
      {
        title: "a key starting with acs:",
        request: () => addTags("i-e1", [["acs:x", "v"]]),
        code: "InvalidTagKey.Malformed",
        status: 400,
      },
      {
        title: "a key holding http://",
        request: () => addTags("i-e1", [["see http://x", "v"]]),
        code: "InvalidTagKey.Malformed",
        status: 400,
      },
      {
        title: "a value of 129 characters",
        request: () => addTags("i-e1", [["k", "v".repeat(129)]]),
        code: "InvalidTagValue.Malformed",
        status: 400,
        message: /The specified Tag\.1\.Value is not valid\./,
      },
      {
        title: "a value starting with acs:",
        request: () => addTags("i-e1", [["k", "acs:v"]]),
        code: "InvalidTagValue.Malformed",
        status: 400,
      },
      {
        title: "a value holding https://",
        request: () => addTags("i-e1", [["k", "https://x"]]),
        code: "InvalidTagValue.Malformed",
        status: 400,
      },
      {
        title: "a key without a value",
        request: () => addTags("i-e1", [["k", undefined]]),
        code: "InvalidTag.Mismatch",
        status: 400,
      },
      {
        title: "21 tags in one request",
        request: () => addTags("i-e1", many(21)),
        code: "InvalidTagCount",
        status: 400,
      },
      {
        title: "one key twice",
        request: () =>
          addTags("i-e1", [
            ["k", "1"],
            ["k", "2"],
          ]),
        code: "Duplicate.TagKey",
        status: 400,
      },
      {
        title: "keys equal but for case",
        request: () =>
          addTags("i-e1", [
            ["Env", "1"],
            ["env", "2"],
          ]),
        code: "TagKey.Duplication",
        status: 403,
      },
      {
        title: "a resource type ECS does not have",
        request: () => addTags("i-e1", [["k", "v"]], { resourceType: "bucket" }),
        code: "InvalidResourceType.NotFound",
        status: 404,
      },
      {
        title: "an upper-case resource type (all valid values are lower case)",
        request: () => addTags("i-e1", [["k", "v"]], { resourceType: "Instance" }),
        code: "InvalidResourceType.NotFound",
        status: 404,
      },
      {
        title: "a type only the newer tag actions take",
        request: () => addTags("dc-e1", [["k", "v"]], { resourceType: "ddhcluster" }),
        code: "InvalidResourceType.NotFound",
        status: 404,
      },
      {
        title: "a public image",
        request: () =>
          addTags("ubuntu_22_04_x64_20G_alibase_20240101.vhd", [["k", "v"]], { resourceType: "image" }),
        code: "InvalidResourceId.NotSupported",
        status: 403,
      },
      {
        title: "an id that is not an instance id",
        request: () => addTags("not-an-instance", [["k", "v"]]),
        code: "InvalidResourceId.NotFound",
        status: 404,
      },
      {
        title: "a region Alibaba Cloud does not have",
        request: () => addTags("i-e1", [["k", "v"]], { regionId: "cn-atlantis-1" }),
        code: "InvalidRegionId.NotFound",
        status: 404,
      },
      {
        title: "no RegionId",
        request: () => addTags("i-e1", [["k", "v"]], { regionId: undefined }),
        code: "MissingParameter",
        status: 400,
        message: /"RegionId"/,
      },
      {
        title: "no tags",
        request: () => addTags("i-e1", []),
        code: "MissingParameter",
        status: 400,
        message: /"Tag\.1"/,
      },
    ];
    for (const c of cases) {
      test(`${c.title}: ${c.code} (${c.status}), nothing changes`, async () => {
        const err = await aliError(client().addTags(c.request()));
        assert.equal(err.code, c.code);
        assert.equal(err.status, c.status);
        if (c.message) assert.match(err.data?.Message, c.message);
        assert.equal(await ecsTagsOf(server, "i-e1"), undefined);
      });
    }

    test("takes the older spelling Tag.N.key / Tag.N.value", async () => {
      const id = `i-${sig}lower`;
      await callRpc(
        server,
        "AddTags",
        { RegionId: REGION, ResourceType: "instance", ResourceId: id, "Tag.1.key": "a", "Tag.1.value": "b" },
        options,
      );
      assert.deepEqual(await ecsTagsOf(server, id), { a: "b" });
    });
  });
}

describe("AddTags in strict inventory mode", () => {
  let strict: TestServer;
  before(async () => {
    strict = await startServer({ config: testConfig({ inventory: "strict" }) });
    const reg = await strict.admin("POST", "/admin/v1/resources", {
      resources: [
        {
          cloud: "alibaba",
          accountId: "1000000000000001",
          region: REGION,
          service: "ecs",
          resourceType: "instance",
          resourceId: "i-registered",
        },
      ],
    });
    assert.equal(reg.status, 200);
  });
  after(() => strict.stop(true));

  test("tags a registered instance; an unknown one is InvalidResourceId.NotFound (404)", async () => {
    await strict.ecs().addTags(addTags("i-registered", [["env", "prod"]]));
    assert.deepEqual(await ecsTagsOf(strict, "i-registered"), { env: "prod" });
    const err = await aliError(strict.ecs().addTags(addTags("i-unknown", [["env", "prod"]])));
    assert.equal(err.code, "InvalidResourceId.NotFound");
    assert.equal(err.status, 404);
    assert.equal(await ecsTagsOf(strict, "i-unknown"), undefined);
  });

  test("the registered instance is not found from another region", async () => {
    const err = await aliError(
      strict.ecs("cn-shanghai").addTags(addTags("i-registered", [["env", "x"]], { regionId: "cn-shanghai" })),
    );
    assert.equal(err.code, "InvalidResourceId.NotFound");
    assert.equal(err.status, 404);
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  ALIBABA_SIGNATURES,
  aliError,
  aliKmsTagsOf,
  startServer,
  type TestServer,
  testConfig,
} from "../helpers.ts";
import { flatIds, keyId, kmsCall, kmsTag, REGION } from "./alikms.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

const untag = (s: TestServer, query: Record<string, string>, options = {}) =>
  kmsCall(s, "UntagResources", { RegionId: REGION, ResourceType: "key", ...query }, options);

for (const { name, options } of ALIBABA_SIGNATURES) {
  describe(`KMS UntagResources (${name})`, () => {
    const sig = name.startsWith("v1") ? "vone" : "acsthree";

    test("removes the named keys from every resource; keys a resource lacks are fine", async () => {
      const ids = [keyId(`${sig}u1`), keyId(`${sig}u2`)];
      await kmsTag(server, ids, { a: "1", b: "2", c: "3" });
      const out = await untag(
        server,
        { ...flatIds(ids), "TagKey.1": "a", "TagKey.2": "c", "TagKey.3": "never" },
        options,
      );
      assert.equal(out.statusCode, 200);
      for (const id of ids) assert.deepEqual(await aliKmsTagsOf(server, id), { b: "2" });
    });

    test("takes ResourceId and TagKey as JSON arrays", async () => {
      const id = keyId(`${sig}uj`);
      await kmsTag(server, [id], { a: "1", b: "2" });
      await untag(server, { ResourceId: JSON.stringify([id]), TagKey: '["b"]' }, options);
      assert.deepEqual(await aliKmsTagsOf(server, id), { a: "1" });
    });

    test("All=true removes every tag, but only when no TagKey.N is given", async () => {
      const id = keyId(`${sig}all`);
      await kmsTag(server, [id], { a: "1", b: "2" });
      await untag(server, { ...flatIds([id]), "TagKey.1": "a", All: "true" }, options);
      assert.deepEqual(await aliKmsTagsOf(server, id), { b: "2" });
      await untag(server, { ...flatIds([id]), All: "true" }, options);
      assert.deepEqual(await aliKmsTagsOf(server, id), {});
    });

    test("a secret's tags, and a resource never tagged is fine and stays unregistered", async () => {
      const secret = `${sig}-secret`;
      await kmsTag(server, [secret], { a: "1" }, { type: "secret" });
      await untag(server, { ResourceType: "secret", ...flatIds([secret]), "TagKey.1": "a" }, options);
      assert.deepEqual(await aliKmsTagsOf(server, secret, { type: "secret" }), {});
      await untag(server, { ...flatIds([keyId(`${sig}never`)]), "TagKey.1": "a" }, options);
      assert.equal(await aliKmsTagsOf(server, keyId(`${sig}never`)), undefined);
    });
  });
}

describe("KMS UntagResources refusals change nothing", () => {
  const keep = keyId("ukeep");
  const cases: {
    title: string;
    query: Record<string, string>;
    code: string;
    status: number;
    message: RegExp;
  }[] = [
    {
      title: "a key starting with aliyun",
      query: { ...flatIds([keep]), "TagKey.1": "a", "TagKey.2": "aliyun-owner" },
      code: "InvalidParameter",
      status: 400,
      message: /"TagKey\.2".*aliyun/,
    },
    {
      title: "a key starting with acs:",
      query: { ...flatIds([keep]), TagKey: '["acs:rm:rgId"]' },
      code: "InvalidParameter",
      status: 400,
      message: /"TagKey\.1".*acs:/,
    },
    {
      title: "an empty key",
      query: { ...flatIds([keep]), "TagKey.1": "" },
      code: "InvalidParameter",
      status: 400,
      message: /"TagKey\.1"/,
    },
    {
      title: "21 keys",
      query: { ...flatIds([keep]), TagKey: JSON.stringify(Array.from({ length: 21 }, (_, i) => `k${i}`)) },
      code: "InvalidParameter",
      status: 400,
      message: /"TagKey".*at most 20/,
    },
    {
      title: "TagKey that is not JSON",
      query: { ...flatIds([keep]), TagKey: "a,b" },
      code: "InvalidParameter",
      status: 400,
      message: /"TagKey" is not valid: it is not valid JSON/,
    },
    {
      title: "a TagKey entry that is not a string",
      query: { ...flatIds([keep]), TagKey: "[1]" },
      code: "InvalidParameter",
      status: 400,
      message: /TagKey\.1 must be a JSON string/,
    },
    {
      title: "a malformed key id",
      query: { ...flatIds([keep, "not a key"]), All: "true" },
      code: "InvalidResourceId.NotFound",
      status: 404,
      message: /ResourceId is not found/,
    },
    {
      title: "All that is not a boolean",
      query: { ...flatIds([keep]), All: "yes" },
      code: "InvalidParameter",
      status: 400,
      message: /"All"/,
    },
    {
      title: "no ResourceId",
      query: { "TagKey.1": "a" },
      code: "MissingParameter",
      status: 400,
      message: /"ResourceId\.1"/,
    },
  ];
  for (const c of cases) {
    test(`${c.title}: ${c.code} (${c.status})`, async () => {
      await kmsTag(server, [keep], { a: "1" });
      const err = await aliError(untag(server, c.query));
      assert.equal(err.code, c.code, err.message);
      assert.equal(err.status, c.status);
      assert.match(err.data.Message, c.message);
      assert.deepEqual(await aliKmsTagsOf(server, keep), { a: "1" });
    });
  }

  test("strict inventory mode: an unregistered key is InvalidResourceId.NotFound (404)", async () => {
    const strict = await startServer({ config: testConfig({ inventory: "strict" }) });
    try {
      const err = await aliError(untag(strict, { ...flatIds([keyId("unreg")]), All: "true" }));
      assert.equal(err.code, "InvalidResourceId.NotFound");
      assert.equal(err.status, 404);
    } finally {
      await strict.stop(true);
    }
  });
});

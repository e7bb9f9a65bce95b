import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ACCOUNT_B, ADMIN_TOKEN, startServer, type TestServer } from "../helpers.ts";
import { OU_PARENT, orgConfig, policy, ROOT } from "./org.ts";

let server: TestServer;
let plain: TestServer;
before(async () => {
  server = await startServer({ config: orgConfig() });
  plain = await startServer();
});
after(async () => {
  await server.stop(true);
  await plain.stop(true);
});

const GOOD = policy("costcenter", {
  tag_key: { "@@assign": "CostCenter" },
  tag_value: { "@@assign": ["100", "20*"] },
  enforced_for: { "@@assign": ["ec2:instance", "kms:ALL_SUPPORTED"] },
});

describe("tag policies through the admin API", () => {
  test("PUT stores, GET reads one and all, PUT replaces, DELETE removes", async () => {
    const put = await server.admin("PUT", "/admin/v1/tag-policies/cost", { content: GOOD, targets: [ROOT] });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body.content, GOOD);
    assert.deepEqual(put.body.targets, [ROOT]);
    const got = await server.admin("GET", "/admin/v1/tag-policies/cost");
    assert.equal(got.status, 200);
    assert.deepEqual({ ...got.body, updatedAt: undefined }, { ...put.body, updatedAt: undefined });
    // The content may also come as JSON text, as AWS Organizations takes it.
    const again = await server.admin("PUT", "/admin/v1/tag-policies/cost", {
      content: JSON.stringify(GOOD),
      targets: [OU_PARENT, ACCOUNT_B],
    });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.content, GOOD);
    const all = await server.admin("GET", "/admin/v1/tag-policies");
    assert.deepEqual(
      all.body.policies.map((p: { name: string; targets: string[] }) => [p.name, p.targets]),
      [["cost", [OU_PARENT, ACCOUNT_B]]],
    );
    assert.equal((await server.admin("DELETE", "/admin/v1/tag-policies/cost")).status, 200);
    const gone = await server.admin("GET", "/admin/v1/tag-policies/cost");
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, "NotFound");
    assert.equal((await server.admin("DELETE", "/admin/v1/tag-policies/cost")).status, 404);
  });

  const BAD: [string, unknown, string[], RegExp][] = [
    ["not JSON text", "{tags", [ROOT], /not valid JSON/],
    ["no tags element", { rules: {} }, [ROOT], /not a tag policy element/],
    ["an unknown setting", policy("cost", { tag_keys: { "@@assign": "cost" } }), [ROOT], /tag_keys/],
    ["an unknown operator", policy("cost", { tag_value: { "@@replace": ["1"] } }), [ROOT], /@@replace/],
    ["@@append on tag_key", policy("cost", { tag_key: { "@@append": "cost" } }), [ROOT], /only @@assign/],
    [
      "a tag_key of another key",
      policy("cost", { tag_key: { "@@assign": "owner" } }),
      [ROOT],
      /capitalization/,
    ],
    ["a value with two wildcards", policy("cost", { tag_value: { "@@assign": ["*a*"] } }), [ROOT], /one \*/],
    ["values that are not a list", policy("cost", { tag_value: { "@@assign": "100" } }), [ROOT], /list/],
    [
      "a bad enforced_for",
      policy("cost", { enforced_for: { "@@assign": ["ec2"] } }),
      [ROOT],
      /ALL_SUPPORTED/,
    ],
    [
      "a bad child control",
      policy("cost", { tag_value: { "@@operators_allowed_for_child_policies": ["@@some"] } }),
      [ROOT],
      /operators_allowed_for_child_policies/,
    ],
    ["a target outside the organization", GOOD, ["ou-nowhere"], /ou-nowhere/],
    ["an account outside the organization", GOOD, ["444444444444"], /444444444444/],
    [
      "content over 10,000 characters",
      policy("cost", { tag_value: { "@@assign": Array(600).fill("x".repeat(20)) } }),
      [ROOT],
      /10000/,
    ],
  ];
  for (const [what, content, targets, message] of BAD) {
    test(`400 InvalidPolicy for ${what}, nothing stored`, async () => {
      const res = await server.admin("PUT", "/admin/v1/tag-policies/bad", { content, targets });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, "InvalidPolicy");
      assert.match(res.body.error.message, message);
      assert.equal((await server.admin("GET", "/admin/v1/tag-policies/bad")).status, 404);
    });
  }

  test("400 for a body of the wrong shape and for a bad name", async () => {
    const shape = await server.admin("PUT", "/admin/v1/tag-policies/x", { content: GOOD, targets: "r-root" });
    assert.equal(shape.status, 400);
    assert.equal(shape.body.error.code, "InvalidRequest");
    const extra = await server.admin("PUT", "/admin/v1/tag-policies/x", {
      content: GOOD,
      targets: [],
      mode: 1,
    });
    assert.equal(extra.status, 400);
    const name = await server.admin("PUT", "/admin/v1/tag-policies/bad%20name", {
      content: GOOD,
      targets: [],
    });
    assert.equal(name.status, 400);
    assert.match(name.body.error.message, /policy name/);
  });

  test("401 without the admin token", async () => {
    const res = await fetch(`${server.url}/admin/v1/tag-policies`, {
      headers: { authorization: `Bearer not-${ADMIN_TOKEN}` },
    });
    assert.equal(res.status, 401);
  });

  test("without an organization, policies are refused and no account has an effective policy", async () => {
    const res = await plain.admin("PUT", "/admin/v1/tag-policies/cost", { content: GOOD, targets: [] });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /No organization/);
    const view = await plain.admin("GET", `/admin/v1/effective-tag-policies/${ACCOUNT_B}`);
    assert.equal(view.status, 404);
  });

  test("404 for the effective policy of an account outside the organization", async () => {
    const res = await server.admin("GET", "/admin/v1/effective-tag-policies/444444444444");
    assert.equal(res.status, 404);
    assert.match(res.body.error.message, /not a member/);
  });
});

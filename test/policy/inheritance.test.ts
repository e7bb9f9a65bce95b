import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { ACCOUNT_A, ACCOUNT_B, startServer, type TestServer } from "../helpers.ts";
import { ACCOUNT_C, effective, OU_CHILD, OU_PARENT, orgConfig, policy, putPolicy, ROOT } from "./org.ts";

let server: TestServer;
before(async () => {
  server = await startServer({ config: orgConfig() });
});
after(() => server.stop(true));
afterEach(async () => {
  const all = await server.admin("GET", "/admin/v1/tag-policies");
  for (const p of all.body.policies) await server.admin("DELETE", `/admin/v1/tag-policies/${p.name}`);
});

const COST = {
  tag_key: { "@@assign": "CostCenter" },
  tag_value: { "@@assign": ["100", "200"] },
  enforced_for: { "@@assign": ["ec2:instance"] },
};

describe("effective policy: value-setting operators down the tree", () => {
  test("the root's policy is every member's; without policies there is none", async () => {
    assert.equal(await effective(server, ACCOUNT_C), null);
    await putPolicy(server, "root", policy("costcenter", COST), [ROOT]);
    const expected = {
      tags: {
        costcenter: { tag_key: "CostCenter", tag_value: ["100", "200"], enforced_for: ["ec2:instance"] },
      },
    };
    for (const account of [ACCOUNT_A, ACCOUNT_B, ACCOUNT_C])
      assert.deepEqual(await effective(server, account), expected);
  });

  test("@@append in a unit adds values, @@remove on an account takes inherited ones out", async () => {
    await putPolicy(server, "root", policy("costcenter", COST), [ROOT]);
    await putPolicy(server, "unit", policy("costcenter", { tag_value: { "@@append": ["300"] } }), [
      OU_PARENT,
    ]);
    await putPolicy(server, "acct", policy("CostCenter", { tag_value: { "@@remove": ["100"] } }), [
      ACCOUNT_C,
    ]);
    assert.deepEqual((await effective(server, ACCOUNT_A)).tags.costcenter.tag_value, ["100", "200"]);
    assert.deepEqual((await effective(server, ACCOUNT_B)).tags.costcenter.tag_value, ["100", "200", "300"]);
    assert.deepEqual((await effective(server, ACCOUNT_C)).tags.costcenter.tag_value, ["200", "300"]);
  });

  test("@@assign in a child replaces the inherited values and the key's capitalization", async () => {
    await putPolicy(server, "root", policy("costcenter", COST), [ROOT]);
    await putPolicy(
      server,
      "child",
      policy("costcenter", { tag_key: { "@@assign": "costCenter" }, tag_value: { "@@assign": ["900"] } }),
      [OU_CHILD],
    );
    assert.deepEqual(await effective(server, ACCOUNT_C), {
      tags: { costcenter: { tag_key: "costCenter", tag_value: ["900"], enforced_for: ["ec2:instance"] } },
    });
    assert.equal((await effective(server, ACCOUNT_B)).tags.costcenter.tag_key, "CostCenter");
  });

  test("a key without tag_key is required in lower case; a key without tag_value allows any value", async () => {
    await putPolicy(
      server,
      "root",
      policy("Owner", { enforced_for: { "@@assign": ["kms:ALL_SUPPORTED"] } }),
      [ROOT],
    );
    assert.deepEqual(await effective(server, ACCOUNT_A), {
      tags: { owner: { tag_key: "owner", enforced_for: ["kms:ALL_SUPPORTED"] } },
    });
  });

  test("appends from two policies on one node are both kept; a new key in a child is added", async () => {
    await putPolicy(server, "root", policy("costcenter", COST), [ROOT]);
    await putPolicy(server, "one", policy("costcenter", { tag_value: { "@@append": ["300"] } }), [OU_PARENT]);
    await putPolicy(server, "two", policy("costcenter", { tag_value: { "@@append": ["400"] } }), [OU_PARENT]);
    await putPolicy(server, "env", policy("env", { tag_value: { "@@assign": ["prod"] } }), [OU_CHILD]);
    const c = await effective(server, ACCOUNT_C);
    assert.deepEqual(c.tags.costcenter.tag_value, ["100", "200", "300", "400"]);
    assert.deepEqual(c.tags.env, { tag_key: "env", tag_value: ["prod"] });
    assert.equal((await effective(server, ACCOUNT_B)).tags.env, undefined);
  });
});

describe("effective policy: @@operators_allowed_for_child_policies", () => {
  test("a setting limited to @@append ignores a child's @@assign and @@remove but applies its @@append", async () => {
    await putPolicy(
      server,
      "root",
      policy("costcenter", {
        ...COST,
        tag_value: { "@@assign": ["100", "200"], "@@operators_allowed_for_child_policies": ["@@append"] },
      }),
      [ROOT],
    );
    await putPolicy(server, "assign", policy("costcenter", { tag_value: { "@@assign": ["999"] } }), [
      OU_PARENT,
    ]);
    await putPolicy(server, "remove", policy("costcenter", { tag_value: { "@@remove": ["100"] } }), [
      OU_PARENT,
    ]);
    await putPolicy(server, "append", policy("costcenter", { tag_value: { "@@append": ["300"] } }), [
      OU_CHILD,
    ]);
    assert.deepEqual((await effective(server, ACCOUNT_B)).tags.costcenter.tag_value, ["100", "200"]);
    assert.deepEqual((await effective(server, ACCOUNT_C)).tags.costcenter.tag_value, ["100", "200", "300"]);
  });

  test("@@none on a policy key locks every setting below it; the node's own policies still apply", async () => {
    await putPolicy(
      server,
      "root",
      policy("costcenter", { ...COST, "@@operators_allowed_for_child_policies": ["@@none"] }),
      [ROOT],
    );
    // Attached to the root too: the root's restriction binds only the nodes below it.
    await putPolicy(server, "root-append", policy("costcenter", { tag_value: { "@@append": ["150"] } }), [
      ROOT,
    ]);
    await putPolicy(
      server,
      "unit",
      policy("costcenter", {
        tag_key: { "@@assign": "COSTCENTER" },
        tag_value: { "@@append": ["300"] },
        enforced_for: { "@@remove": ["ec2:instance"] },
      }),
      [OU_PARENT],
    );
    assert.deepEqual(await effective(server, ACCOUNT_B), {
      tags: {
        costcenter: {
          tag_key: "CostCenter",
          tag_value: ["100", "200", "150"],
          enforced_for: ["ec2:instance"],
        },
      },
    });
  });

  test("a unit's restriction binds its descendants only, and a child cannot widen it", async () => {
    await putPolicy(server, "root", policy("costcenter", COST), [ROOT]);
    await putPolicy(
      server,
      "unit",
      policy("costcenter", {
        tag_value: { "@@append": ["300"], "@@operators_allowed_for_child_policies": ["@@remove"] },
      }),
      [OU_PARENT],
    );
    await putPolicy(
      server,
      "child",
      policy("costcenter", {
        tag_value: {
          "@@append": ["400"],
          "@@remove": ["200"],
          "@@operators_allowed_for_child_policies": ["@@all"],
        },
      }),
      [OU_CHILD],
    );
    await putPolicy(server, "acct", policy("costcenter", { tag_value: { "@@assign": ["1"] } }), [ACCOUNT_C]);
    assert.deepEqual((await effective(server, ACCOUNT_B)).tags.costcenter.tag_value, ["100", "200", "300"]);
    assert.deepEqual((await effective(server, ACCOUNT_C)).tags.costcenter.tag_value, ["100", "300"]);
  });

  test("a restriction on the whole document applies to every key", async () => {
    await putPolicy(
      server,
      "root",
      { tags: { "@@operators_allowed_for_child_policies": ["@@none"], ...policy("costcenter", COST).tags } },
      [ROOT],
    );
    await putPolicy(server, "unit", policy("env", { tag_value: { "@@assign": ["prod"] } }), [OU_PARENT]);
    assert.deepEqual(Object.keys((await effective(server, ACCOUNT_B)).tags), ["costcenter"]);
  });
});

describe("effective policy follows attachment changes", () => {
  test("re-targeting and deleting a policy changes the members' effective policies", async () => {
    await putPolicy(server, "p", policy("costcenter", COST), [OU_CHILD]);
    assert.equal(await effective(server, ACCOUNT_B), null);
    assert.ok(await effective(server, ACCOUNT_C));
    await putPolicy(server, "p", policy("costcenter", COST), [ACCOUNT_B]);
    assert.ok(await effective(server, ACCOUNT_B));
    assert.equal(await effective(server, ACCOUNT_C), null);
    assert.equal((await server.admin("DELETE", "/admin/v1/tag-policies/p")).status, 200);
    assert.equal(await effective(server, ACCOUNT_B), null);
  });

  test("the view names the account's place in the tree", async () => {
    const res = await server.admin("GET", `/admin/v1/effective-tag-policies/${ACCOUNT_C}`);
    assert.deepEqual(res.body, {
      accountId: ACCOUNT_C,
      organizationId: "o-exampleorgid",
      path: [ROOT, OU_PARENT, OU_CHILD, ACCOUNT_C],
      effectivePolicy: null,
    });
  });
});

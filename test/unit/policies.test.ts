import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { evaluate, refusal, valueAllowed } from "../../src/domain/compliance.ts";
import { effectivePolicy, parsePolicy } from "../../src/domain/policies.ts";

describe("tag values with wildcards", () => {
  const cases: [string[], string, boolean][] = [
    [["100"], "100", true],
    [["100"], "1000", false],
    [["300*"], "300", true],
    [["300*"], "300-east", true],
    [["300*"], "30", false],
    [["*@example.com"], "ann@example.com", true],
    [["*@example.com"], "ann@example.org", false],
    [["a*z"], "az", true],
    [["a*z"], "abcz", true],
    [["a*z"], "abc", false],
    [["*"], "", true],
    [["Prod"], "prod", false],
    [[], "anything", false],
  ];
  for (const [allowed, value, expected] of cases) {
    test(`${JSON.stringify(allowed)} ${expected ? "allows" : "refuses"} '${value}'`, () => {
      assert.equal(valueAllowed(allowed, value), expected);
    });
  }
});

describe("the domain function other dialects call for enforcement", () => {
  const doc = parsePolicy({
    tags: {
      Env: {
        tag_key: { "@@assign": "Env" },
        tag_value: { "@@assign": ["prod", "dev"] },
        enforced_for: { "@@assign": ["ecs:instance"] },
      },
    },
  });
  const policy = effectivePolicy(["r-root", "1000000000000001"], [{ name: "p", doc, targets: ["r-root"] }]);
  const instance = { service: "ecs", resourceType: "instance" };
  const disk = { service: "ecs", resourceType: "disk" };

  test("refuses a breaking tag on an enforced type with kind PolicyViolation", () => {
    assert.equal(refusal(policy, [{ key: "Env", value: "test" }], instance)?.kind, "PolicyViolation");
    assert.equal(refusal(policy, [{ key: "env", value: "prod" }], instance)?.kind, "PolicyViolation");
    assert.equal(refusal(policy, [{ key: "Env", value: "prod" }], instance), null);
  });

  test("reports, but does not refuse, on a type the policy does not enforce", () => {
    assert.equal(refusal(policy, [{ key: "Env", value: "test" }], disk), null);
    assert.deepEqual(evaluate(policy, [{ key: "Env", value: "test" }]), {
      noncompliantKeys: [],
      keysWithNoncompliantValues: ["Env"],
    });
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ServiceError } from "../../src/errors.ts";
import { AWS_JSON_PROTOCOL_ERRORS, decodeJsonBody, splitTarget } from "../../src/protocols/aws-json.ts";

describe("splitTarget", () => {
  const cases: [number, string, { prefix: string; operation: string } | null][] = [
    [
      1,
      "ResourceGroupsTaggingAPI_20170126.GetResources",
      { prefix: "ResourceGroupsTaggingAPI_20170126", operation: "GetResources" },
    ],
    [2, "TrentService.TagResource", { prefix: "TrentService", operation: "TagResource" }],
    [3, "a.b.Op", { prefix: "a.b", operation: "Op" }],
    [4, "NoDotAtAll", null],
    [5, "TrentService.", null],
    [6, ".GetResources", null],
    [7, "", null],
    [8, ".", null],
  ];
  for (const [n, target, expected] of cases) {
    test(`${n}. ${JSON.stringify(target)} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(splitTarget(target), expected);
    });
  }
});

describe("decodeJsonBody", () => {
  const ok: [number, string, unknown][] = [
    [1, "", {}],
    [2, "{}", {}],
    [3, '{"ResourcesPerPage":10}', { ResourcesPerPage: 10 }],
    [4, ' \n{"Tags":{"k":"ünï"}}\n ', { Tags: { k: "ünï" } }],
  ];
  for (const [n, body, expected] of ok) {
    test(`${n}. ${JSON.stringify(body)} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(decodeJsonBody(Buffer.from(body, "utf8")), expected);
    });
  }

  const bad: [number, string, string][] = [
    [1, "{bad", "The request body is not valid JSON"],
    [2, '{"a":1', "The request body is not valid JSON"],
    [3, "   ", "The request body is not valid JSON"],
    [4, "[]", "The request body must be a JSON object"],
    [5, '[{"a":1}]', "The request body must be a JSON object"],
    [6, "42", "The request body must be a JSON object"],
    [7, '"text"', "The request body must be a JSON object"],
    [8, "null", "The request body must be a JSON object"],
    [9, "true", "The request body must be a JSON object"],
    [10, "{}{}", "The request body is not valid JSON"],
  ];
  for (const [n, body, message] of bad) {
    test(`bad ${n}. ${JSON.stringify(body)} → SerializationException`, () => {
      assert.throws(
        () => decodeJsonBody(Buffer.from(body, "utf8")),
        (err: unknown) => {
          assert.ok(err instanceof ServiceError, String(err));
          assert.equal(err.code, "SerializationException");
          assert.ok(err.message.startsWith(message), err.message);
          return true;
        },
      );
    });
  }

  test("SerializationException is a 400 of the protocol", () => {
    assert.equal(AWS_JSON_PROTOCOL_ERRORS["SerializationException"], 400);
  });
});

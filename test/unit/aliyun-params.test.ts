import assert from "node:assert/strict";
import { test } from "node:test";
import { ServiceError } from "../../src/errors.ts";
import { decodeParams, type ParamTable } from "../../src/protocols/aliyun-params.ts";

const TOO_MANY_TAGS = { code: "InvalidTagCount", status: 400, message: "too many" };

/** A table shaped like ListTagResources': lists of structs, a list inside a struct, integers. */
const table = {
  RegionId: { type: "string", required: true },
  ResourceId: { type: "list", member: { type: "string" }, max: 50 },
  Tag: {
    type: "list",
    member: {
      type: "struct",
      members: { Key: { type: "string" }, Value: { type: "string" } },
      aliases: { key: "Key", value: "Value" },
    },
    max: 20,
    tooMany: TOO_MANY_TAGS,
  },
  TagFilter: {
    type: "list",
    member: {
      type: "struct",
      members: {
        TagKey: { type: "string" },
        TagValues: { type: "list", member: { type: "string" }, max: 5 },
      },
    },
    max: 5,
  },
  All: { type: "boolean" },
  PageSize: { type: "integer", min: 1, max: 100 },
} as const satisfies ParamTable;

const decode = (params: Record<string, string>) => decodeParams(table, new Map(Object.entries(params)));

test("flattened lists, structs, nested lists, aliases, booleans and integers decode to typed input", () => {
  const out = decode({
    RegionId: "cn-hangzhou",
    "ResourceId.2": "i-b",
    "ResourceId.1": "i-a",
    "Tag.1.Key": "env",
    "Tag.1.Value": "prod",
    "Tag.2.key": "team",
    "TagFilter.1.TagKey": "env",
    "TagFilter.1.TagValues.1": "pro*",
    "TagFilter.1.TagValues.2": "dev",
    All: "TRUE",
    PageSize: "50",
    Action: "ListTagResources",
    Unknown: "ignored",
  });
  assert.deepEqual(out, {
    RegionId: "cn-hangzhou",
    ResourceId: ["i-a", "i-b"],
    Tag: [{ Key: "env", Value: "prod" }, { Key: "team" }],
    TagFilter: [{ TagKey: "env", TagValues: ["pro*", "dev"] }],
    All: true,
    PageSize: 50,
  });
});

const refused: [string, Record<string, string>, string, RegExp][] = [
  ["index 0", { "Tag.0.Key": "a" }, "InvalidParameter", /"Tag\.0\.Key"/],
  ["a non-numeric index", { "Tag.x.Key": "a" }, "InvalidParameter", /"Tag\.x\.Key"/],
  ["a leading zero", { "ResourceId.01": "a" }, "InvalidParameter", /"ResourceId\.01"/],
  ["a negative index", { "ResourceId.-1": "a" }, "InvalidParameter", /"ResourceId\.-1"/],
  ["no index", { ResourceId: "a" }, "InvalidParameter", /"ResourceId"/],
  ["a gap", { "ResourceId.1": "a", "ResourceId.3": "c" }, "InvalidParameter", /"ResourceId\.2"/],
  [
    "a gap in a nested list",
    { "TagFilter.1.TagValues.2": "x" },
    "InvalidParameter",
    /"TagFilter\.1\.TagValues\.1"/,
  ],
  ["N past the maximum, with its documented error", { "Tag.21.Key": "a" }, "InvalidTagCount", /too many/],
  ["a huge N", { "Tag.123456789012345678901234567890.Key": "a" }, "InvalidTagCount", /too many/],
  ["a nested N past its maximum", { "TagFilter.1.TagValues.6": "x" }, "InvalidParameter", /at most 5/],
  ["an unknown member", { "Tag.1.Colour": "red" }, "InvalidParameter", /"Tag\.1\.Colour"/],
  ["a struct entry with no member", { "Tag.1": "red" }, "InvalidParameter", /"Tag\.1"/],
  ["a plain value given as a list", { "All.1": "true" }, "InvalidParameter", /"All\.1"/],
  [
    "a member and its alias together",
    { "Tag.1.Key": "a", "Tag.1.key": "b" },
    "InvalidParameter",
    /more than once/,
  ],
  ["a boolean that is not one", { All: "1" }, "InvalidParameter", /"All"/],
  ["an integer out of range", { PageSize: "101" }, "InvalidParameter", /"PageSize"/],
  ["an integer that is not one", { PageSize: "1e3" }, "InvalidParameter", /"PageSize"/],
  ["an oversized value", { "ResourceId.1": "x".repeat(5000) }, "InvalidParameter", /"ResourceId\.1"/],
];
for (const [title, params, code, message] of refused) {
  test(`refused: ${title}`, () => {
    assert.throws(
      () => decode({ RegionId: "cn-hangzhou", ...params }),
      (err: unknown) => err instanceof ServiceError && err.code === code && message.test(err.message),
    );
  });
}

test("a missing or empty required parameter is MissingParameter naming it", () => {
  for (const params of [{}, { RegionId: "" }] as Record<string, string>[]) {
    assert.throws(
      () => decode(params),
      (err: unknown) =>
        err instanceof ServiceError && err.code === "MissingParameter" && /"RegionId"/.test(err.message),
    );
  }
});

/** Lists that may arrive as one JSON array (KMS): beside the flattened form, or instead of it. */
const jsonTable = {
  ResourceId: { type: "list", member: { type: "string", maxLength: 8 }, max: 3, json: "also" },
  Tag: {
    type: "list",
    member: { type: "struct", members: { Key: { type: "string" }, Value: { type: "string" } } },
    max: 2,
    tooMany: TOO_MANY_TAGS,
    json: "also",
  },
  TagKeys: { type: "list", member: { type: "string" }, max: 20, json: "only", required: true },
} as const satisfies ParamTable;
const decodeJson = (params: Record<string, string>) =>
  decodeParams(jsonTable, new Map(Object.entries({ TagKeys: '["k"]', ...params })));

test("a list sent as a JSON array decodes as its flattened spelling would", () => {
  assert.deepEqual(
    decodeJson({ ResourceId: '["key-a","key-b"]', Tag: '[{"Key":"env","Value":"prod"},{"Key":"team"}]' }),
    {
      ResourceId: ["key-a", "key-b"],
      Tag: [{ Key: "env", Value: "prod" }, { Key: "team" }],
      TagKeys: ["k"],
    },
  );
  assert.deepEqual(decodeJson({ "ResourceId.1": "key-a" }).ResourceId, ["key-a"]);
  assert.deepEqual(decodeJson({ ResourceId: "[]" }).ResourceId, []);
  assert.equal(decodeJson({ ResourceId: "" }).ResourceId, undefined);
});

const jsonRefused: [string, Record<string, string>, string, RegExp][] = [
  ["not JSON", { Tag: "[{Key:env}]" }, "InvalidParameter", /"Tag" is not valid: it is not valid JSON/],
  ["not an array", { Tag: '{"Key":"env"}' }, "InvalidParameter", /"Tag".*JSON array/],
  ["an entry that is not an object", { Tag: '["env"]' }, "InvalidParameter", /entry 1 must be a JSON object/],
  [
    "a value that is not a string",
    { Tag: '[{"Key":1}]' },
    "InvalidParameter",
    /Tag\.1\.Key must be a JSON string/,
  ],
  ["a member the entries do not have", { Tag: '[{"Colour":"red"}]' }, "InvalidParameter", /"Tag\.1\.Colour"/],
  ["too many entries", { Tag: '[{"Key":"a"},{"Key":"b"},{"Key":"c"}]' }, "InvalidTagCount", /too many/],
  ["an entry too long", { ResourceId: '["key-123456789"]' }, "InvalidParameter", /"ResourceId\.1"/],
  [
    "both spellings",
    { ResourceId: '["a"]', "ResourceId.1": "b" },
    "InvalidParameter",
    /both as a JSON array/,
  ],
  ["a JSON-only list flattened", { "TagKeys.1": "k" }, "InvalidParameter", /"TagKeys\.1".*JSON array/],
  ["a JSON-only list missing", { TagKeys: "" }, "MissingParameter", /"TagKeys"/],
];
for (const [title, params, code, message] of jsonRefused) {
  test(`JSON list refused: ${title}`, () => {
    assert.throws(
      () => decodeJson(params),
      (err: unknown) => err instanceof ServiceError && err.code === code && message.test(err.message),
    );
  });
}

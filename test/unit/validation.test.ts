import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { codePoints, type StructureShape, type ValidationErrors, validate } from "../../src/validation.ts";

class Failure extends Error {
  constructor(
    readonly kind: "type" | "constraint",
    message: string,
  ) {
    super(message);
  }
}

const errors: ValidationErrors = {
  typeError: (message) => new Failure("type", message),
  constraintError: (message) => new Failure("constraint", message),
};

/** Decoded maps have no prototype, so a `__proto__` key is just a key. */
function dict(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(Object.create(null), entries);
}

function failure(shape: StructureShape, input: unknown): Failure {
  try {
    validate(shape, input, errors);
  } catch (err) {
    assert.ok(err instanceof Failure, `expected a Failure, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(input)} to fail`);
}

/** Input for one member; `expect` is the decoded value, or the error kind and message parts. */
type Case =
  | [n: number, name: string, input: unknown, expect: { ok: unknown }]
  | [n: number, name: string, input: unknown, expect: { type: string[] } | { constraint: string[] }];

function runCases(title: string, shape: StructureShape, cases: Case[]): void {
  describe(title, () => {
    for (const [n, name, input, expect] of cases) {
      test(`${n}. ${name}`, () => {
        if ("ok" in expect) {
          assert.deepEqual(validate(shape, input, errors), expect.ok);
          return;
        }
        const err = failure(shape, input);
        const [kind, parts] = "type" in expect ? ["type", expect.type] : ["constraint", expect.constraint];
        assert.equal(err.kind, kind, err.message);
        for (const part of parts) assert.ok(err.message.includes(part), `${err.message}\n  lacks: ${part}`);
      });
    }
  });
}

runCases("string", { type: "structure", members: { Name: { type: "string", min: 1, max: 3 } } }, [
  [1, "within bounds", { Name: "abc" }, { ok: { Name: "abc" } }],
  [2, "absent", {}, { ok: {} }],
  [3, "null treated as absent", { Name: null }, { ok: {} }],
  [4, "three emoji count 3 code points (6 UTF-16 units)", { Name: "😀😀😀" }, { ok: { Name: "😀😀😀" } }],
  [
    5,
    "four emoji are too long",
    { Name: "😀😀😀😀" },
    {
      constraint: [
        "1 validation error detected: ",
        "Value '😀😀😀😀' at 'name' failed to satisfy constraint: Member must have length less than or equal to 3",
      ],
    },
  ],
  [
    6,
    "empty is too short",
    { Name: "" },
    {
      constraint: [
        "Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1",
      ],
    },
  ],
  [
    7,
    "a combining sequence counts its code points",
    { Name: "e\u0301e\u0301" },
    { constraint: ["less than or equal to 3"] },
  ],
  [8, "a number", { Name: 5 }, { type: ["Expected a string at 'name'"] }],
  [9, "a boolean", { Name: true }, { type: ["Expected a string at 'name'"] }],
  [10, "an object", { Name: {} }, { type: ["Expected a string at 'name'"] }],
  [11, "a list", { Name: ["a"] }, { type: ["Expected a string at 'name'"] }],
]);

runCases("string enum", { type: "structure", members: { Mode: { type: "string", enum: ["ON", "OFF"] } } }, [
  [1, "a member of the set", { Mode: "ON" }, { ok: { Mode: "ON" } }],
  [
    2,
    "case matters",
    { Mode: "on" },
    {
      constraint: [
        "Value 'on' at 'mode' failed to satisfy constraint: Member must satisfy enum value set: [ON, OFF]",
      ],
    },
  ],
]);

runCases(
  "string pattern (KMS MarkerType)",
  { type: "structure", members: { Marker: { type: "string", pattern: "[\\u0020-\\u00FF]*" } } },
  [
    [1, "printable Latin-1 matches", { Marker: "abc.DEF-123 ÿ" }, { ok: { Marker: "abc.DEF-123 ÿ" } }],
    [
      2,
      "a character outside the class",
      { Marker: "abc\u0100" },
      {
        constraint: [
          "Value 'abc\u0100' at 'marker' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0020-\\u00FF]*",
        ],
      },
    ],
    [3, "the whole value must match, not a part", { Marker: "ok\n" }, { constraint: ["regular expression"] }],
  ],
);

runCases("integer", { type: "structure", members: { Limit: { type: "integer", min: 1, max: 100 } } }, [
  [1, "lower bound", { Limit: 1 }, { ok: { Limit: 1 } }],
  [2, "upper bound", { Limit: 100 }, { ok: { Limit: 100 } }],
  [3, "1.0 is an integer in JSON", { Limit: 1.0 }, { ok: { Limit: 1 } }],
  [
    4,
    "below the minimum",
    { Limit: 0 },
    {
      constraint: [
        "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
      ],
    },
  ],
  [
    5,
    "above the maximum",
    { Limit: 101 },
    {
      constraint: [
        "Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100",
      ],
    },
  ],
  [6, "negative", { Limit: -5 }, { constraint: ["Value '-5' at 'limit'", "greater than or equal to 1"] }],
  [7, "a float", { Limit: 1.5 }, { type: ["Expected an integer at 'limit'"] }],
  [8, "a numeric string", { Limit: "10" }, { type: ["Expected an integer at 'limit'"] }],
  [9, "2^31 does not fit an int", { Limit: 2 ** 31 }, { type: ["Expected an integer at 'limit'"] }],
  [10, "1e300", { Limit: 1e300 }, { type: ["Expected an integer at 'limit'"] }],
  [
    11,
    "-2^31 - 1 does not fit an int",
    { Limit: -(2 ** 31) - 1 },
    { type: ["Expected an integer at 'limit'"] },
  ],
  [12, "a boolean", { Limit: true }, { type: ["Expected an integer at 'limit'"] }],
  [13, "NaN", { Limit: Number.NaN }, { type: ["Expected an integer at 'limit'"] }],
  [14, "Infinity", { Limit: Number.POSITIVE_INFINITY }, { type: ["Expected an integer at 'limit'"] }],
]);

runCases("integer without bounds", { type: "structure", members: { N: { type: "integer" } } }, [
  [1, "2^31 - 1 fits an int", { N: 2 ** 31 - 1 }, { ok: { N: 2 ** 31 - 1 } }],
  [2, "-2^31 fits an int", { N: -(2 ** 31) }, { ok: { N: -(2 ** 31) } }],
  [3, "-0", { N: -0 }, { ok: { N: -0 } }],
]);

runCases("boolean", { type: "structure", members: { IncludeAll: { type: "boolean" } } }, [
  [1, "true", { IncludeAll: true }, { ok: { IncludeAll: true } }],
  [2, "false", { IncludeAll: false }, { ok: { IncludeAll: false } }],
  [3, "the string 'true'", { IncludeAll: "true" }, { type: ["Expected a boolean at 'includeAll'"] }],
  [4, "0", { IncludeAll: 0 }, { type: ["Expected a boolean at 'includeAll'"] }],
]);

runCases(
  "list",
  {
    type: "structure",
    members: { TagKeys: { type: "list", min: 1, max: 2, member: { type: "string", min: 1, max: 5 } } },
  },
  [
    [1, "within bounds", { TagKeys: ["a", "b"] }, { ok: { TagKeys: ["a", "b"] } }],
    [
      2,
      "too few",
      { TagKeys: [] },
      {
        constraint: [
          "Value '[]' at 'tagKeys' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ],
      },
    ],
    [
      3,
      "too many",
      { TagKeys: ["a", "b", "c"] },
      {
        constraint: [
          "Value '[a, b, c]' at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 2",
        ],
      },
    ],
    [
      4,
      "a member too long, reported with its 1-based index",
      { TagKeys: ["ok", "toolong"] },
      { constraint: ["Value 'toolong' at 'tagKeys.2.member' failed to satisfy constraint"] },
    ],
    [
      5,
      "a member of the wrong type",
      { TagKeys: ["a", 1] },
      { type: ["Expected a string at 'tagKeys.2.member'"] },
    ],
    [6, "a null member", { TagKeys: [null] }, { type: ["Unexpected null at 'tagKeys.1'"] }],
    [7, "not a list", { TagKeys: "a" }, { type: ["Expected a list at 'tagKeys'"] }],
    [8, "an object", { TagKeys: { 0: "a" } }, { type: ["Expected a list at 'tagKeys'"] }],
    [
      9,
      "too many and a member too long: both reported",
      { TagKeys: ["a", "b", "toolong"] },
      {
        constraint: [
          "2 validation errors detected: ",
          "at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 2",
          "; Value 'toolong' at 'tagKeys.3.member'",
        ],
      },
    ],
  ],
);

runCases(
  "map",
  {
    type: "structure",
    members: {
      Tags: {
        type: "map",
        min: 1,
        max: 2,
        key: { type: "string", min: 1, max: 4 },
        value: { type: "string", max: 3 },
      },
    },
  },
  [
    [1, "within bounds", { Tags: { env: "dev" } }, { ok: { Tags: dict({ env: "dev" }) } }],
    [2, "an empty value", { Tags: { env: "" } }, { ok: { Tags: dict({ env: "" }) } }],
    [
      3,
      "an emoji key counts 1 per emoji",
      { Tags: { "😀😀😀😀": "v" } },
      { ok: { Tags: dict({ "😀😀😀😀": "v" }) } },
    ],
    [
      4,
      "too few entries",
      { Tags: {} },
      {
        constraint: [
          "at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ],
      },
    ],
    [
      5,
      "too many entries",
      { Tags: { a: "1", b: "2", c: "3" } },
      {
        constraint: [
          "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 2",
        ],
      },
    ],
    [
      6,
      "a key too long",
      { Tags: { toolong: "v" } },
      {
        constraint: [
          "Value 'toolong' at 'tags.key' failed to satisfy constraint: Member must have length less than or equal to 4",
        ],
      },
    ],
    [
      7,
      "an empty key",
      { Tags: { "": "v" } },
      {
        constraint: [
          "Value '' at 'tags.key' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ],
      },
    ],
    [
      8,
      "a value too long",
      { Tags: { k: "long" } },
      {
        constraint: [
          "Value 'long' at 'tags.k.value' failed to satisfy constraint: Member must have length less than or equal to 3",
        ],
      },
    ],
    [9, "a value of the wrong type", { Tags: { k: 1 } }, { type: ["Expected a string at 'tags.k.value'"] }],
    [10, "a null value", { Tags: { k: null } }, { type: ["Unexpected null at 'tags.k'"] }],
    [11, "a list", { Tags: [["k", "v"]] }, { type: ["Expected a map at 'tags'"] }],
    [12, "a string", { Tags: "k=v" }, { type: ["Expected a map at 'tags'"] }],

    [
      13,
      "a key and a value too long: both reported",
      { Tags: { toolong: "long" } },
      { constraint: ["2 validation errors detected: ", "at 'tags.key'", "at 'tags.toolong.value'"] },
    ],
    [
      14,
      "a __proto__ key from JSON is an ordinary entry, validated like any key",
      JSON.parse('{"Tags":{"__proto__":"x"}}'),
      { constraint: ["Value '__proto__' at 'tags.key'"] },
    ],
  ],
);

const NESTED: StructureShape = {
  type: "structure",
  members: {
    ResourceARNList: { type: "list", member: { type: "string", min: 1 }, required: true, min: 1 },
    Filter: {
      type: "structure",
      members: {
        Key: { type: "string", required: true, max: 3 },
        Values: { type: "list", member: { type: "string" }, max: 2 },
      },
    },
    Filters: {
      type: "list",
      member: { type: "structure", members: { Key: { type: "string", required: true } } },
    },
  },
};

runCases("structure", NESTED, [
  [1, "required present", { ResourceARNList: ["a"] }, { ok: { ResourceARNList: ["a"] } }],
  [
    2,
    "required missing",
    {},
    {
      constraint: [
        "1 validation error detected: Value null at 'resourceARNList' failed to satisfy constraint: Member must not be null",
      ],
    },
  ],
  [
    3,
    "required null",
    { ResourceARNList: null },
    { constraint: ["Value null at 'resourceARNList'", "must not be null"] },
  ],
  [4, "no input at all (null)", null, { constraint: ["at 'resourceARNList'", "must not be null"] }],
  [5, "no input at all (undefined)", undefined, { constraint: ["must not be null"] }],
  [
    6,
    "nested required missing: path in lowerCamel",
    { ResourceARNList: ["a"], Filter: {} },
    { constraint: ["Value null at 'filter.key' failed to satisfy constraint: Member must not be null"] },
  ],
  [
    7,
    "required missing inside a list member",
    { ResourceARNList: ["a"], Filters: [{ Key: "k" }, {}] },
    { constraint: ["Value null at 'filters.2.member.key'", "must not be null"] },
  ],
  [
    8,
    "unknown members are dropped",
    { ResourceARNList: ["a"], Unknown: 1, Filter: { Key: "k", Extra: true } },
    { ok: { ResourceARNList: ["a"], Filter: { Key: "k" } } },
  ],
  [
    9,
    "null optional members are treated as absent",
    { ResourceARNList: ["a"], Filter: null, Filters: null },
    { ok: { ResourceARNList: ["a"] } },
  ],
  [10, "input is a list", [], { type: ["Expected an object at 'input'"] }],
  [11, "input is a string", "x", { type: ["Expected an object at 'input'"] }],
  [
    12,
    "a nested structure of the wrong type",
    { ResourceARNList: ["a"], Filter: "k" },
    { type: ["Expected an object at 'filter'"] },
  ],
  [
    13,
    "three problems in different places, reported together",
    { ResourceARNList: [], Filter: { Key: "long", Values: ["a", "b", "c"] } },
    {
      constraint: [
        "3 validation errors detected: ",
        "at 'resourceARNList' failed to satisfy constraint: Member must have length greater than or equal to 1",
        "Value 'long' at 'filter.key'",
        "at 'filter.values' failed to satisfy constraint: Member must have length less than or equal to 2",
      ],
    },
  ],
  [
    14,
    "two problems: '2 validation errors detected'",
    { Filter: { Key: "long" } },
    {
      constraint: [
        "2 validation errors detected: Value null at 'resourceARNList' failed to satisfy constraint: Member must not be null; Value 'long' at 'filter.key'",
      ],
    },
  ],
  [
    15,
    "a type error wins over constraint problems",
    { Filter: { Key: 1 } },
    { type: ["Expected a string at 'filter.key'"] },
  ],
  [
    16,
    "an inherited property is not a member",
    Object.create({ ResourceARNList: ["a"] }),
    { constraint: ["Value null at 'resourceARNList'"] },
  ],
]);

describe("map keys", () => {
  test("a __proto__ key from JSON comes out as a plain entry, not a prototype", () => {
    const shape = {
      type: "structure",
      members: { Tags: { type: "map", key: { type: "string" }, value: { type: "string" } } },
    } as const satisfies StructureShape;
    const out = validate(shape, JSON.parse('{"Tags":{"__proto__":"x","k":"v"}}'), errors);
    assert.ok(out.Tags);
    assert.equal(Object.getPrototypeOf(out.Tags), null);
    assert.deepEqual(Object.entries(out.Tags), [
      ["__proto__", "x"],
      ["k", "v"],
    ]);
  });
});

describe("messages", () => {
  test("a long value is shown cut at 200 chars", () => {
    const shape: StructureShape = { type: "structure", members: { V: { type: "string", max: 1 } } };
    const err = failure(shape, { V: "x".repeat(500) });
    assert.ok(err.message.includes(`Value '${"x".repeat(200)}…' at 'v'`), err.message);
    assert.ok(!err.message.includes("x".repeat(201)));
  });

  test("one error is singular, two are plural", () => {
    const shape: StructureShape = {
      type: "structure",
      members: { A: { type: "string", required: true }, B: { type: "string", required: true } },
    };
    assert.match(failure(shape, { A: "a" }).message, /^1 validation error detected: /);
    assert.match(failure(shape, {}).message, /^2 validation errors detected: .*'a'.*; .*'b'/);
  });
});

describe("codePoints", () => {
  const cases: [number, string, number][] = [
    [1, "", 0],
    [2, "abc", 3],
    [3, "😀", 1],
    [4, "a😀b", 3],
    [5, "日本語", 3],
    [6, "e\u0301", 2],
    [7, "\ud83d", 1],
  ];
  for (const [n, s, expected] of cases) {
    test(`${n}. ${JSON.stringify(s)} has ${expected}`, () => {
      assert.equal(codePoints(s), expected);
    });
  }
});

test("strings with NUL or an unpaired surrogate break a constraint, anywhere, keys of maps included", () => {
  const shape = {
    type: "structure",
    members: {
      Name: { type: "string" },
      Tags: { type: "map", key: { type: "string" }, value: { type: "string" } },
    },
  } as const;
  const errors = {
    typeError: (m: string) => new Error(`type: ${m}`),
    constraintError: (m: string) => new Error(`constraint: ${m}`),
  };
  for (const bad of ["a\u0000b", "\ud800", "x\udc00y"]) {
    assert.throws(
      () => validate(shape, { Name: bad }, errors),
      /constraint: .*NUL character or unpaired surrogates/,
    );
    assert.throws(() => validate(shape, { Tags: { [bad]: "v" } }, errors), /constraint: /);
    assert.throws(() => validate(shape, { Tags: { k: bad } }, errors), /constraint: /);
  }
  assert.deepEqual(validate(shape, { Name: "😀 ok" }, errors), { Name: "😀 ok" });
});

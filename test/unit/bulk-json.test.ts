import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAdminJson, SLICED_MIN_CHARS } from "../../src/admin/bulk-json.ts";
import { countTurns } from "../turns.ts";

/** Values that look like the structure the parser cuts at: quotes, escapes, brackets and commas. */
const AWKWARD = [
  'a "quoted" value',
  "back\\slash\\",
  "},{",
  '"],"x":[',
  "[[[",
  "}}}",
  ", , ,",
  "\\\\\\",
  "naïve ☃ 😀",
  "\u2028\u2029",
  "tab\there\nnewline",
  '"]]',
  '\\"}},',
  '\\\\"[',
  "'",
  "",
];

function entry(i: number): Record<string, unknown> {
  return {
    arn: `arn:aws:ec2:us-east-1:111111111111:instance/i-${String(i).padStart(17, "0")}`,
    tags: { Name: AWKWARD[i % AWKWARD.length], [`k${i % 7}`]: AWKWARD[(i * 5) % AWKWARD.length] },
    nested: [[i, { deeper: [i % 3 === 0 ? null : true, -i / 7, 1e21] }], []],
  };
}

/** A body of `count` entries, written by JSON.stringify with `space` (0: none). */
function body(count: number, space = 0): string {
  return JSON.stringify({ resources: Array.from({ length: count }, (_, i) => entry(i)) }, null, space);
}

/** Every top-level comma a cut: the pieces' edges meet every element. */
const EVERY_COMMA = { minChars: 0, sliceChars: 0 };

async function sameAsJsonParse(text: string, sizes?: typeof EVERY_COMMA): Promise<void> {
  let expected: unknown;
  let failure: Error | undefined;
  try {
    expected = JSON.parse(text);
  } catch (err) {
    failure = err as Error;
  }
  if (failure) {
    await assert.rejects(parseAdminJson(text, sizes), (err: Error) => {
      assert.equal(err.name, failure.name);
      assert.equal(err.message, failure.message);
      return true;
    });
  } else {
    assert.deepEqual(await parseAdminJson(text, sizes), expected);
  }
}

test("a large bulk body parses to what JSON.parse gives, however its strings and whitespace look", async () => {
  for (const space of [0, 2, "\t"] as const) {
    const text = body(6000, space as number);
    assert.ok(text.length > 4 * SLICED_MIN_CHARS, `${text.length} characters: taken in several pieces`);
    await sameAsJsonParse(text);
  }
  // Whitespace around every token the parser looks at, and escapes a cut could fall beside.
  const spaced = body(6000)
    .replace(/^\{"resources":\[/, ' \r\n{ \t"resources" :\n[ ')
    .replace(/\]\}$/, " ]\n}\n ");
  await sameAsJsonParse(spaced);
  await sameAsJsonParse(body(6000).replaceAll(',"tags":', ' , "tags" : '));
});

test("a large body that is not valid JSON fails with JSON.parse's own error", async () => {
  const valid = body(6000);
  const inner = valid.slice('{"resources":['.length, -"]}".length);
  const cases = [
    `{"resources":[${inner},]}`, // a trailing comma
    `{"resources":[,${inner}]}`, // a leading comma
    `{"resources":[${inner.replace(/\},\{/g, (m, at: number) => (at > 300_000 && at < 300_100 ? "},,{" : m))}]}`,
    `{"resources":[${inner}]}}`, // more after the object
    `{"resources":[${inner}],"other":1}`, // another member: parsed whole (valid)
    `{"resources":[${inner}],"resources":[]}`, // the same member twice: JSON.parse keeps the last
    `\uFEFF${valid}`, // a byte-order mark is not JSON whitespace
    `{"resources":[${inner}`, // cut short
    `{"resources":[${inner}]`, // no closing brace
    `{"resources":[${inner.slice(0, 400_000)}`, // cut inside an entry
    `{"resources":[${inner.replace('"},{', "},{")}]}`, // a string left open
    `{"resources":[${inner.replace("}]],", "}]]],")}]}`, // a bracket too many
    `{"resources":[${inner}]} x`,
  ];
  for (const text of cases) await sameAsJsonParse(text);
  // The same mistakes where every comma is a cut, so that one falls at each of them.
  const small = body(40);
  const few = small.slice('{"resources":['.length, -"]}".length);
  for (const text of [
    small,
    `{"resources":[${few},]}`,
    `{"resources":[,${few}]}`,
    `{"resources":[${few.replace("},{", "},,{")}]}`,
    `{"resources":[${few}, ]}`,
    `{"resources":[ ,]}`,
    `{"resources":[ ]}`,
    '{"resources":[1,2,]}',
    '{"resources":[1,,2]}',
    `{"resources":[${few}],"more":[1,2]}`,
    `{"resources":[${few.replace('"},{', "},{")}]}`,
  ])
    await sameAsJsonParse(text, EVERY_COMMA);
  // Other shapes and small bodies: JSON.parse's answer too.
  for (const text of ['{"resources":[]}', "[1,2,3]", `[${inner}]`, `{"other":[${inner}]}`, '"x"', "{"])
    await sameAsJsonParse(text);
});

test("a large bulk body is parsed with turns of the event loop between its pieces", async () => {
  const text = body(12_000);
  const { value, turns } = await countTurns(() => parseAdminJson(text));
  assert.equal((value as { resources: unknown[] }).resources.length, 12_000);
  const pieces = Math.floor(text.length / SLICED_MIN_CHARS);
  assert.ok(turns >= pieces, `${turns} turns for ${text.length} characters`);
});

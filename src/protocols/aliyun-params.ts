import { ServiceError } from "../errors.ts";
import { invalidParameter, missingParameter } from "./aliyun-rpc.ts";

/**
 * Alibaba RPC parameters as data, and one engine that turns the flat, percent-decoded parameters of a
 * request (`Tag.1.Key=env`, `ResourceId.2=i-…`) into typed input. Arrays are flattened with 1-based
 * indexes; the engine refuses what would make the decoded input ambiguous — an index of `0`, with a
 * leading zero or not a number, a gap in the indexes, a member the action does not have — naming the
 * parameter. Each action's table can say which documented error a missing parameter or too many
 * entries get (`MissingParameter.ResourceIds`, `InvalidTagCount`, …).
 */

/** The documented error of a product, as data: code, HTTP status, message. */
export interface ErrorSpec {
  code: string;
  status: number;
  message: string;
}

export interface ScalarSpec {
  type: "string" | "boolean" | "integer";
  required?: boolean;
  /** The error when the parameter is absent; `MissingParameter` (400) naming it otherwise. */
  missing?: ErrorSpec;
  /** Characters, for parameters whose length the product checks at the gateway. */
  maxLength?: number;
  min?: number;
  max?: number;
}

export interface StructSpec {
  type: "struct";
  /** Scalars, or lists of scalars (`TagFilter.N.TagValues.N`). */
  members: Readonly<Record<string, ScalarSpec | ListSpec>>;
  /** Other spellings of a member the product accepts (`Tag.N.key` for `Tag.N.Key`). */
  aliases?: Readonly<Record<string, string>>;
}

export interface ListSpec {
  type: "list";
  member: ScalarSpec | StructSpec;
  /** Largest N. */
  max: number;
  /** The error when N passes `max`. */
  tooMany?: ErrorSpec;
  required?: boolean;
  missing?: ErrorSpec;
  /**
   * Whether the whole list may arrive as one parameter holding a JSON array, as some KMS parameters
   * do (`Tag=[{"Key":"k","Value":"v"}]`, `Tags=[{"TagKey":…}]`, `TagKeys=["k"]`): `"also"` beside
   * the flattened form, `"only"` instead of it. Entries are checked as their flattened spelling
   * (`Tag.1.Key`) would be.
   */
  json?: "also" | "only";
}

export type ParamSpec = ScalarSpec | ListSpec;
export type ParamTable = Readonly<Record<string, ParamSpec>>;

type ScalarOf<S> = S extends { type: "boolean" } ? boolean : S extends { type: "integer" } ? number : string;
type SpecOf<S> = S extends { type: "list"; member: infer M }
  ? M extends { type: "struct"; members: infer Ms }
    ? { [K in keyof Ms]?: SpecOf<Ms[K]> }[]
    : ScalarOf<M>[]
  : ScalarOf<S>;
/** The typed input a table decodes to; lists are absent when no entry was given. */
export type ParamsOf<T> = { [K in keyof T]?: SpecOf<T[K]> };

/**
 * Parameters every RPC request may carry that belong to the protocol, not to the action (v1's
 * signature parameters and the routing parameters).
 */
export const COMMON_PARAMS: ReadonlySet<string> = new Set([
  "Action",
  "Version",
  "Format",
  "AccessKeyId",
  "Signature",
  "SignatureMethod",
  "SignatureVersion",
  "SignatureNonce",
  "SignatureType",
  "Timestamp",
  "SecurityToken",
]);

/** A parameter value longer than this is refused whatever the action: nothing legitimate is this long. */
export const MAX_PARAM_CHARS = 4096;
/** The same for a list sent as one JSON array: 20 tags of 128 + 128 characters need more than 4,096. */
export const MAX_JSON_PARAM_CHARS = 16384;

const INDEX_RE = /^[1-9][0-9]*$/;

function fail(spec: ErrorSpec): ServiceError {
  return new ServiceError(spec.code, spec.message, spec.status);
}

function scalar(name: string, raw: string, spec: ScalarSpec): string | number | boolean {
  if (spec.maxLength !== undefined && [...raw].length > spec.maxLength)
    throw invalidParameter(name, `it is longer than ${spec.maxLength} characters`);
  if (spec.type === "boolean") {
    const lower = raw.toLowerCase();
    if (lower !== "true" && lower !== "false") throw invalidParameter(name, "it must be true or false");
    return lower === "true";
  }
  if (spec.type === "integer") {
    if (!/^-?[0-9]{1,15}$/.test(raw)) throw invalidParameter(name, "it must be an integer");
    const n = Number(raw);
    if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max))
      throw invalidParameter(name, `it must be between ${spec.min ?? "-∞"} and ${spec.max ?? "∞"}`);
    return n;
  }
  return raw;
}

/** Whether index text `n` (digits, no leading zero) is above `max`, without trusting it to fit a number. */
function above(n: string, max: number): boolean {
  const m = String(max);
  return n.length > m.length || (n.length === m.length && n > m);
}

/** One parameter on its way down: what is left of its name below the current level. */
interface Entry {
  rest: string;
  raw: string;
  /** The whole name, for messages. */
  name: string;
  /** Spelled out from a list sent as a JSON array. */
  fromJson?: boolean;
}

/**
 * Decodes `params` (names already percent-decoded) by `table`. Names the table does not know are
 * ignored, as Alibaba's gateway ignores parameters an API does not declare; a known name spelled
 * wrongly below its top level (`Tag.0.Key`, `Tag.x.Key`, `Tag.1.Colour`, `RegionId.1`) is refused.
 */
export function decodeParams<T extends ParamTable>(table: T, params: Map<string, string>): ParamsOf<T> {
  const entries: Entry[] = [];
  for (const [name, raw] of params) {
    if (COMMON_PARAMS.has(name)) continue;
    const spec = Object.hasOwn(table, name) ? table[name] : undefined;
    const limit = spec?.type === "list" && spec.json ? MAX_JSON_PARAM_CHARS : MAX_PARAM_CHARS;
    if ([...raw].length > limit) throw invalidParameter(name, `it is longer than ${limit} characters`);
    entries.push({ rest: name, raw, name });
  }
  return decodeLevel(table, undefined, entries, "") as ParamsOf<T>;
}

/**
 * One level of names: the top level (unknown names ignored) or the members of a list entry
 * (`prefix` is `Tag.1.`; unknown members refused).
 */
function decodeLevel(
  members: Readonly<Record<string, ParamSpec>>,
  aliases: Readonly<Record<string, string>> | undefined,
  entries: Entry[],
  prefix: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const lists = new Map<string, Map<number, Entry[]>>();
  const jsonHeads = new Set<string>();
  const flatHeads = new Set<string>();
  // Entries spelled out from a JSON array join the queue while the loop runs.
  const queue = [...entries];
  for (const e of queue) {
    const dot = e.rest.indexOf(".");
    const written = dot < 0 ? e.rest : e.rest.slice(0, dot);
    const head = Object.hasOwn(members, written)
      ? written
      : aliases && Object.hasOwn(aliases, written)
        ? (aliases[written] as string)
        : undefined;
    const spec = head === undefined ? undefined : members[head];
    if (head === undefined || !spec) {
      if (prefix === "") continue;
      throw invalidParameter(
        e.name,
        `the entries of ${prefix.slice(0, -1)} have the members ${Object.keys(members).join(", ")}`,
      );
    }
    if (spec.type !== "list") {
      if (dot >= 0) throw invalidParameter(e.name, `${prefix}${head} is not a list`);
      // `Tag.1.Key` and its alias `Tag.1.key` together would be one member given twice.
      if (Object.hasOwn(out, head))
        throw invalidParameter(e.name, `${prefix}${head} is given more than once`);
      out[head] = scalar(e.name, e.raw, spec);
      continue;
    }
    const listName = `${prefix}${head}`;
    if (spec.json && !e.fromJson) {
      if (dot < 0) {
        if (e.raw.trim() !== "") jsonHeads.add(head);
        queue.push(...spellOut(prefix, head, e.raw, spec));
        continue;
      }
      if (spec.json === "only")
        throw invalidParameter(e.name, `${listName} is one parameter holding a JSON array`);
      flatHeads.add(head);
    }
    const rest = dot < 0 ? "" : e.rest.slice(dot + 1);
    const dot2 = rest.indexOf(".");
    const index = dot2 < 0 ? rest : rest.slice(0, dot2);
    if (!INDEX_RE.test(index)) {
      throw invalidParameter(
        e.name,
        `${listName} is a list: name its entries ${listName}.1 to ${listName}.${spec.max}${spec.member.type === "struct" ? ".<member>" : ""}`,
      );
    }
    if (above(index, spec.max)) {
      if (spec.tooMany) throw fail(spec.tooMany);
      throw invalidParameter(e.name, `${listName} takes at most ${spec.max} entries`);
    }
    const below = dot2 < 0 ? "" : rest.slice(dot2 + 1);
    if (spec.member.type === "struct" && below === "")
      throw invalidParameter(
        e.name,
        `the entries of ${listName} have the members ${Object.keys(spec.member.members).join(", ")}`,
      );
    if (spec.member.type !== "struct" && below !== "")
      throw invalidParameter(e.name, `the entries of ${listName} are plain values`);
    let byIndex = lists.get(head);
    if (!byIndex) {
      byIndex = new Map();
      lists.set(head, byIndex);
    }
    const n = Number(index);
    const list = byIndex.get(n) ?? [];
    list.push({ ...e, rest: below });
    byIndex.set(n, list);
  }

  for (const head of jsonHeads) {
    if (flatHeads.has(head))
      throw invalidParameter(
        `${prefix}${head}`,
        `it is given both as a JSON array and as ${prefix}${head}.N`,
      );
    if (!lists.has(head)) out[head] = [];
  }

  for (const [head, byIndex] of lists) {
    const spec = members[head] as ListSpec;
    const listName = `${prefix}${head}`;
    const decoded: unknown[] = [];
    for (let i = 1; i <= byIndex.size; i++) {
      const group = byIndex.get(i);
      if (group === undefined) {
        const given = [...byIndex.keys()].sort((a, b) => a - b).find((k) => k > i);
        throw invalidParameter(
          `${listName}.${i}`,
          `${listName}.${given} is given but ${listName}.${i} is not: number the entries from 1 without gaps`,
        );
      }
      const member = spec.member;
      if (member.type === "struct") {
        decoded.push(decodeLevel(member.members, member.aliases, group, `${listName}.${i}.`));
      } else {
        const [only] = group as [Entry];
        decoded.push(scalar(only.name, only.raw, member));
      }
    }
    out[head] = decoded;
  }

  for (const [head, spec] of Object.entries(members)) {
    // An empty value is no value: `RegionId=` is as missing as no RegionId at all.
    if (!spec.required || (out[head] !== undefined && out[head] !== "")) continue;
    if (spec.missing) throw fail(spec.missing);
    throw missingParameter(`${prefix}${head}${spec.type === "list" && spec.json !== "only" ? ".1" : ""}`);
  }
  return out;
}

/**
 * A list sent as one JSON array, as the entries its flattened spelling would have: `Tag` holding
 * `[{"Key":"k"}]` becomes `Tag.1.Key=k`. Only strings are taken as values, so nothing is guessed.
 * An empty value is no list at all, as an empty value is no value elsewhere.
 */
function spellOut(prefix: string, head: string, raw: string, spec: ListSpec): Entry[] {
  const listName = `${prefix}${head}`;
  if (raw.trim() === "") return [];
  const shape =
    spec.member.type === "struct"
      ? `[{${Object.keys(spec.member.members)
          .map((m) => `"${m}":"…"`)
          .join(",")}}]`
      : '["…"]';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidParameter(listName, `it is not valid JSON; write it as ${shape}`);
  }
  if (!Array.isArray(parsed)) throw invalidParameter(listName, `it must be a JSON array, ${shape}`);
  if (parsed.length > spec.max) {
    if (spec.tooMany) throw fail(spec.tooMany);
    throw invalidParameter(listName, `it takes at most ${spec.max} entries`);
  }
  const out: Entry[] = [];
  parsed.forEach((item, i) => {
    const n = `${listName}.${i + 1}`;
    const leaf = (name: string, value: unknown) => {
      if (typeof value !== "string")
        throw invalidParameter(listName, `${name} must be a JSON string, ${shape}`);
      out.push({ rest: name.slice(prefix.length), raw: value, name, fromJson: true });
    };
    if (spec.member.type !== "struct") {
      leaf(n, item);
      return;
    }
    if (item === null || typeof item !== "object" || Array.isArray(item))
      throw invalidParameter(listName, `entry ${i + 1} must be a JSON object, ${shape}`);
    for (const [member, value] of Object.entries(item)) leaf(`${n}.${member}`, value);
  });
  return out;
}

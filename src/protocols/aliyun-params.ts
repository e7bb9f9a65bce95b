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
  members: Readonly<Record<string, ScalarSpec>>;
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
}

export type ParamSpec = ScalarSpec | ListSpec;
export type ParamTable = Readonly<Record<string, ParamSpec>>;

type ScalarOf<S> = S extends { type: "boolean" } ? boolean : S extends { type: "integer" } ? number : string;
type StructOf<M> = { [K in keyof M]?: ScalarOf<M[K]> };
type SpecOf<S> = S extends { type: "list"; member: infer M }
  ? M extends { type: "struct"; members: infer Ms }
    ? StructOf<Ms>[]
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

/**
 * Decodes `params` (names already percent-decoded) by `table`. Names the table does not know are
 * ignored, as Alibaba's gateway ignores parameters an API does not declare; a known name spelled
 * wrongly below its top level (`Tag.0.Key`, `Tag.x.Key`, `Tag.1.Colour`, `RegionId.1`) is refused.
 */
export function decodeParams<T extends ParamTable>(table: T, params: Map<string, string>): ParamsOf<T> {
  const out: Record<string, unknown> = {};
  const lists = new Map<string, Map<number, Map<string, string> | string>>();
  for (const [name, raw] of params) {
    if (COMMON_PARAMS.has(name)) continue;
    if ([...raw].length > MAX_PARAM_CHARS)
      throw invalidParameter(name, `it is longer than ${MAX_PARAM_CHARS} characters`);
    const dot = name.indexOf(".");
    const head = dot < 0 ? name : name.slice(0, dot);
    const spec = Object.hasOwn(table, head) ? table[head] : undefined;
    if (!spec) continue;
    if (spec.type !== "list") {
      if (dot >= 0) throw invalidParameter(name, `${head} is not a list`);
      out[head] = scalar(name, raw, spec);
      continue;
    }
    const rest = dot < 0 ? "" : name.slice(dot + 1);
    const dot2 = rest.indexOf(".");
    const index = dot2 < 0 ? rest : rest.slice(0, dot2);
    if (!INDEX_RE.test(index)) {
      throw invalidParameter(
        name,
        `${head} is a list: name its entries ${head}.1 to ${head}.${spec.max}${spec.member.type === "struct" ? ".<member>" : ""}`,
      );
    }
    if (above(index, spec.max)) {
      if (spec.tooMany) throw fail(spec.tooMany);
      throw invalidParameter(name, `${head} takes at most ${spec.max} entries`);
    }
    const n = Number(index);
    let entries = lists.get(head);
    if (!entries) {
      entries = new Map();
      lists.set(head, entries);
    }
    const member = spec.member;
    if (member.type === "struct") {
      const raw2 = dot2 < 0 ? "" : rest.slice(dot2 + 1);
      const field = Object.hasOwn(member.members, raw2)
        ? raw2
        : member.aliases && Object.hasOwn(member.aliases, raw2)
          ? member.aliases[raw2]
          : undefined;
      if (!field) {
        throw invalidParameter(
          name,
          `the entries of ${head} have the members ${Object.keys(member.members).join(", ")}`,
        );
      }
      let entry = entries.get(n);
      if (typeof entry !== "object") {
        entry = new Map();
        entries.set(n, entry);
      }
      // `Tag.1.Key` and its alias `Tag.1.key` together would be one member given twice.
      if (entry.has(field)) throw invalidParameter(name, `${head}.${n}.${field} is given more than once`);
      entry.set(field, raw);
    } else {
      if (dot2 >= 0) throw invalidParameter(name, `the entries of ${head} are plain values`);
      entries.set(n, raw);
    }
  }

  for (const [head, entries] of lists) {
    const spec = table[head] as ListSpec;
    const count = entries.size;
    const decoded: unknown[] = [];
    for (let i = 1; i <= count; i++) {
      const entry = entries.get(i);
      if (entry === undefined) {
        const given = [...entries.keys()].sort((a, b) => a - b).find((k) => k > i);
        throw invalidParameter(
          `${head}.${i}`,
          `${head}.${given} is given but ${head}.${i} is not: number the entries from 1 without gaps`,
        );
      }
      if (typeof entry === "string") {
        decoded.push(scalar(`${head}.${i}`, entry, spec.member as ScalarSpec));
      } else {
        const members = (spec.member as StructSpec).members;
        const obj: Record<string, unknown> = {};
        for (const [field, raw] of entry)
          obj[field] = scalar(`${head}.${i}.${field}`, raw, members[field] as ScalarSpec);
        decoded.push(obj);
      }
    }
    out[head] = decoded;
  }

  for (const [head, spec] of Object.entries(table)) {
    // An empty value is no value: `RegionId=` is as missing as no RegionId at all.
    if (!spec.required || (out[head] !== undefined && out[head] !== "")) continue;
    if (spec.missing) throw fail(spec.missing);
    throw missingParameter(spec.type === "list" ? `${head}.1` : head);
  }
  return out as ParamsOf<T>;
}

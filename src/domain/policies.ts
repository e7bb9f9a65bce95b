import { DomainError } from "../errors.ts";

/**
 * Tag policies as AWS Organizations writes them: a document `{"tags": {<policy key>: {tag_key,
 * tag_value, enforced_for}}}` whose settings carry inheritance operators, attached to the root, units
 * and accounts of the organization tree. The effective policy of an account merges the policies from
 * the root down to the account (AWS Organizations User Guide, "Inheritance operators").
 */

export const VALUE_OPERATORS = ["@@assign", "@@append", "@@remove"] as const;
export type ValueOperator = (typeof VALUE_OPERATORS)[number];
const CHILD_CONTROL = "@@operators_allowed_for_child_policies";
const CHILD_CONTROL_VALUES = new Set(["@@all", "@@none", ...VALUE_OPERATORS]);
export const SETTINGS = ["tag_key", "tag_value", "enforced_for"] as const;
export type Setting = (typeof SETTINGS)[number];

/** Limits of a tag policy: "the maximum size of a tag policy is 10,000 characters" (Organizations quotas). */
export const POLICY_RULES = {
  maxContentChars: 10_000,
  nameRe: /^[A-Za-z0-9_.+=@-]{1,128}$/,
  maxTargets: 100,
  policyKeyLength: 128,
  valueLength: 256,
} as const;

/** One setting of one policy key in one document: the operators it uses, and its child control. */
export interface SettingDoc {
  assign?: string | string[];
  append?: string[];
  remove?: string[];
  /** What policies below may do to this setting; absent: everything. */
  childOps?: Set<string>;
}

export interface PolicyKeyDoc {
  key: string;
  childOps?: Set<string>;
  settings: Partial<Record<Setting, SettingDoc>>;
}

/** A validated policy document. */
export interface PolicyDoc {
  childOps?: Set<string>;
  keys: PolicyKeyDoc[];
}

/** A stored policy: its name, its document as JSON text, and where it is attached. */
export interface StoredTagPolicy {
  name: string;
  content: string;
  targets: string[];
  updatedAt: number;
}

function invalid(message: string): DomainError {
  return new DomainError("InvalidParameter", message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function childOps(v: unknown, where: string): Set<string> {
  if (
    !Array.isArray(v) ||
    v.length === 0 ||
    v.some((o) => typeof o !== "string" || !CHILD_CONTROL_VALUES.has(o))
  ) {
    throw invalid(
      `${where}.${CHILD_CONTROL} must be a non-empty list of @@all, @@none, @@assign, @@append, @@remove`,
    );
  }
  const ops = new Set(v as string[]);
  if (ops.size > 1 && (ops.has("@@all") || ops.has("@@none"))) {
    throw invalid(`${where}.${CHILD_CONTROL}: @@all and @@none stand alone`);
  }
  if (ops.has("@@all")) return new Set(VALUE_OPERATORS);
  if (ops.has("@@none")) return new Set();
  return ops;
}

const ENFORCED_RE = /^[a-z0-9-]+:([A-Za-z0-9_.\-/]+)$/;

function stringList(v: unknown, where: string, check: (s: string) => string | null): string[] {
  if (!Array.isArray(v)) throw invalid(`${where} must be a list of strings`);
  return v.map((s, i) => {
    if (typeof s !== "string") throw invalid(`${where}[${i}] must be a string`);
    const problem = check(s);
    if (problem) throw invalid(`${where}[${i}] ${problem}`);
    return s;
  });
}

function checkValue(s: string): string | null {
  if (s.length > POLICY_RULES.valueLength) return `is longer than ${POLICY_RULES.valueLength} characters`;
  // "You can use only one wildcard for each tag value."
  if (s.split("*").length > 2) return "may contain at most one * wildcard";
  return null;
}

function checkEnforced(s: string): string | null {
  return ENFORCED_RE.test(s)
    ? null
    : "must be service:resourceType or service:ALL_SUPPORTED (ec2:instance, kms:ALL_SUPPORTED)";
}

/**
 * Validates a tag policy document (an object, or its JSON text) and returns it in parsed form.
 * Everything a client can get wrong is an InvalidParameter DomainError naming the place.
 */
export function parsePolicy(content: unknown): PolicyDoc {
  let doc = content;
  if (typeof content === "string") {
    try {
      doc = JSON.parse(content);
    } catch (err) {
      throw invalid(`content is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (!isObject(doc)) throw invalid('content must be a JSON object starting with "tags"');
  if (JSON.stringify(doc).length > POLICY_RULES.maxContentChars) {
    throw invalid(`content is longer than ${POLICY_RULES.maxContentChars} characters`);
  }
  for (const k of Object.keys(doc))
    if (k !== "tags") throw invalid(`content.${k} is not a tag policy element`);
  const tags = doc.tags;
  if (!isObject(tags)) throw invalid("content.tags must be an object of policy keys");
  const out: PolicyDoc = { keys: [] };
  const seen = new Set<string>();
  for (const [key, node] of Object.entries(tags)) {
    if (key === CHILD_CONTROL) {
      out.childOps = childOps(node, "tags");
      continue;
    }
    const where = `tags.${key}`;
    if (key.length < 1 || key.length > POLICY_RULES.policyKeyLength) {
      throw invalid(`${where}: a policy key is 1 to ${POLICY_RULES.policyKeyLength} characters`);
    }
    if (key.startsWith("@@")) throw invalid(`${where} is not a known operator`);
    if (seen.has(key.toLowerCase()))
      throw invalid(`${where}: the policy key is given twice (keys ignore case)`);
    seen.add(key.toLowerCase());
    if (!isObject(node)) throw invalid(`${where} must be an object`);
    const keyDoc: PolicyKeyDoc = { key, settings: {} };
    for (const [name, setting] of Object.entries(node)) {
      if (name === CHILD_CONTROL) {
        keyDoc.childOps = childOps(setting, where);
        continue;
      }
      if (!(SETTINGS as readonly string[]).includes(name)) {
        throw invalid(`${where}.${name} is not a tag policy setting (tag_key, tag_value, enforced_for)`);
      }
      keyDoc.settings[name as Setting] = parseSetting(name as Setting, setting, `${where}.${name}`, key);
    }
    out.keys.push(keyDoc);
  }
  return out;
}

function parseSetting(name: Setting, v: unknown, where: string, policyKey: string): SettingDoc {
  if (!isObject(v)) throw invalid(`${where} must be an object of operators`);
  const out: SettingDoc = {};
  for (const [op, arg] of Object.entries(v)) {
    if (op === CHILD_CONTROL) {
      out.childOps = childOps(arg, where);
      continue;
    }
    if (!(VALUE_OPERATORS as readonly string[]).includes(op)) {
      throw invalid(`${where}.${op} is not an operator (@@assign, @@append, @@remove)`);
    }
    if (name === "tag_key") {
      // A single-valued setting: "@@append" and "@@remove" work on multi-valued settings only.
      if (op !== "@@assign") throw invalid(`${where}: tag_key takes only @@assign`);
      if (typeof arg !== "string") throw invalid(`${where}.@@assign must be a string`);
      if (arg.toLowerCase() !== policyKey.toLowerCase()) {
        throw invalid(`${where}.@@assign must be the policy key ${policyKey} in some capitalization`);
      }
      out.assign = arg;
      continue;
    }
    const list = stringList(arg, `${where}.${op}`, name === "tag_value" ? checkValue : checkEnforced);
    if (op === "@@assign") out.assign = list;
    else if (op === "@@append") out.append = list;
    else out.remove = list;
  }
  return out;
}

/** The effective rule for one key: required capitalization, allowed values, enforced resource types. */
export interface EffectiveKey {
  tagKey: string;
  /** Absent: any value, including none. */
  values?: string[];
  /** `service:type` or `service:ALL_SUPPORTED`; empty: reported only. */
  enforcedFor: string[];
}

/** An account's effective policy, by lower-cased policy key. */
export type EffectivePolicy = Map<string, EffectiveKey>;

/** The organization as the configuration gives it. */
export interface OrgTree {
  id: string;
  root: string;
  units: { id: string; parent: string; accounts: string[] }[];
  /** Accounts directly under the root. */
  accounts: string[];
}

/** The node ids from the root down to the account (root, units…, account), or undefined when it is not a member. */
export function pathOf(org: OrgTree, accountId: string, management?: string): string[] | undefined {
  const unit = org.units.find((u) => u.accounts.includes(accountId));
  if (!unit) {
    if (org.accounts.includes(accountId) || accountId === management) return [org.root, accountId];
    return undefined;
  }
  const parents = new Map(org.units.map((u) => [u.id, u.parent]));
  const chain: string[] = [unit.id];
  let at = unit.parent;
  while (at !== org.root) {
    // The configuration rejects unknown parents; a cycle ends the walk instead of looping.
    if (chain.includes(at) || !parents.has(at)) break;
    chain.unshift(at);
    at = parents.get(at) as string;
  }
  return [org.root, ...chain, accountId];
}

/** Every member account of the organization. */
export function memberAccounts(org: OrgTree, management?: string): string[] {
  const all = new Set([...org.accounts, ...org.units.flatMap((u) => u.accounts)]);
  if (management) all.add(management);
  return [...all];
}

interface Building {
  key: string;
  tagKey?: string;
  values?: string[];
  enforcedFor?: string[];
}

/**
 * Merges the policies attached along `path` (root first) into the effective policy.
 * - `@@assign` replaces the inherited setting, `@@append` adds values, `@@remove` takes values out.
 * - `@@operators_allowed_for_child_policies` on the document, a policy key or a setting limits what
 *   policies attached *below* that node may do there; an operator a parent does not allow is ignored
 *   (the inherited setting stands). Restrictions only narrow: several at one level intersect.
 * - Several policies on one node apply in name order; appended values from each are all kept.
 */
export function effectivePolicy(
  path: string[],
  policies: { name: string; doc: PolicyDoc; targets: string[] }[],
): EffectivePolicy {
  const byName = [...policies].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const state = new Map<string, Building>();
  /** Allowed operators by scope: "", "<key>", "<key>\u0000<setting>"; absent = all. */
  const allowed = new Map<string, Set<string>>();
  const permits = (key: string, setting: Setting, op: string) =>
    [allowed.get(""), allowed.get(key), allowed.get(`${key}\u0000${setting}`)].every((s) => !s || s.has(op));

  for (const node of path) {
    const restrictions: [string, Set<string>][] = [];
    for (const policy of byName) {
      if (!policy.targets.includes(node)) continue;
      if (policy.doc.childOps) restrictions.push(["", policy.doc.childOps]);
      for (const k of policy.doc.keys) {
        const key = k.key.toLowerCase();
        if (k.childOps) restrictions.push([key, k.childOps]);
        for (const setting of SETTINGS) {
          const s = k.settings[setting];
          if (!s) continue;
          if (s.childOps) restrictions.push([`${key}\u0000${setting}`, s.childOps]);
          const b = state.get(key) ?? { key };
          if (s.assign !== undefined && permits(key, setting, "@@assign")) assign(b, setting, s.assign);
          if (s.append && permits(key, setting, "@@append")) {
            const field = setting === "tag_value" ? "values" : "enforcedFor";
            b[field] = [...new Set([...(b[field] ?? []), ...s.append])];
          }
          if (s.remove && permits(key, setting, "@@remove")) {
            const field = setting === "tag_value" ? "values" : "enforcedFor";
            const gone = new Set(s.remove);
            if (b[field]) b[field] = b[field].filter((v) => !gone.has(v));
          }
          if (b.tagKey !== undefined || b.values !== undefined || b.enforcedFor !== undefined)
            state.set(key, b);
        }
      }
    }
    for (const [scope, ops] of restrictions) {
      const before = allowed.get(scope);
      allowed.set(scope, before ? new Set([...before].filter((o) => ops.has(o))) : ops);
    }
  }
  const out: EffectivePolicy = new Map();
  for (const [key, b] of [...state].sort(([a], [c]) => (a < c ? -1 : 1))) {
    out.set(key, {
      // "If the tag key is not defined, lowercase is the default case treatment."
      tagKey: b.tagKey ?? key,
      ...(b.values !== undefined ? { values: b.values } : {}),
      enforcedFor: b.enforcedFor ?? [],
    });
  }
  return out;
}

function assign(b: Building, setting: Setting, value: string | string[]) {
  if (setting === "tag_key") b.tagKey = value as string;
  else if (setting === "tag_value") b.values = [...(value as string[])];
  else b.enforcedFor = [...(value as string[])];
}

/** The effective policy as AWS shows one: the merged settings, no operators. */
export function effectiveDocument(policy: EffectivePolicy): unknown {
  const tags: Record<string, unknown> = {};
  for (const [key, e] of policy) {
    tags[key] = {
      tag_key: e.tagKey,
      ...(e.values !== undefined ? { tag_value: e.values } : {}),
      ...(e.enforcedFor.length > 0 ? { enforced_for: e.enforcedFor } : {}),
    };
  }
  return { tags };
}

import { codePoints } from "../validation.ts";
import type { Tag } from "./resource.ts";

/** Tag rules of one dialect, as data. */
export interface TagRules {
  maxTagsPerResource: number;
  keyLength: { min: number; max: number };
  valueLength: { min: number; max: number };
  /** Key prefixes callers may not set or remove, compared without regard to case. */
  reservedKeyPrefixes: readonly string[];
  /** Value prefixes callers may not set, compared without regard to case. */
  reservedValuePrefixes?: readonly string[];
  /** Text neither a key nor a value may contain, compared without regard to case. */
  forbiddenSubstrings?: readonly string[];
}

/** From the seed: 50 tags per resource, key 1–128, value 0–256, `aws:` reserved for AWS use. */
export const AWS_TAG_RULES: TagRules = {
  maxTagsPerResource: 50,
  keyLength: { min: 1, max: 128 },
  valueLength: { min: 0, max: 256 },
  reservedKeyPrefixes: ["aws:"],
};

/**
 * Alibaba Cloud (ECS AddTags): 20 tags per resource, key 1–128, value 0–128; neither "can start with
 * aliyun or acs:" nor "contain http:// or https://".
 */
export const ALIBABA_TAG_RULES: TagRules = {
  maxTagsPerResource: 20,
  keyLength: { min: 1, max: 128 },
  valueLength: { min: 0, max: 128 },
  reservedKeyPrefixes: ["aliyun", "acs:"],
  reservedValuePrefixes: ["aliyun", "acs:"],
  forbiddenSubstrings: ["http://", "https://"],
};

export const TAG_RULES_BY_CLOUD = { aws: AWS_TAG_RULES, alibaba: ALIBABA_TAG_RULES } as const;

export function reservedPrefixOf(key: string, rules: TagRules): string | undefined {
  const lower = key.toLowerCase();
  return rules.reservedKeyPrefixes.find((p) => lower.startsWith(p));
}

/** Problems with one tag under the rules, as messages; empty when the tag is acceptable. */
export function tagProblems(tag: Tag, rules: TagRules): string[] {
  const problems: string[] = [];
  const keyLen = codePoints(tag.key);
  if (keyLen < rules.keyLength.min || keyLen > rules.keyLength.max) {
    problems.push(`Tag key must be ${rules.keyLength.min} to ${rules.keyLength.max} characters long`);
  }
  const valueLen = codePoints(tag.value);
  if (valueLen < rules.valueLength.min || valueLen > rules.valueLength.max) {
    problems.push(`Tag value must be ${rules.valueLength.min} to ${rules.valueLength.max} characters long`);
  }
  const reserved = reservedPrefixOf(tag.key, rules);
  if (reserved)
    problems.push(`Tag keys beginning with '${reserved}' are reserved and cannot be used: ${tag.key}`);
  return problems;
}

/** A check for `TagChange.check`: refuses a result with more tags than a resource may carry. */
export function perResourceLimit(rules: TagRules): (current: Tag[], next: Tag[]) => string | null {
  return (_current, next) =>
    next.length > rules.maxTagsPerResource
      ? `The resource would have ${next.length} tags; a resource can have at most ${rules.maxTagsPerResource} tags`
      : null;
}

/** Why a key (or value) breaks the rules beyond its length, or undefined when it does not. */
export function textProblem(text: string, prefixes: readonly string[], rules: TagRules): string | undefined {
  const lower = text.toLowerCase();
  const prefix = prefixes.find((p) => lower.startsWith(p));
  if (prefix) return `it starts with '${prefix}'`;
  const bad = rules.forbiddenSubstrings?.find((s) => lower.includes(s));
  if (bad) return `it contains '${bad}'`;
  return undefined;
}

import type { PatternFilter, TagFilterSpec, TextMatch } from "../store/store.ts";

/**
 * What a tag filter accepts, as predicates on one resource's tags. The store drives listings from its
 * indexes and checks the remaining filters with these; handlers that already hold a resource's tags
 * (Alibaba's ListTagResources over `ResourceId.N`) check them the same way.
 */

export function textMatches(m: TextMatch, s: string): boolean {
  return m.kind === "exact" ? s === m.text : m.kind === "prefix" ? s.startsWith(m.text) : s.includes(m.text);
}

/** An AWS-style filter: the key, with one of the values (any value when none are given). */
export function tagFilterMatches(f: TagFilterSpec, tags: ReadonlyMap<string, string>): boolean {
  const value = tags.get(f.key);
  return value !== undefined && (f.values.length === 0 || f.values.includes(value));
}

/** A pattern filter: some key the key pattern matches, with a value one of the value patterns matches. */
export function patternFilterMatches(f: PatternFilter, tags: ReadonlyMap<string, string>): boolean {
  if (f.key.kind === "exact") {
    const value = tags.get(f.key.text);
    return value !== undefined && valueMatches(f, value);
  }
  for (const [key, value] of tags) if (textMatches(f.key, key) && valueMatches(f, value)) return true;
  return false;
}

/** A module function, not a closure per call: this runs per listed resource, and tsx names closures. */
function valueMatches(f: PatternFilter, v: string): boolean {
  if (f.values.length === 0) return true;
  for (const m of f.values) if (textMatches(m, v)) return true;
  return false;
}

/**
 * Alibaba's pattern syntax: `env*` a prefix, `*env*` a substring, anything else the exact text (a
 * lone leading `*`, as in `*env`, is taken literally: suffix matching is not offered).
 */
export function parsePattern(text: string): TextMatch {
  if (text.length >= 2 && text.startsWith("*") && text.endsWith("*"))
    return { kind: "substring", text: text.slice(1, -1) };
  if (text.endsWith("*") && !text.startsWith("*")) return { kind: "prefix", text: text.slice(0, -1) };
  return { kind: "exact", text };
}

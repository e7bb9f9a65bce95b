import type { TagdConfig } from "../config.ts";
import type { AccountPolicy, PolicySource, TagRefusal } from "../store/store.ts";
import {
  type EffectiveKey,
  type EffectivePolicy,
  effectivePolicy,
  memberAccounts,
  type OrgTree,
  type PolicyDoc,
  parsePolicy,
  pathOf,
  type StoredTagPolicy,
} from "./policies.ts";
import type { Noncompliance, Tag } from "./resource.ts";

/**
 * Whether a value is one the policy allows: an exact match, or a match of a value with one `*`
 * wildcard ("300*", "*@example.com"; `*` alone allows any value).
 */
export function valueAllowed(allowed: string[], value: string): boolean {
  return allowed.some((pattern) => {
    const star = pattern.indexOf("*");
    if (star < 0) return pattern === value;
    const head = pattern.slice(0, star);
    const tail = pattern.slice(star + 1);
    return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
  });
}

function enforcedOn(rule: EffectiveKey, resource: { service: string; resourceType: string }): boolean {
  return rule.enforcedFor.some(
    (t) => t === `${resource.service}:ALL_SUPPORTED` || t === `${resource.service}:${resource.resourceType}`,
  );
}

/**
 * A resource is noncompliant when a key the policy names is on it with another capitalization than
 * the policy's `tag_key`, or with a value outside `tag_value`. Untagged resources and keys the policy
 * does not name are compliant ("Untagged resources and tags that are not defined in the tag policy are
 * not evaluated for compliance"). Every resource type is evaluated; `enforced_for` decides only where
 * noncompliant changes are refused.
 */
export function evaluate(policy: EffectivePolicy, tags: Tag[]): Noncompliance | null {
  const noncompliantKeys: string[] = [];
  const keysWithNoncompliantValues: string[] = [];
  for (const { key, value } of tags) {
    const rule = policy.get(key.toLowerCase());
    if (!rule) continue;
    if (key !== rule.tagKey) noncompliantKeys.push(key);
    if (rule.values !== undefined && !valueAllowed(rule.values, value)) keysWithNoncompliantValues.push(key);
  }
  if (noncompliantKeys.length === 0 && keysWithNoncompliantValues.length === 0) return null;
  return { noncompliantKeys, keysWithNoncompliantValues };
}

/**
 * Enforcement: setting a tag whose key the policy enforces on the resource's type fails when the
 * key's capitalization or its value breaks the policy. Keys the change does not set are not judged:
 * a change that only adds compliant tags is not refused for an older noncompliant tag.
 */
export function refusal(
  policy: EffectivePolicy,
  set: Tag[],
  resource: { service: string; resourceType: string },
): TagRefusal | null {
  for (const { key, value } of set) {
    const rule = policy.get(key.toLowerCase());
    if (!rule || !enforcedOn(rule, resource)) continue;
    if (key !== rule.tagKey) {
      return {
        kind: "PolicyViolation",
        message: `The tag policy requires the tag key '${rule.tagKey}' with that capitalization, not '${key}'.`,
      };
    }
    if (rule.values !== undefined && !valueAllowed(rule.values, value)) {
      return {
        kind: "PolicyViolation",
        message: `The tag policy does not allow the specified value for the following tag key: '${key}'.`,
      };
    }
  }
  return null;
}

class CompiledPolicy implements AccountPolicy {
  constructor(readonly policy: EffectivePolicy) {}
  evaluate(tags: Tag[]) {
    return evaluate(this.policy, tags);
  }
  refuse(set: Tag[], resource: { service: string; resourceType: string }) {
    return refusal(this.policy, set, resource);
  }
}

interface Compiled {
  revision: number;
  byAccount: Map<string, CompiledPolicy>;
  /** Whether any policy is attached anywhere in the organization. */
  anyAttached: boolean;
}

/**
 * The organization's tag policies as the store and the handlers use them: each stored revision's
 * policies compiled once into an effective policy per member account. Every instance compiles from
 * the store, so a policy changed through one instance applies on all of them at the next revision.
 */
export class PolicyEngine implements PolicySource {
  readonly org?: OrgTree;
  readonly management?: string;
  private compiled?: Compiled;
  private loading?: { revision: number; promise: Promise<Compiled> };

  constructor(config: TagdConfig) {
    if (config.organization) {
      this.org = config.organization;
      const ids = new Set(memberAccounts(config.organization));
      // The management account is the organization's; one outside the tree stands under the root.
      this.management = config.accounts.find((a) => a.management && (ids.has(a.id) || a.cloud === "aws"))?.id;
    }
  }

  /** Every member account of the organization (none without one). */
  members(): string[] {
    return this.org ? memberAccounts(this.org, this.management) : [];
  }

  /** The node ids from the root to the account, or undefined when it is not a member. */
  path(accountId: string): string[] | undefined {
    return this.org ? pathOf(this.org, accountId, this.management) : undefined;
  }

  /** Whether `id` names the root, a unit or a member account. */
  targetType(id: string): "ROOT" | "OU" | "ACCOUNT" | undefined {
    if (!this.org) return undefined;
    if (id === this.org.root) return "ROOT";
    if (this.org.units.some((u) => u.id === id)) return "OU";
    return this.members().includes(id) ? "ACCOUNT" : undefined;
  }

  /** Member accounts at or below a target (the root, a unit, or an account). */
  accountsUnder(target: string): string[] {
    return this.members().filter((a) => this.path(a)?.includes(target));
  }

  compile(policies: StoredTagPolicy[]): Map<string, EffectivePolicy> {
    const docs: { name: string; doc: PolicyDoc; targets: string[] }[] = policies.map((p) => ({
      name: p.name,
      doc: parsePolicy(p.content),
      targets: p.targets,
    }));
    const out = new Map<string, EffectivePolicy>();
    for (const account of this.members()) {
      const path = this.path(account) as string[];
      const effective = effectivePolicy(path, docs);
      if (effective.size > 0) out.set(account, effective);
    }
    return out;
  }

  /** The effective policies at a revision: compiled once per revision, one load at a time. */
  async at(revision: number, load: () => Promise<StoredTagPolicy[]>): Promise<Compiled> {
    if (this.compiled && this.compiled.revision >= revision) return this.compiled;
    if (this.loading && this.loading.revision >= revision) return this.loading.promise;
    const promise = load().then((policies) => {
      const byAccount = new Map(
        [...this.compile(policies)].map(([account, p]) => [account, new CompiledPolicy(p)] as const),
      );
      const compiled = { revision, byAccount, anyAttached: policies.some((p) => p.targets.length > 0) };
      if (!this.compiled || this.compiled.revision < revision) this.compiled = compiled;
      return compiled;
    });
    this.loading = { revision, promise };
    try {
      return await promise;
    } finally {
      if (this.loading?.promise === promise) this.loading = undefined;
    }
  }

  forAccount(
    accountId: string,
    revision: number,
    load: () => Promise<StoredTagPolicy[]>,
  ): AccountPolicy | null | Promise<AccountPolicy | null> {
    // The hot path: a compiled revision answers without a promise.
    const compiled = this.compiled;
    if (compiled && compiled.revision >= revision) return compiled.byAccount.get(accountId) ?? null;
    return this.at(revision, load).then((c) => c.byAccount.get(accountId) ?? null);
  }
}

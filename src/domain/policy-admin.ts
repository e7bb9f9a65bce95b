import { DomainError } from "../errors.ts";
import type { TagStore } from "../store/store.ts";
import type { PolicyEngine } from "./compliance.ts";
import {
  type EffectivePolicy,
  effectiveDocument,
  POLICY_RULES,
  parsePolicy,
  type StoredTagPolicy,
} from "./policies.ts";

/** Resources evaluated per write transaction when a policy change re-evaluates an account. */
export const REEVALUATE_BATCH = 500;

function same(a: EffectivePolicy | undefined, b: EffectivePolicy | undefined): boolean {
  return JSON.stringify(a ? effectiveDocument(a) : null) === JSON.stringify(b ? effectiveDocument(b) : null);
}

/**
 * Creating, replacing and deleting tag policies, each followed by the re-evaluation of every account
 * whose effective policy it changed, so compliance is current when the call returns.
 */
export class TagPolicies {
  constructor(
    private readonly store: TagStore,
    private readonly engine: PolicyEngine,
    private readonly now: () => number,
  ) {}

  /** Validates and stores a policy; returns it as stored. */
  async put(name: string, content: unknown, targets: string[]): Promise<StoredTagPolicy> {
    if (!this.engine.org) {
      throw new DomainError(
        "InvalidParameter",
        "No organization is configured: tag policies need the configuration's organization",
      );
    }
    if (!POLICY_RULES.nameRe.test(name)) {
      throw new DomainError(
        "InvalidParameter",
        "A policy name is 1 to 128 letters, digits and the characters _ . + = @ -",
      );
    }
    parsePolicy(content);
    const unknown = targets.filter((t) => this.engine.targetType(t) === undefined);
    if (unknown.length > 0) {
      throw new DomainError(
        "InvalidParameter",
        `targets ${unknown.join(", ")}: neither the root, an organizational unit nor a member account`,
      );
    }
    const policy: StoredTagPolicy = {
      name,
      content: typeof content === "string" ? JSON.stringify(JSON.parse(content)) : JSON.stringify(content),
      targets: [...new Set(targets)],
      updatedAt: this.now(),
    };
    await this.change(async () => this.store.putTagPolicy(policy));
    return policy;
  }

  /** Deletes a policy; false when there is none of that name. */
  async delete(name: string): Promise<boolean> {
    let found = false;
    await this.change(async () => {
      const revision = await this.store.deleteTagPolicy(name);
      found = revision !== null;
      return revision;
    });
    return found;
  }

  async get(name: string): Promise<StoredTagPolicy | undefined> {
    return (await this.store.listTagPolicies()).find((p) => p.name === name);
  }

  list(): Promise<StoredTagPolicy[]> {
    return this.store.listTagPolicies();
  }

  /** The effective policy of a member account as AWS shows one, or undefined for a non-member. */
  async effective(accountId: string): Promise<{ path: string[]; policy: unknown | null } | undefined> {
    const path = this.engine.path(accountId);
    if (!path) return undefined;
    const compiled = this.engine.compile(await this.store.listTagPolicies());
    const policy = compiled.get(accountId);
    return { path, policy: policy ? effectiveDocument(policy) : null };
  }

  private async change(write: () => Promise<number | null>): Promise<void> {
    const before = this.engine.compile(await this.store.listTagPolicies());
    const revision = await write();
    if (revision === null) return;
    const after = this.engine.compile(await this.store.listTagPolicies());
    const changed = this.engine.members().filter((a) => !same(before.get(a), after.get(a)));
    await reevaluateAccounts(this.store, changed);
    await this.store.markEvaluated(revision);
  }
}

/** Re-evaluates every resource of the accounts, a bounded batch per write transaction. */
export async function reevaluateAccounts(store: TagStore, accounts: string[]): Promise<void> {
  for (const account of accounts) {
    let cursor = await store.reevaluate(account, undefined, REEVALUATE_BATCH);
    while (cursor !== undefined) cursor = await store.reevaluate(account, cursor, REEVALUATE_BATCH);
  }
}

/**
 * After a start: when the last policy change was not followed through (an instance stopped while
 * re-evaluating), every member account is evaluated again.
 */
export async function catchUpCompliance(store: TagStore, engine: PolicyEngine): Promise<void> {
  const { revision, evaluated } = await store.policyRevision();
  if (evaluated >= revision) return;
  await reevaluateAccounts(store, engine.members());
  await store.markEvaluated(revision);
}

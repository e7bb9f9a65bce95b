import type { TagdConfig } from "./config.ts";
import type { PolicyEngine } from "./domain/compliance.ts";
import type { InventoryMode } from "./domain/inventory.ts";
import type { TokenSigner } from "./domain/pagination.ts";
import type { TagPolicies } from "./domain/policy-admin.ts";
import type { TagStore } from "./store/store.ts";

/** What every action handler may use: the store and the domain's shared services, never HTTP. */
export interface Deps {
  store: TagStore;
  tokens: TokenSigner;
  inventory: InventoryMode;
  config: TagdConfig;
  /** The organization and its effective tag policies. */
  policies: PolicyEngine;
  /** Tag policy changes, each followed by the re-evaluation of the accounts it affects. */
  tagPolicies: TagPolicies;
  /** The compliance report worker of this instance: `kick` begins a report started here at once. */
  reports: { kick(): void };
  now(): number;
}

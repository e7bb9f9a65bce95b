import type { StoredTagPolicy } from "../domain/policies.ts";
import type {
  HeldResource,
  Noncompliance,
  ResourceImport,
  ResourceRecord,
  Tag,
  TaggedResource,
} from "../domain/resource.ts";

export type { Noncompliance, ResourceImport, StoredTagPolicy };

/**
 * The storage contract. Two engines implement it (SQLite, PostgreSQL) and pass one test suite.
 * Every method is scoped by account, so the schema can be distributed by account.
 * Cursors are opaque strings owned by the store; the domain signs them into pagination tokens.
 */
export interface TagStore {
  readonly engine: "sqlite" | "postgres";
  /** Runs the numbered migrations, every one or (an upgrade under test) those up to `upTo`. */
  migrate(upTo?: string): Promise<void>;
  close(): Promise<void>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;

  /** Returns the stored value, storing `value` first if the key is absent (first writer wins). */
  getOrSetMeta(key: string, value: string): Promise<string>;

  // Inventory
  /**
   * Registers resources in bulk, all or nothing; an existing resource gets the given resource group
   * and state (when not null) and the given tags merged into its own.
   */
  upsertResources(items: ResourceImport[]): Promise<ImportResult>;
  deleteResources(keys: ResourceKey[]): Promise<number>;
  listInventory(query: InventoryQuery): Promise<Page<ResourceRecord>>;
  /** The registered resources among `names`, by name, each with its current tags. */
  getResources(accountId: string, names: string[]): Promise<Map<string, HeldResource>>;

  // Tags
  /** Applies each change in its own transaction; one change failing leaves the others in place. */
  applyTagChanges(accountId: string, changes: TagChange[]): Promise<TagChangeResult[]>;
  queryTagged(query: TaggedQuery): Promise<Page<TaggedResource>>;
  /** Tagged or previously tagged resources among `names`, in the given region, with their tags. */
  getTagged(
    accountId: string,
    region: string,
    names: string[],
    withCompliance?: boolean,
  ): Promise<TaggedResource[]>;
  listTagKeys(query: KeyQuery): Promise<Page<string>>;
  listTagValues(query: ValueQuery): Promise<Page<string>>;
  /**
   * Alibaba's DescribeTags: the (key, value) pairs a service's resources carry in a scope, in key and
   * value order, each with its resources counted by resource type. Page-numbered, as that API is.
   */
  describeTagPairs(query: TagPairQuery): Promise<{ total: number; items: TagPairCount[] }>;

  /**
   * Records a signature nonce of an access key until `expiresAt` (ms). False when the nonce is
   * already recorded and not yet expired: the request is a replay. Expired nonces are purged.
   */
  rememberNonce(accessKeyId: string, nonce: string, expiresAt: number, now: number): Promise<boolean>;

  /** Background jobs (compliance reports): state in the store, each claimed by one instance. */
  readonly jobs: JobQueue;

  // Tag policies and compliance
  /**
   * Where the store finds an account's effective tag policy inside its write transactions: every tag
   * write then keeps the resource's noncompliance record current. Without one, nothing is evaluated.
   */
  setPolicySource(source: PolicySource): void;
  /** Stores (creates or replaces) a policy and raises the policy revision; returns the new revision. */
  putTagPolicy(policy: StoredTagPolicy): Promise<number>;
  /** Deletes a policy; the new policy revision, or null when there was no such policy. */
  deleteTagPolicy(name: string): Promise<number | null>;
  listTagPolicies(): Promise<StoredTagPolicy[]>;
  /** The policy revision (raised by every policy change) and the last one fully evaluated. */
  policyRevision(): Promise<{ revision: number; evaluated: number }>;
  /** Records that every account was evaluated under `revision` (ignored when a newer one exists). */
  markEvaluated(revision: number): Promise<void>;
  /**
   * Evaluates one batch of an account's tagged resources (at most `limit`, from `cursor` on) under
   * the current policy, in a write transaction; returns where to continue, or undefined when done.
   */
  reevaluate(
    accountId: string,
    cursor: ScanCursor | undefined,
    limit: number,
  ): Promise<ScanCursor | undefined>;
  /**
   * What a compliance summary reads, as of one moment: the policy revision, and per account and
   * (region, service, type) the tagged resources and how many are noncompliant. On PostgreSQL one statement reads the policy revision and the
   * accounts' revisions, and results computed under the same revisions are reused.
   */
  complianceOverview(
    accountIds: string[],
    filters: Omit<ComplianceCountQuery, "accountId">,
  ): Promise<ComplianceOverview>;
  /** An account's tagged resources with their compliance, a page at a time (reports). */
  scanCompliance(
    accountId: string,
    cursor: ScanCursor | undefined,
    limit: number,
  ): Promise<{ rows: ComplianceRow[]; next?: ScanCursor }>;
}

/**
 * Where a walk over an account's tagged resources stands: Region by Region, by rid within each — one
 * range of the (account, region, tagged, rid) index per page, on either engine.
 */
export interface ScanCursor {
  region: string;
  rid: number;
}

/** An account's effective tag policy, as the store applies it in a write transaction. */
export interface AccountPolicy {
  /** The resource's noncompliance with these tags, or null when it complies. */
  evaluate(tags: Tag[], resource: { service: string; resourceType: string }): Noncompliance | null;
  /** A refusal when setting `set` would make the resource noncompliant for a key enforced on its type. */
  refuse(set: Tag[], resource: { service: string; resourceType: string }): TagRefusal | null;
}

export interface PolicySource {
  /**
   * The account's policy at policy revision `revision` (null: no policy applies). `load` reads the
   * stored policies in the caller's transaction, for a revision not seen before.
   */
  forAccount(
    accountId: string,
    revision: number,
    load: () => Promise<StoredTagPolicy[]>,
  ): AccountPolicy | null | Promise<AccountPolicy | null>;
}

export interface ComplianceCountQuery {
  accountId: string;
  regions?: string[];
  typeFilters?: TypeFilterSpec[];
  /** Only resources carrying one of these keys. */
  tagKeys?: string[];
}

export interface ComplianceOverview {
  policyRevision: number;
  counts: Map<string, ComplianceCount[]>;
}

export interface ComplianceCount {
  region: string;
  service: string;
  resourceType: string;
  resources: number;
  noncompliant: number;
}

export interface ComplianceRow {
  rid: number;
  name: string;
  region: string;
  service: string;
  resourceType: string;
  tagsJson: string;
  noncompliance: Noncompliance | null;
}

export type JobState = "pending" | "running" | "succeeded" | "failed";

export interface Job {
  accountId: string;
  id: string;
  kind: string;
  state: JobState;
  payload: string;
  result: string | null;
  error: string | null;
  createdAt: number;
  claimedBy: string | null;
  claimedAt: number | null;
  finishedAt: number | null;
}

export interface JobQueue {
  /** Adds a pending job, unless the account already has an unfinished job of that kind. */
  enqueue(job: {
    accountId: string;
    id: string;
    kind: string;
    payload: string;
    now: number;
  }): Promise<{ ok: true } | { ok: false; active: Job }>;
  /**
   * Claims the oldest pending job of a kind — or a running one whose claim is older than
   * `leaseMs` (its instance died) — for `worker`. Two instances never claim the same job.
   */
  claim(kind: string, worker: string, now: number, leaseMs: number): Promise<Job | undefined>;
  /** Extends a claim; false when the job is no longer this worker's. */
  renew(accountId: string, id: string, worker: string, now: number): Promise<boolean>;
  /** Records the outcome; false when the job is no longer this worker's. */
  finish(
    accountId: string,
    id: string,
    worker: string,
    outcome: { state: "succeeded"; result: string } | { state: "failed"; error: string },
    now: number,
  ): Promise<boolean>;
  /** The account's most recent job of a kind. */
  latest(accountId: string, kind: string): Promise<Job | undefined>;
}

export interface ImportResult {
  created: number;
  updated: number;
  /** Tags written (new keys and changed values). */
  tags: number;
}

export interface ResourceKey {
  accountId: string;
  name: string;
}

export interface Page<T> {
  items: T[];
  /** Present when more items may follow. */
  cursor?: string;
}

export interface InventoryQuery {
  accountId?: string;
  cloud?: string;
  region?: string;
  service?: string;
  resourceType?: string;
  limit: number;
  cursor?: string;
}

export interface TagChange {
  /** The resource as it would be registered when `register` is true and it is not yet known. */
  resource: ResourceRecord;
  register: boolean;
  set: Tag[];
  remove: string[];
  /** Remove every tag (Alibaba's `All=true`). */
  removeAll?: boolean;
  /**
   * Runs inside the transaction on the resource as it is locked and its current and resulting tags;
   * returning a refusal (a message: `TagLimitExceeded`) refuses the change: per-resource limits, key
   * states, policy enforcement.
   */
  check?: (current: Tag[], next: Tag[], resource: ResourceRecord) => TagRefusal | string | null;
  /**
   * Refuse the change (kind PolicyViolation) when a tag it sets breaks the account's effective tag
   * policy for a key enforced on the resource's type; checked after `check`, before any write.
   */
  enforce?: boolean;
}

export interface TagRefusal {
  kind: "TagLimitExceeded" | "InvalidState" | "PolicyViolation";
  message: string;
}

export type TagChangeResult =
  | { ok: true; resource: ResourceRecord; tags: Tag[] }
  | { ok: false; kind: "ResourceNotFound" | TagRefusal["kind"]; message: string };

/** How a text is matched: exactly, by prefix (`env*`) or by substring (`*env*`). Case-sensitive. */
export interface TextMatch {
  kind: "exact" | "prefix" | "substring";
  text: string;
}

/**
 * Alibaba's fuzzy tag filter: the resource carries a key that `key` matches with a value that one of
 * `values` matches (any value when empty).
 */
export interface PatternFilter {
  key: TextMatch;
  values: TextMatch[];
}

export interface TagFilterSpec {
  key: string;
  /** Empty: any value, including none. */
  values: string[];
}

export interface TypeFilterSpec {
  service: string;
  /** Absent: every type of the service. */
  resourceType?: string;
}

export interface TaggedQuery {
  accountId: string;
  region: string;
  /** Every one must pass (AND); within one, any of its values (OR). */
  tagFilters: TagFilterSpec[];
  /** Further filters that must all pass, by pattern. */
  patternFilters?: PatternFilter[];
  typeFilters: TypeFilterSpec[];
  /**
   * Only the resources of this resource group, tagged or not (Alibaba's `acs:rm:rgId` query); without
   * it, only resources that are or were tagged.
   */
  resourceGroupId?: string;
  /** Only resources noncompliant with the account's effective tag policy. */
  noncompliantOnly?: boolean;
  /** Attach each listed resource's compliance (`TaggedResource.compliance`). */
  withCompliance?: boolean;
  /** Maximum resources on the page. */
  limit: number;
  /** Maximum tags on the page, a resource without tags counting as one; never splits a resource. */
  tagLimit?: number;
  cursor?: string;
}

export interface KeyQuery {
  accountId: string;
  region: string;
  limit: number;
  cursor?: string;
}

export interface ValueQuery extends KeyQuery {
  key: string;
}

export interface TagPairQuery {
  accountId: string;
  region: string;
  service: string;
  resourceType?: string;
  /** Only these: a key without a value means every value of the key. */
  tags?: { key: string; value?: string }[];
  offset: number;
  limit: number;
}

export interface TagPairCount {
  key: string;
  value: string;
  /** Resources carrying the pair, by resource type (types with none are absent). */
  counts: Record<string, number>;
}

export type Cloud = "aws" | "alibaba";

/** A resource as the inventory knows it. `name` is its canonical name: the ARN, or the ACS name. */
export interface ResourceRecord {
  cloud: Cloud;
  accountId: string;
  region: string;
  partition: string;
  service: string;
  resourceType: string;
  resourceId: string;
  name: string;
  resourceGroupId: string | null;
  state: string | null;
}

export interface Tag {
  key: string;
  value: string;
}

/**
 * A resource as the inventory holds it, with the tags it carries now (none when never tagged), read
 * in the same statement: a write's checks and a one-resource listing need no second read.
 */
export interface HeldResource extends ResourceRecord {
  /** Sorted by key. */
  tags: Tag[];
}

/** A resource with its tags, as the listing queries return it: what a listing shows, no more. */
export interface TaggedResource {
  accountId: string;
  region: string;
  service: string;
  resourceType: string;
  name: string;
  /** The tags as the AWS APIs encode them, `[{"Key":…,"Value":…}]` sorted by key. */
  tagsJson: string;
  /** The same tags, decoded. */
  readonly tags: Tag[];
  /** Present when asked for: null when the resource complies with the account's effective tag policy. */
  compliance?: Noncompliance | null;
}

/** How a resource breaks its account's effective tag policy (the API's ComplianceDetails). */
export interface Noncompliance {
  /** Keys on the resource whose capitalization differs from the policy's `tag_key`. */
  noncompliantKeys: string[];
  /** Keys on the resource whose value the policy's `tag_value` does not allow. */
  keysWithNoncompliantValues: string[];
}

/** A resource to register in bulk, with tags to merge into its own. */
export interface ResourceImport {
  resource: ResourceRecord;
  /** Tags to set on the resource (other tags stay). A later duplicate key wins. */
  tags?: Tag[];
  /** Refuse the whole import (DomainError InvalidParameter) if the resource would carry more. */
  maxTags?: number;
}

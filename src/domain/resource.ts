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
}

/** A resource to register in bulk, with tags to merge into its own. */
export interface ResourceImport {
  resource: ResourceRecord;
  /** Tags to set on the resource (other tags stay). A later duplicate key wins. */
  tags?: Tag[];
  /** Refuse the whole import (DomainError InvalidParameter) if the resource would carry more. */
  maxTags?: number;
}

import { DomainError } from "../errors.ts";
import { storableText } from "../validation.ts";
import { impliedRegion, parseArn } from "./arn.ts";
import { isKmsKey, isKmsKeyState, KMS_KEY_STATES } from "./kms-keys.ts";
import type { Cloud, ResourceImport, ResourceRecord } from "./resource.ts";
import { TAG_RULES_BY_CLOUD, tagProblems } from "./tags.ts";

export type InventoryMode = "open" | "strict";

/** A resource as the admin API and the configuration file describe it. */
export interface ResourceInput {
  arn?: string;
  cloud?: Cloud;
  accountId?: string;
  region?: string;
  partition?: string;
  service?: string;
  resourceType?: string;
  resourceId?: string;
  resourceGroupId?: string;
  state?: string;
  /** Tags to set when registering (system tags such as `aws:cloudformation:…` included). */
  tags?: Record<string, string>;
}

const AWS_ACCOUNT = /^\d{12}$/;
const ALIBABA_ACCOUNT = /^\d{16}$/;

export function cloudOfAccount(accountId: string): Cloud | null {
  if (AWS_ACCOUNT.test(accountId)) return "aws";
  if (ALIBABA_ACCOUNT.test(accountId)) return "alibaba";
  return null;
}

function bad(message: string): DomainError {
  return new DomainError("InvalidParameter", message);
}

const TEXT_FIELDS = [
  "arn",
  "accountId",
  "region",
  "partition",
  "service",
  "resourceType",
  "resourceId",
  "resourceGroupId",
  "state",
] as const satisfies readonly (keyof ResourceInput)[];

/** What `storableText` refuses; the AWS and Alibaba APIs refuse the same. */
const UNSTORABLE = "must not contain the NUL character or unpaired surrogates";

/**
 * Turns an inventory entry into a record. An ARN gives every part; `region` and `accountId` beside it
 * fill in what the ARN leaves out (`arn:aws:s3:::bucket`) and must agree with what it names.
 * Without an ARN, the parts build the canonical name: an ARN on AWS, an ACS name on Alibaba.
 */
export function resolveResourceInput(input: ResourceInput): ResourceRecord {
  for (const field of TEXT_FIELDS) {
    const value = input[field];
    if (value !== undefined && !storableText(value)) throw bad(`${field} ${UNSTORABLE}`);
  }
  if (input.arn !== undefined) {
    const parsed = parseArn(input.arn);
    if (!parsed.ok) throw bad(`arn ${input.arn} ${parsed.reason}`);
    const arn = parsed.value;
    const accountId = arn.accountId || input.accountId;
    const region = impliedRegion(arn) ?? input.region;
    if (!accountId) throw bad(`arn ${input.arn} names no account: give "accountId" beside it`);
    if (!region) throw bad(`arn ${input.arn} names no region: give "region" beside it`);
    if (input.accountId !== undefined && input.accountId !== accountId) {
      throw bad(`accountId ${input.accountId} does not match the account in ${input.arn}`);
    }
    if (input.region !== undefined && input.region !== region) {
      throw bad(`region ${input.region} does not match the region of ${input.arn}`);
    }
    if (cloudOfAccount(accountId) !== "aws")
      throw bad(`accountId ${accountId} is not a 12-digit AWS account id`);
    // A KMS key's state decides what the KMS API lets callers do with it: only KMS's own states.
    if (input.state !== undefined && isKmsKey(arn) && !isKmsKeyState(input.state)) {
      throw bad(`state ${input.state} is not a KMS key state (${KMS_KEY_STATES.join(", ")})`);
    }
    return {
      cloud: "aws",
      accountId,
      region,
      partition: arn.partition,
      service: arn.service,
      resourceType: arn.resourceType,
      resourceId: arn.resourceId,
      name: arn.arn,
      resourceGroupId: input.resourceGroupId ?? null,
      state: input.state ?? null,
    };
  }
  const { accountId, region, service, resourceId } = input;
  if (!accountId || !region || !service || !resourceId) {
    throw bad(
      'a resource needs "arn", or "cloud", "accountId", "region", "service", "resourceType" and "resourceId"',
    );
  }
  const cloud = input.cloud ?? cloudOfAccount(accountId);
  if (!cloud || cloudOfAccount(accountId) !== cloud) {
    throw bad(
      `accountId ${accountId} is not a valid ${cloud ?? "AWS (12 digits) or Alibaba (16 digits)"} account id`,
    );
  }
  const resourceType = input.resourceType ?? "";
  const partition = input.partition ?? (cloud === "aws" ? "aws" : "acs");
  const path = resourceType ? `${resourceType}/${resourceId}` : resourceId;
  if (cloud === "aws") {
    const arn = `arn:${partition}:${service}:${region}:${accountId}:${path}`;
    return resolveResourceInput({ arn, resourceGroupId: input.resourceGroupId, state: input.state });
  }
  return {
    cloud,
    accountId,
    region,
    partition,
    service,
    resourceType,
    resourceId,
    name: `acs:${service}:${region}:${accountId}:${path}`,
    resourceGroupId: input.resourceGroupId ?? null,
    state: input.state ?? null,
  };
}

/** The clouds' tag rules without reserved prefixes, made once rather than per tag imported. */
const INVENTORY_TAG_RULES = {
  aws: { ...TAG_RULES_BY_CLOUD.aws, reservedKeyPrefixes: [] },
  alibaba: { ...TAG_RULES_BY_CLOUD.alibaba, reservedKeyPrefixes: [] },
} as const;

/**
 * An inventory entry with its tags, checked against its cloud's lengths and per-resource limit.
 * Reserved prefixes are allowed here: the inventory may carry the cloud's own system tags.
 */
export function resolveImport(input: ResourceInput): ResourceImport {
  const resource = resolveResourceInput(input);
  const rules = TAG_RULES_BY_CLOUD[resource.cloud];
  const tags = Object.entries(input.tags ?? {}).map(([key, value]) => ({ key, value }));
  for (const tag of tags) {
    const problems = tagProblems(tag, INVENTORY_TAG_RULES[resource.cloud]);
    if (!storableText(tag.key) || !storableText(tag.value))
      problems.push(`Tag keys and values ${UNSTORABLE}`);
    if (problems.length > 0)
      throw new DomainError("InvalidParameter", `tag ${JSON.stringify(tag.key)}: ${problems.join("; ")}`);
  }
  if (tags.length > rules.maxTagsPerResource) {
    throw new DomainError(
      "InvalidParameter",
      `${tags.length} tags; a resource can have at most ${rules.maxTagsPerResource}`,
    );
  }
  return { resource, tags, maxTags: rules.maxTagsPerResource };
}

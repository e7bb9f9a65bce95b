import { awsService, PARTITION_HOME_REGION, partitionOfRegion } from "./aws-services.ts";

/** An AWS ARN split into its parts. `region` and `accountId` are "" when the ARN leaves them out. */
export interface ParsedArn {
  arn: string;
  partition: string;
  service: string;
  region: string;
  accountId: string;
  /** "" when the resource part is a bare name and the service has no implied type. */
  resourceType: string;
  resourceId: string;
}

export type ArnResult = { ok: true; value: ParsedArn } | { ok: false; reason: string };

const PARTITIONS = new Set(Object.keys(PARTITION_HOME_REGION));
const SERVICE_RE = /^[a-z0-9][a-z0-9-]*$/;
const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ACCOUNT_RE = /^\d{12}$/;

/**
 * Parses `arn:partition:service:region:account-id:resource`, where the resource part is one of
 * `type/id` (ec2 `instance/i-…`, nested paths such as IAM `role/path/name`), `type:id` (lambda
 * `function:name`, logs `log-group:/aws/…`), `/type/id` (API Gateway) or a bare name (S3 buckets,
 * SNS topics). The type is whatever comes before the first `/` or `:`.
 */
export function parseArn(arn: string): ArnResult {
  if (arn.length > 1011) return { ok: false, reason: "is longer than 1011 characters" };
  const parts = arn.split(":");
  if (parts.length < 6 || parts[0] !== "arn") {
    return { ok: false, reason: "is not of the form arn:partition:service:region:account-id:resource" };
  }
  const [, partition = "", service = "", region = "", accountId = ""] = parts;
  const resource = parts.slice(5).join(":");
  if (!PARTITIONS.has(partition)) {
    return { ok: false, reason: `has an unknown partition "${partition}" (aws, aws-cn or aws-us-gov)` };
  }
  if (!SERVICE_RE.test(service)) return { ok: false, reason: "has an invalid service namespace" };
  if (region !== "") {
    if (!REGION_RE.test(region)) return { ok: false, reason: `has an invalid region "${region}"` };
    if (partitionOfRegion(region) !== partition) {
      return { ok: false, reason: `has region ${region}, which is not in partition ${partition}` };
    }
  }
  if (accountId !== "" && !ACCOUNT_RE.test(accountId)) {
    return { ok: false, reason: "has an account id that is not 12 digits" };
  }
  if (resource === "") return { ok: false, reason: "has an empty resource part" };
  const { resourceType, resourceId } = splitResource(service, resource);
  if (resourceId === "") return { ok: false, reason: "has an empty resource id" };
  return { ok: true, value: { arn, partition, service, region, accountId, resourceType, resourceId } };
}

function splitResource(service: string, resource: string): { resourceType: string; resourceId: string } {
  const body = resource.startsWith("/") ? resource.slice(1) : resource;
  const slash = body.indexOf("/");
  const colon = body.indexOf(":");
  const cut = slash < 0 ? colon : colon < 0 ? slash : Math.min(slash, colon);
  const info = awsService(service);
  if (cut < 0) return { resourceType: info?.bareType ?? "", resourceId: body };
  if (info?.pathType) return { resourceType: info.pathType, resourceId: body };
  return { resourceType: body.slice(0, cut), resourceId: body.slice(cut + 1) };
}

/** Why the Resource Groups Tagging API cannot tag this resource, or null when it can. */
export function unsupportedReason(arn: ParsedArn): string | null {
  const info = awsService(arn.service);
  if (!info) return `service ${arn.service} is not supported by the Resource Groups Tagging API`;
  if (info.types && !info.types.includes(arn.resourceType)) {
    return `resource type ${arn.service}:${arn.resourceType || "(none)"} is not supported by the Resource Groups Tagging API`;
  }
  return null;
}

/** The region a resource lives in when its ARN names none: the partition's home for global services. */
export function impliedRegion(arn: ParsedArn): string | null {
  if (arn.region !== "") return arn.region;
  if (awsService(arn.service)?.global) return PARTITION_HOME_REGION[arn.partition] ?? null;
  return null;
}

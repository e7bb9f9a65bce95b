import type { Deps } from "../../deps.ts";
import { impliedRegion, type ParsedArn, parseArn, unsupportedReason } from "../../domain/arn.ts";
import { awsService } from "../../domain/aws-services.ts";
import { AWS_TOKEN_TTL_MS } from "../../domain/pagination.ts";
import type { ResourceRecord, TaggedResource } from "../../domain/resource.ts";
import { type AwsJsonContext, EncodedJson, encodeOnce } from "../../protocols/aws-json.ts";
import type { TagChangeResult, TypeFilterSpec } from "../../store/store.ts";
import { constraintViolation, invalidParameter } from "./errors.ts";

export type TaggingContext = AwsJsonContext<Deps>;

export interface FailureInfo {
  ErrorCode: string;
  StatusCode: number;
  ErrorMessage: string;
}

export function failure(message: string, code = "InvalidParameterException", status = 400): FailureInfo {
  return { ErrorCode: code, StatusCode: status, ErrorMessage: message };
}

/**
 * Parses every ARN of a request. A malformed ARN, or one from another partition than the one the
 * request was sent to, fails the whole request (the seed's InvalidParameterException cases).
 */
export function parseArns(ctx: TaggingContext, arns: string[]): ParsedArn[] {
  return [...new Set(arns)].map((arn) => {
    const parsed = parseArn(arn);
    if (!parsed.ok) throw invalidParameter(`${arn} is not a valid ARN: it ${parsed.reason}`);
    if (parsed.value.partition !== ctx.partition) {
      throw invalidParameter(
        `The partition ${parsed.value.partition} of ${arn} does not match the partition ${ctx.partition} of the Region ${ctx.region}`,
      );
    }
    return parsed.value;
  });
}

export interface ResolvedTargets {
  records: ResourceRecord[];
  failures: Record<string, FailureInfo>;
}

/**
 * Turns the ARNs of a TagResources/UntagResources call into resource records. Per-resource failures
 * (another account, another Region, an unsupported type) go to `failures`; the account check comes
 * first and looks only at the ARN, so nothing about another account's resources is revealed.
 */
export async function resolveTargets(ctx: TaggingContext, arns: ParsedArn[]): Promise<ResolvedTargets> {
  const failures: Record<string, FailureInfo> = {};
  const mine: ParsedArn[] = [];
  for (const arn of arns) {
    if (arn.accountId !== "" && arn.accountId !== ctx.accountId) {
      failures[arn.arn] = failure(
        `${arn.arn} belongs to another account; you can only tag resources of account ${ctx.accountId}`,
      );
      continue;
    }
    const unsupported = unsupportedReason(arn);
    if (unsupported) {
      failures[arn.arn] = failure(`${arn.arn} cannot be tagged: ${unsupported}`);
      continue;
    }
    mine.push(arn);
  }
  // An ARN that names its Region (or a global service's) gives every part of the record: the store
  // reads the row again inside the write transaction anyway. Only ARNs without one (S3 buckets) need
  // the inventory to say where the resource lives.
  const regionless = mine.filter((a) => impliedRegion(a) === null).map((a) => a.arn);
  const known =
    regionless.length > 0
      ? await ctx.deps.store.getResources(ctx.accountId, regionless)
      : new Map<string, ResourceRecord>();
  const records: ResourceRecord[] = [];
  for (const arn of mine) {
    const existing = known.get(arn.arn);
    const region = existing?.region ?? impliedRegion(arn) ?? ctx.region;
    if (region !== ctx.region) {
      failures[arn.arn] = failure(
        `${arn.arn} is in Region ${region}; you can only tag resources in the Region of the request, ${ctx.region}`,
      );
      continue;
    }
    records.push(
      existing ?? {
        cloud: "aws",
        accountId: ctx.accountId,
        region,
        partition: arn.partition,
        service: arn.service,
        resourceType: arn.resourceType,
        resourceId: arn.resourceId,
        name: arn.arn,
        resourceGroupId: null,
        state: null,
      },
    );
  }
  return { records, failures };
}

/** Adds the store's per-resource refusals to the request's `FailedResourcesMap`. */
export function collectFailures(
  results: TagChangeResult[],
  records: ResourceRecord[],
  failures: Record<string, FailureInfo>,
  ignoreNotFound = false,
): Record<string, FailureInfo> {
  results.forEach((result, i) => {
    const name = records[i]?.name;
    if (result.ok || name === undefined) return;
    if (result.kind === "ResourceNotFound") {
      if (!ignoreNotFound) failures[name] = failure(`The resource ${name} does not exist`);
    } else {
      failures[name] = failure(result.message);
    }
  });
  return failures;
}

/**
 * A resource's ComplianceDetails: compliant unless the store holds a noncompliance record for it
 * (kept current with every tag and policy change). An account without an effective tag policy has
 * only compliant resources.
 */
export function compliance(r: TaggedResource) {
  const found = r.compliance ?? null;
  return {
    ComplianceStatus: found === null,
    NoncompliantKeys: found?.noncompliantKeys ?? [],
    KeysWithNoncompliantValues: found?.keysWithNoncompliantValues ?? [],
  };
}

/** One ResourceTagMapping as JSON text: the store's tag JSON goes out as it is, unparsed. */
export function mappingJson(r: TaggedResource, includeCompliance: boolean): string {
  const details = includeCompliance ? `,"ComplianceDetails":${JSON.stringify(compliance(r))}` : "";
  return `{"ResourceARN":${JSON.stringify(r.name)},"Tags":${r.tagsJson}${details}}`;
}

/**
 * Opens a request's PaginationToken into the store's cursor. An empty token is a first request
 * ("Leave this parameter empty in your initial request").
 */
export function openToken(ctx: TaggingContext, token: string | undefined, query: string): string | undefined {
  if (token === undefined || token === "") return undefined;
  return ctx.deps.tokens.open(
    token,
    { accountId: ctx.accountId, region: ctx.region, query },
    AWS_TOKEN_TTL_MS,
  );
}

/** The response's PaginationToken: `""` on the last page, as the seed's examples show. */
export function pageToken(ctx: TaggingContext, cursor: string | undefined, query: string): string {
  if (cursor === undefined) return "";
  return ctx.deps.tokens.issue({ accountId: ctx.accountId, region: ctx.region, query }, cursor);
}

/** A page of strings (GetTagKeys, GetTagValues) as the response body, its list encoded once. */
export function stringPage(token: string, field: string, items: readonly string[]): EncodedJson {
  return new EncodedJson([
    `{"PaginationToken":${JSON.stringify(token)},"${field}":`,
    encodeOnce(items, JSON.stringify),
    "}",
  ]);
}

/** `service` or `service:resourceType`, the strings embedded in ARNs. */
export function parseTypeFilters(filters: string[]): TypeFilterSpec[] {
  const out = new Map<string, TypeFilterSpec>();
  for (const filter of filters) {
    const colon = filter.indexOf(":");
    const service = colon < 0 ? filter : filter.slice(0, colon);
    const resourceType = colon < 0 ? undefined : filter.slice(colon + 1);
    if (service === "" || resourceType === "") {
      throw invalidParameter(`Invalid resource type filter '${filter}': use service or service:resourceType`);
    }
    if (!awsService(service)) throw invalidParameter(`Unsupported service=${service}`);
    out.set(filter, resourceType === undefined ? { service } : { service, resourceType });
  }
  return [...out.values()];
}

/** "You can call this operation only from the organization's management account and from the us-east-1 Region." */
export const COMPLIANCE_REGION = "us-east-1";

/**
 * The organization-wide compliance actions' preconditions, in the order the seed lists them: an
 * organization whose management account calls, from us-east-1, with a tag policy attached somewhere.
 * Each unmet one is a ConstraintViolationException (400).
 */
export async function requireOrganizationCompliance(ctx: TaggingContext): Promise<void> {
  requireManagementCaller(ctx);
  await requireAttachedPolicy(ctx, (await ctx.deps.store.policyRevision()).revision);
}

/** The organization's management account, calling from the compliance Region. */
export function requireManagementCaller(ctx: TaggingContext): void {
  const { policies } = ctx.deps;
  if (!policies.org) {
    throw constraintViolation(
      "The account is not in an organization: tag policies need one (see the configuration)",
    );
  }
  if (ctx.accountId !== policies.management) {
    throw constraintViolation("You can call this operation only from the organization's management account");
  }
  if (ctx.region !== COMPLIANCE_REGION) {
    throw constraintViolation(`You can call this operation only from the ${COMPLIANCE_REGION} Region`);
  }
}

/**
 * A policy attached somewhere, as of policy revision `revision`: the policy engine knows it from the
 * policies it compiles once per revision.
 */
export async function requireAttachedPolicy(ctx: TaggingContext, revision: number): Promise<void> {
  const { anyAttached } = await ctx.deps.policies.at(revision, () => ctx.deps.store.listTagPolicies());
  if (!anyAttached) {
    throw constraintViolation(
      "You must have a tag policy attached to the organization root, an OU, or an account",
    );
  }
}

import { type DomainError, ServiceError } from "../../errors.ts";
import type { ErrorSpec } from "../../protocols/aliyun-params.ts";
import { invalidParameter } from "../../protocols/aliyun-rpc.ts";

/**
 * ECS's tagging error catalogue: code → HTTP status and message, as the AddTags (seed 000) and
 * ListTagResources (seed 001) tables give them. Messages that name `Tag.n` are sent with the
 * index of the offending entry (`The specified Tag.3.Key is not valid.`), so the caller learns which
 * parameter it was.
 */
export const ECS_ERRORS = {
  "InvalidTagKey.Malformed": { status: 400, message: "The specified Tag.n.Key is not valid." },
  "InvalidTagValue.Malformed": { status: 400, message: "The specified Tag.n.Value is not valid." },
  "OperationDenied.QuotaExceed": {
    status: 400,
    message: "The quota of tags on resource is beyond permitted range.",
  },
  "InvalidTag.Mismatch": {
    status: 400,
    message: "The specified Tag.n.Key and Tag.n.Value are not match.",
  },
  InvalidTagCount: { status: 400, message: "The specified tags are beyond the permitted range." },
  "Duplicate.TagKey": { status: 400, message: "The Tag.N.Key contain duplicate key." },
  "InvalidResourceId.NotSupported": {
    status: 403,
    message: "The specified ResourceId does not support tagging.",
  },
  "QuotaExceed.Tags": { status: 403, message: "%s" },
  "TagKey.Duplication": {
    status: 403,
    message: "The TagKey has duplication with others, case-insensitive.",
  },
  "InvalidRegionId.NotFound": { status: 404, message: "The specified RegionId does not exist." },
  "InvalidResourceId.NotFound": {
    status: 404,
    message: "The specified ResourceId is not found in our records.",
  },
  "InvalidResourceType.NotFound": {
    status: 404,
    message: "The ResourceType provided does not exist in our records.",
  },
  "NumberExceed.ResourceIds": {
    status: 400,
    message: "The ResourceIds parameter's number is exceed , Valid : 50.",
  },
  "NumberExceed.Tags": { status: 400, message: "The Tags parameter's number is exceed , Valid : 20." },
  "MissingParameter.ResourceIds": {
    status: 404,
    message: "The parameter - ResourceIds.N should not be null.",
  },
  "MissingParameter.ResourceType": {
    status: 404,
    message: "The parameter - ResourceType should not be null.",
  },
  "MissingParameter.Tags": { status: 404, message: "The parameter - Tags should not be null." },
  "MissingParameter.RegionId": { status: 404, message: "The parameter - RegionId should not be null." },
  // ListTagResources (seed 001).
  "InvalidDefaultResourceGroup.NotSupported": {
    status: 400,
    message: "The specified parameter Tag is not support for default resource group.",
  },
  "InvalidTag.NotSupported": {
    status: 400,
    message: "You can only specify Tag for either resource tag or resource group.",
  },
  "InvalidTags.MalFormed": {
    status: 400,
    message: "The tags must be empty, when the tagFilters is not empty.",
  },
  "InvalidParameter.TagValue": {
    status: 400,
    message: "The specified Tag.n.Value needs its Tag.n.Key: a tag value cannot be searched for alone.",
  },
  "BothEmpty.TagsAndResources": {
    status: 403,
    message: "The specified Tags and ResourcesIds are not allow to both empty.",
  },
  "NumberExceed.TagValues": {
    status: 403,
    message: "The number of the specified TagValues is beyond permitted range, the max is 5.",
  },
  "InvalidTagFilter.Malformed": { status: 403, message: "The specified TagFilter is not valid." },
  "Invalid.NextToken": { status: 403, message: "The specified NextToken is not valid." },
  "PermissionDenied.TagOwnerUid": {
    status: 403,
    message: "The specified operator not have permission to set TagOwnerUid value.",
  },
  "PermissionDenied.TagOwnerBid": {
    status: 403,
    message: "The specified operator not have permission to set TagOwnerBid value.",
  },
  "PermissionDenied.Scope": {
    status: 403,
    message: "The specified operator not have permission to set Scope value.",
  },
  // Enforcement of a tag policy: the ECS references name no code for it; tagd's own, in ECS's style.
  "OperationDenied.TagPolicy": { status: 403, message: "The tags do not comply with the tag policy: %s" },
  // The ListTagResources table gives the store being unreachable as 500, not the gateway's 503.
  ServiceUnavailable: { status: 500, message: "The service is unavailable, please try again later." },
} as const satisfies Record<string, { status: number; message: string }>;

export type EcsErrorCode = keyof typeof ECS_ERRORS;

/** The catalogue entry as the parameter engine takes it. */
export function ecsSpec(code: EcsErrorCode): ErrorSpec {
  return { code, ...ECS_ERRORS[code] };
}

/** An ECS error; `n` replaces the `n` / `N` of `Tag.n.Key`, `%s` takes `detail`. */
export function ecsError(code: EcsErrorCode, options: { n?: number; detail?: string } = {}): ServiceError {
  const { status, message } = ECS_ERRORS[code];
  let text: string = message;
  if (options.n !== undefined) text = text.replace(/Tag\.[nN]\./g, `Tag.${options.n}.`);
  if (text.includes("%s")) text = text.replace("%s", options.detail ?? "");
  else if (options.detail) text = `${text} ${options.detail}`;
  return new ServiceError(code, text, status);
}

/** ECS's code for each dialect-free domain failure. */
export function ecsDomainError(err: DomainError): ServiceError {
  switch (err.kind) {
    case "ResourceNotFound":
      return ecsError("InvalidResourceId.NotFound");
    case "TagLimitExceeded":
      return ecsError("QuotaExceed.Tags", { detail: err.message });
    case "PaginationTokenInvalid":
    case "PaginationTokenExpired":
      return ecsError("Invalid.NextToken");
    case "StoreUnavailable":
      return ecsError("ServiceUnavailable");
    default:
      return invalidParameter("(request)", err.message);
  }
}

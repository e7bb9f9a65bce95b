import { type DomainError, ServiceError } from "../../errors.ts";
import { invalidParameter, protocolError } from "../../protocols/aliyun-rpc.ts";

/**
 * Alibaba Cloud KMS's error catalogue for its tagging actions: code → HTTP status and message.
 * `Duplicate.TagKey` and `InvalidResourceId.NotFound` are ListTagResources' own (seed 002);
 * `Forbidden.KeyNotFound` ("The specified Key is not found.", 404), `Forbidden.AliasNotFound` (404),
 * `Forbidden.ResourceNotFound` (a secret, 404) and `Rejected.LimitExceeded` (a quota, 400) are the
 * codes KMS's API reference gives its key and secret actions. A tag breaking the rules is KMS's
 * `InvalidParameter` (400), the gateway's own, naming the parameter.
 */
export const ALIKMS_ERRORS = {
  "Duplicate.TagKey": { status: 400, message: "The specified tagKey is duplicate." },
  "InvalidResourceId.NotFound": { status: 404, message: "The specified ResourceId is not found." },
  "Forbidden.KeyNotFound": { status: 404, message: "The specified Key is not found." },
  "Forbidden.AliasNotFound": { status: 404, message: "The specified Alias is not found." },
  "Forbidden.ResourceNotFound": { status: 404, message: "The resource is not found." },
  "Rejected.LimitExceeded": { status: 400, message: "The quota of tags on the resource is exceeded." },
  // Enforcement of a tag policy: KMS's references name no code for it; tagd's own, in KMS's style.
  "Forbidden.TagPolicy": { status: 403, message: "The tags do not comply with the tag policy." },
} as const satisfies Record<string, { status: number; message: string }>;

export type AliKmsErrorCode = keyof typeof ALIKMS_ERRORS;

/** A KMS error; `detail` follows the catalogue's message. */
export function aliKmsError(code: AliKmsErrorCode, detail?: string): ServiceError {
  const { status, message } = ALIKMS_ERRORS[code];
  return new ServiceError(code, detail ? `${message} ${detail}` : message, status);
}

/** KMS's code for each dialect-free domain failure. */
export function aliKmsDomainError(err: DomainError): ServiceError {
  switch (err.kind) {
    case "ResourceNotFound":
      return aliKmsError("InvalidResourceId.NotFound");
    case "TagLimitExceeded":
      return aliKmsError("Rejected.LimitExceeded", err.message);
    case "PaginationTokenInvalid":
    case "PaginationTokenExpired":
      return invalidParameter("NextToken", "it is not a token this query issued");
    case "StoreUnavailable":
      return protocolError("ServiceUnavailable");
    default:
      return invalidParameter("(request)", err.message);
  }
}

import type { Deps } from "../../deps.ts";
import type { AwsJsonService } from "../../protocols/aws-json.ts";
import { KMS_ERRORS, kmsDomainError } from "./errors.ts";
import * as ListResourceTags from "./ListResourceTags.ts";
import * as TagResource from "./TagResource.ts";
import * as UntagResource from "./UntagResource.ts";

/** AWS KMS (2014-11-01), its tagging actions, on AWS JSON 1.1 with SigV4 scope `kms`. */
export const kmsService: AwsJsonService<Deps> = {
  name: "kms",
  targetPrefix: "TrentService",
  signingName: "kms",
  errors: KMS_ERRORS,
  validationErrorCode: "ValidationException",
  internalErrorCode: "KMSInternalException",
  unavailableErrorCode: "DependencyTimeoutException",
  domainError: kmsDomainError,
  actions: { ListResourceTags, TagResource, UntagResource },
};

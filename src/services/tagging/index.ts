import type { Deps } from "../../deps.ts";
import type { AwsJsonService } from "../../protocols/aws-json.ts";
import * as DescribeReportCreation from "./DescribeReportCreation.ts";
import { TAGGING_ERRORS, taggingDomainError } from "./errors.ts";
import * as GetComplianceSummary from "./GetComplianceSummary.ts";
import * as GetResources from "./GetResources.ts";
import * as GetTagKeys from "./GetTagKeys.ts";
import * as GetTagValues from "./GetTagValues.ts";
import * as StartReportCreation from "./StartReportCreation.ts";
import * as TagResources from "./TagResources.ts";
import * as UntagResources from "./UntagResources.ts";

/** AWS Resource Groups Tagging API, 2017-01-26, on AWS JSON 1.1 with SigV4 scope `tagging`. */
export const taggingService: AwsJsonService<Deps> = {
  name: "tagging",
  targetPrefix: "ResourceGroupsTaggingAPI_20170126",
  signingName: "tagging",
  errors: TAGGING_ERRORS,
  validationErrorCode: "InvalidParameterException",
  internalErrorCode: "InternalServiceException",
  unavailableErrorCode: "ServiceUnavailable",
  domainError: taggingDomainError,
  actions: {
    DescribeReportCreation,
    GetComplianceSummary,
    GetResources,
    GetTagKeys,
    GetTagValues,
    StartReportCreation,
    TagResources,
    UntagResources,
  },
};

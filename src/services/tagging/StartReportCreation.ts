import { randomUUID } from "node:crypto";
import { REPORT_JOB, type ReportPayload, reportTimestamp } from "../../domain/reports.ts";
import { EncodedJson } from "../../protocols/aws-json.ts";
import type { Infer, StructureShape } from "../../validation.ts";
import { requireOrganizationCompliance, type TaggingContext } from "./common.ts";
import { concurrentModification } from "./errors.ts";

export const input = {
  type: "structure",
  members: {
    S3Bucket: { type: "string", min: 3, max: 63, pattern: "[a-z0-9.-]*", required: true },
  },
} as const satisfies StructureShape;

/**
 * Starts an organization-wide compliance report: a job in the store, written by whichever instance
 * claims it (at once when this one is free). "The generated report is saved to the following
 * location: s3://example-bucket/AwsTagPolicies/o-exampleorgid/YYYY-MM-ddTHH:mm:ssZ/report.csv";
 * the seed answers "an HTTP 200 response with an empty HTTP body". A report still running refuses a
 * second one with ConcurrentModificationException.
 */
export async function handler(ctx: TaggingContext, req: Infer<typeof input>) {
  await requireOrganizationCompliance(ctx);
  const payload: ReportPayload = {
    bucket: req.S3Bucket as string,
    organizationId: ctx.deps.policies.org?.id as string,
    timestamp: reportTimestamp(ctx.deps.now()),
  };
  const queued = await ctx.deps.store.jobs.enqueue({
    accountId: ctx.accountId,
    id: randomUUID(),
    kind: REPORT_JOB,
    payload: JSON.stringify(payload),
    now: ctx.deps.now(),
  });
  if (!queued.ok) {
    throw concurrentModification(
      "A report is already being created for the organization. Try again when DescribeReportCreation no longer answers RUNNING.",
    );
  }
  ctx.deps.reports.kick();
  return new EncodedJson("");
}

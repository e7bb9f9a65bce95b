import { REPORT_JOB, REPORT_RETENTION_MS } from "../../domain/reports.ts";
import type { Infer, StructureShape } from "../../validation.ts";
import { requireOrganizationCompliance, type TaggingContext } from "./common.ts";

export const input = { type: "structure", members: {} } as const satisfies StructureShape;

/**
 * The state of the latest StartReportCreation: RUNNING (pending or being written), SUCCEEDED with
 * its S3Location, FAILED with an ErrorMessage (the bucket is missing or not writable), or NO REPORT
 * when none was started — or finished — in the last 90 days.
 */
export async function handler(ctx: TaggingContext, _req: Infer<typeof input>) {
  await requireOrganizationCompliance(ctx);
  const job = await ctx.deps.store.jobs.latest(ctx.accountId, REPORT_JOB);
  const now = ctx.deps.now();
  if (!job) return { Status: "NO REPORT" };
  if (job.finishedAt !== null && now - job.finishedAt > REPORT_RETENTION_MS) return { Status: "NO REPORT" };
  switch (job.state) {
    case "succeeded":
      return { Status: "SUCCEEDED", S3Location: job.result ?? undefined };
    case "failed":
      return { Status: "FAILED", ErrorMessage: job.error ?? undefined };
    default:
      return { Status: "RUNNING" };
  }
}

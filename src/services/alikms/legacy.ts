import type { ParamTable } from "../../protocols/aliyun-params.ts";

/**
 * The parameters that name the resource of a legacy action. `RegionId` is not one of the action's
 * own (the real service takes the region from its endpoint); tagd takes it when sent.
 */
export const LEGACY_TARGET = {
  RegionId: { type: "string", maxLength: 64 },
  KeyId: { type: "string", maxLength: 512 },
  SecretName: { type: "string", maxLength: 192 },
  CertificateId: { type: "string", maxLength: 128 },
} as const satisfies ParamTable;

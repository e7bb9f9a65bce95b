import type { Deps } from "../../deps.ts";
import type { RpcProduct } from "../../protocols/aliyun-rpc.ts";
import { aliKmsDomainError } from "./errors.ts";
import * as ListResourceTags from "./ListResourceTags.ts";
import * as ListTagResources from "./ListTagResources.ts";
import * as TagResource from "./TagResource.ts";
import * as TagResources from "./TagResources.ts";
import * as UntagResource from "./UntagResource.ts";
import * as UntagResources from "./UntagResources.ts";

/**
 * Alibaba Cloud KMS, API version 2016-01-20, on the RPC dialect: its tagging actions, one file each —
 * the batch `TagResources` / `UntagResources` / `ListTagResources` and the legacy single-resource
 * `TagResource` / `UntagResource` / `ListResourceTags`.
 */
export const aliKmsProduct: RpcProduct<Deps> = {
  name: "Kms",
  version: "2016-01-20",
  domainError: aliKmsDomainError,
  actions: { ListResourceTags, ListTagResources, TagResource, TagResources, UntagResource, UntagResources },
};

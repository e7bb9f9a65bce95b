import type { Deps } from "../../deps.ts";
import type { RpcProduct } from "../../protocols/aliyun-rpc.ts";
import * as AddTags from "./AddTags.ts";
import { ecsDomainError } from "./errors.ts";
import * as RemoveTags from "./RemoveTags.ts";
import * as TagResources from "./TagResources.ts";
import * as UntagResources from "./UntagResources.ts";

/**
 * Alibaba Cloud ECS, API version 2014-05-26, on the RPC dialect. ListTagResources and DescribeTags
 * join `actions` as files of their own.
 */
export const ecsProduct: RpcProduct<Deps> = {
  name: "Ecs",
  version: "2014-05-26",
  domainError: ecsDomainError,
  actions: { AddTags, RemoveTags, TagResources, UntagResources },
};

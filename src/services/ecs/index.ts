import type { Deps } from "../../deps.ts";
import type { RpcProduct } from "../../protocols/aliyun-rpc.ts";
import * as AddTags from "./AddTags.ts";
import * as DescribeTags from "./DescribeTags.ts";
import { ecsDomainError } from "./errors.ts";
import * as ListTagResources from "./ListTagResources.ts";
import * as RemoveTags from "./RemoveTags.ts";
import * as TagResources from "./TagResources.ts";
import * as UntagResources from "./UntagResources.ts";

/**
 * Alibaba Cloud ECS, API version 2014-05-26, on the RPC dialect: one file per action.
 */
export const ecsProduct: RpcProduct<Deps> = {
  name: "Ecs",
  version: "2014-05-26",
  domainError: ecsDomainError,
  actions: { AddTags, DescribeTags, ListTagResources, RemoveTags, TagResources, UntagResources },
};

import type { TagdConfig } from "../config.ts";
import type { Cloud } from "../domain/resource.ts";

export interface Principal {
  accountId: string;
  cloud: Cloud;
  accessKeyId: string;
  management: boolean;
}

export interface KeyEntry extends Principal {
  secret: string;
}

/** Access keys per cloud: an AWS request is looked up among AWS keys only, and so on. */
export class KeyRing {
  private readonly byCloud = new Map<Cloud, Map<string, KeyEntry>>([
    ["aws", new Map()],
    ["alibaba", new Map()],
  ]);

  constructor(config: TagdConfig) {
    for (const account of config.accounts) {
      for (const key of account.accessKeys) {
        this.byCloud.get(account.cloud)?.set(key.accessKeyId, {
          accountId: account.id,
          cloud: account.cloud,
          accessKeyId: key.accessKeyId,
          secret: key.secret,
          management: account.management ?? false,
        });
      }
    }
  }

  find(cloud: Cloud, accessKeyId: string): KeyEntry | undefined {
    return this.byCloud.get(cloud)?.get(accessKeyId);
  }
}

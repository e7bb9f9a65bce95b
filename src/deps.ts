import type { TagdConfig } from "./config.ts";
import type { InventoryMode } from "./domain/inventory.ts";
import type { TokenSigner } from "./domain/pagination.ts";
import type { TagStore } from "./store/store.ts";

/** What every action handler may use: the store and the domain's shared services, never HTTP. */
export interface Deps {
  store: TagStore;
  tokens: TokenSigner;
  inventory: InventoryMode;
  config: TagdConfig;
  now(): number;
}

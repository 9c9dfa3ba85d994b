/**
 * Where a transaction's reads come from: the store each time (read uncommitted, read
 * committed), or the store once per key (item cut). Either way through the session, so
 * its floor applies to them too.
 */
import { bufferEntryBytes } from "./buffer-budget";
import type { TransactionContext, TransactionReads } from "./transaction";
import type { ValueRead } from "./transport";

export class StoreReads implements TransactionReads {
  constructor(private readonly context: TransactionContext) {}

  read(keys: readonly string[]): Promise<Map<string, ValueRead | undefined>> {
    return this.context.core.read(keys);
  }
}

/** Item cut (docs/consistency.md §2.5): the first read of a key wins, absent included; later reads are served from the cache. */
export class CachedReads implements TransactionReads {
  private readonly cache = new Map<string, ValueRead | undefined>();

  constructor(private readonly context: TransactionContext) {}

  async read(keys: readonly string[]): Promise<Map<string, ValueRead | undefined>> {
    const missing = keys.filter((key) => !this.cache.has(key));
    if (missing.length > 0) {
      const fetched = await this.context.core.read(missing);
      for (const key of missing) {
        const value = fetched.get(key);
        this.context.budget.charge(key, bufferEntryBytes(key, value?.payload.length ?? 0));
        this.cache.set(key, value);
      }
    }
    return new Map(keys.map((key) => [key, this.cache.get(key)]));
  }
}

/** A nonce check as the store is asked for it (TagStore.rememberNonce). */
export interface NonceAsk {
  accessKeyId: string;
  nonce: string;
  expiresAt: number;
  now: number;
}

/**
 * Gathers the calls made in one turn of the event loop and answers them from one call of `run` (one
 * transaction, one statement), in the order asked; when `run` fails, every call of the batch fails.
 */
export class TurnBatch<T, R> {
  private pending: { item: T; resolve(result: R): void; reject(err: unknown): void }[] = [];

  constructor(private readonly run: (items: T[]) => Promise<R[]>) {}

  ask(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const results = await this.run(batch.map((p) => p.item));
      for (const [i, p] of batch.entries()) p.resolve(results[i] as R);
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

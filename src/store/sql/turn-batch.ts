/** A nonce check as the store is asked for it (TagStore.rememberNonce). */
export interface NonceAsk {
  accessKeyId: string;
  nonce: string;
  expiresAt: number;
  now: number;
}

/**
 * The earliest clock among a batch's nonces: what it may purge and take over by, so that no request of
 * the batch finds gone a row its own clock would still have refused with.
 */
export function earliestNow(batch: NonceAsk[]): number {
  let now = Number.POSITIVE_INFINITY;
  for (const b of batch) now = Math.min(now, b.now);
  return now;
}

/**
 * Gathers the calls made in one turn of the event loop and answers them from calls of `run` of at most
 * `max` items each (each run one transaction or statement for the callers), in the order asked; when
 * a run fails, every call of that run fails.
 */
export class TurnBatch<T, R> {
  private pending: { item: T; resolve(result: R): void; reject(err: unknown): void }[] = [];

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly max = Number.POSITIVE_INFINITY,
  ) {}

  ask(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const all = this.pending;
    this.pending = [];
    const runs = [];
    for (let i = 0; i < all.length; i += this.max) runs.push(this.runOne(all.slice(i, i + this.max)));
    await Promise.all(runs);
  }

  private async runOne(batch: TurnBatch<T, R>["pending"]): Promise<void> {
    try {
      const results = await this.run(batch.map((p) => p.item));
      for (const [i, p] of batch.entries()) p.resolve(results[i] as R);
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

/**
 * Where a job waits before it runs. Quick jobs (STATS, METRICS, DISCOVER, DIAGNOSTICS,
 * native STATS/DISCOVER) run at once: a slow job never holds them up. Slow jobs (UPDATE,
 * DEPLOY, ...) run in arrival order per key (a pool, or the Libra device) and at most
 * `concurrency` at a time across keys.
 *
 * Contract: `run` returns what `work` returns or rejects with what it throws; a failed job
 * does not stop the jobs queued behind it. Jobs must be submitted in arrival order: the
 * queue position is taken synchronously inside `run`.
 */
export type Lane = 'quick' | 'slow'

export class JobScheduler {
  private readonly tails = new Map<string, Promise<void>>()
  private readonly pending = new Map<string, number>()
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a whole number ≥ 1, got ${concurrency}`)
  }

  run<T>(lane: Lane, key: string, work: () => Promise<T>): Promise<T> {
    if (lane === 'quick') return Promise.resolve().then(work)
    const previous = this.tails.get(key) ?? Promise.resolve()
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1)
    const result = previous.then(async () => {
      await this.acquire()
      try {
        return await work()
      } finally {
        this.release()
      }
    })
    const tail = result.then(
      () => undefined,
      () => undefined,
    )
    this.tails.set(key, tail)
    void tail.then(() => {
      const left = (this.pending.get(key) ?? 1) - 1
      if (left > 0) this.pending.set(key, left)
      else this.pending.delete(key)
      if (this.tails.get(key) === tail) this.tails.delete(key)
    })
    return result
  }

  /** A slow job for `key` is queued or running. */
  busy(key: string): boolean {
    return this.pending.has(key)
  }

  /** Slow jobs queued or running. */
  get backlog(): number {
    let total = 0
    for (const count of this.pending.values()) total += count
    return total
  }

  /** Resolves once every slow job submitted so far has finished. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()])
  }

  private acquire(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++
      return Promise.resolve()
    }
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  private release(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.running--
  }
}

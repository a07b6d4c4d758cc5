/**
 * Runs `work` on every item, at most `limit` at a time, and resolves with the results in the
 * order of `items`. After the first failure no new item starts; the call waits for the
 * running ones to settle (so none outlives it, e.g. writing to a state file the caller is
 * about to close) and then rejects with that first error.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a whole number ≥ 1, got ${limit}`)
  const results: R[] = new Array(items.length)
  let next = 0
  let failure: {error: unknown} | undefined
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++
      try {
        results[index] = await work(items[index], index)
      } catch (error) {
        failure ??= {error}
      }
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, lane))
  if (failure) throw failure.error
  return results
}

/**
 * Runs `work` on every item, at most `limit` at a time, and never stops early: one item's
 * failure does not keep the others from running (sync and apply converge every pool they
 * can). Resolves with each item's outcome in the order of `items`.
 */
export async function settleWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  return mapWithConcurrency(items, limit, async (item, index): Promise<PromiseSettledResult<R>> => {
    try {
      return {status: 'fulfilled', value: await work(item, index)}
    } catch (reason) {
      return {status: 'rejected', reason}
    }
  })
}

import DataLoader from 'dataloader';

/** Calls gathered into one statement at most. */
export const COALESCED_BATCH_MAX = 64;

/**
 * One statement for the concurrent calls of many requests. The calls made while the event
 * loop handles one round of input (the requests whose bytes arrived together) reach `run`
 * together, in the loop's next check phase (setImmediate), at most `maxBatch` at a time;
 * `run` answers each key in order, a value or an Error of its own. Nothing is cached: each
 * call is read or written afresh, as if alone. Under load this turns N round trips, plans
 * and commits into one; an idle server's call waits one turn of the loop.
 */
export function coalesced<K, V>(run: (keys: readonly K[]) => Promise<ReadonlyArray<V | Error>>, maxBatch = COALESCED_BATCH_MAX): (key: K) => Promise<V> {
  const loader = new DataLoader<K, V, K>(run, {
    cache: false,
    maxBatchSize: maxBatch,
    batchScheduleFn: (dispatch) => setImmediate(dispatch),
  });
  return (key) => loader.load(key);
}

// An in-process mutex per key (e.g. per mirror folder): callers with the same key run one at a time.

/** Runs `task` after every earlier task with the same key has settled; tasks for other keys run freely. */
export interface KeyedLock {
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
}

export function createKeyedLock(): KeyedLock {
  // key → the tail of its queue. An entry is removed once the last queued task settles,
  // so the map holds only keys that are busy right now.
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, task: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(task, task);
      const tail = result.catch(() => {});
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
  };
}

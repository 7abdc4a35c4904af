/** The most extra waiting granted, in all, for the isolate's own lag. */
const maxLagAllowanceMs = 100;

/**
 * `work`'s value, or `late` once `ms` have passed, not counting time the isolate itself was too busy to
 * notice: a deadline timer that fires L ms after it was due (the event loop was busy with other
 * requests) waits up to L more, again if that timer is late too, up to 100 ms in all. A reply stuck
 * behind the isolate's own queue is not a slow dependency, and treating it as one under load turns
 * cheap answers (cache hits) into expensive ones (upstream calls). An idle isolate keeps `ms` exactly.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, late: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<T>((resolve) => {
    let due = Date.now() + ms;
    let allowance = maxLagAllowanceMs;
    const check = () => {
      const lag = Date.now() - due;
      if (lag > 1 && allowance > 0) {
        const extra = Math.min(lag, allowance);
        allowance -= extra;
        due = Date.now() + extra;
        timer = setTimeout(check, extra);
        return;
      }
      resolve(late);
    };
    timer = setTimeout(check, ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

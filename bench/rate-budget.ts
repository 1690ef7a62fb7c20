/**
 * Measures how many requests each rate limiter lets start in the worst sliding window of its
 * interval, for the same arrivals: effect's RateLimiter (fixed-window and token-bucket) against
 * this library's RateBudget. Virtual time (TestClock), so the figures are exact and repeatable.
 *
 *   npx tsx bench/rate-budget.ts
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as RateLimiter from "effect/RateLimiter"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import * as RateBudget from "../src/RateBudget.js"

const LIMIT = 10
const INTERVAL = 1000
const ARRIVALS = 60

/** Arrivals: a steady trickle, then a burst just before a window boundary, then another. */
const arrivalAt = (i: number) => (i < 20 ? i * 45 : i < 40 ? 950 + (i - 20) : 1950 + (i - 40))

const worstWindow = (starts: ReadonlyArray<number>) => {
  const sorted = [...starts].sort((a, b) => a - b)
  let max = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) >= INTERVAL) j++
    max = Math.max(max, i - j + 1)
  }
  return max
}

const measure = (take: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const origin = yield* TestClock.currentTimeMillis
    const starts: Array<number> = []
    const fiber = yield* Effect.forEach(
      Array.from({ length: ARRIVALS }, (_, i) => i),
      (i) =>
        Effect.sleep(arrivalAt(i)).pipe(
          Effect.zipRight(take),
          Effect.zipRight(TestClock.currentTimeMillis),
          Effect.map((t) => {
            starts.push(t - origin)
          })
        ),
      { concurrency: "unbounded", discard: true }
    ).pipe(Effect.fork)
    for (let t = 0; t < 20_000; t += 5) yield* TestClock.adjust(5)
    yield* Fiber.join(fiber)
    return { worst: worstWindow(starts), lastStart: Math.max(...starts) }
  })

const program = Effect.gen(function* () {
  const rows: Array<Record<string, string | number>> = []
  for (const algorithm of ["fixed-window", "token-bucket"] as const) {
    const result = yield* Effect.scoped(
      Effect.flatMap(RateLimiter.make({ limit: LIMIT, interval: `${INTERVAL} millis`, algorithm }), (limiter) =>
        measure(limiter(Effect.void))
      )
    )
    rows.push({
      limiter: `effect RateLimiter (${algorithm})`,
      limit: LIMIT,
      worstWindow: result.worst,
      lastStartMs: result.lastStart
    })
  }
  const budget = yield* RateBudget.make({ reads: { limit: LIMIT, interval: `${INTERVAL} millis` } })
  const ours = yield* measure(budget.take("read"))
  rows.push({
    limiter: "RateBudget (sliding window, this library)",
    limit: LIMIT,
    worstWindow: ours.worst,
    lastStartMs: ours.lastStart
  })
  console.table(rows)
})

Effect.runPromise(Effect.provide(program, TestContext.TestContext)).catch((e) => {
  console.error(e)
  process.exit(1)
})

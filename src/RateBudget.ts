/**
 * A rate budget that every poller and sender of one account in a process shares, so that all of
 * them together stay under the API's limits.
 *
 * Each limit is `limit` requests per `interval`, enforced as a sliding window: in ANY window of
 * length `interval`, at most `limit` requests start. Effect's `RateLimiter` (fixed-window or
 * token-bucket) lets up to twice the limit through in a window that straddles a boundary
 * (`bench/rate-budget.ts` measures it); the API counts fixed windows of its own, whose boundaries
 * we cannot see, so only a sliding window is safe against every alignment.
 *
 * Defaults are the conservative published limits: reads 10 per second, writes 30 per minute,
 * DELETEs 15 per minute. The live API allows more; raise them with {@link layer}.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ConfigError } from "./XquikError.js"

/**
 * `limit` requests per `interval`.
 *
 * @example
 * ```ts
 * import { RateBudget } from "xquik-write-queue"
 *
 * const reads: RateBudget.Limit = { limit: 300, interval: "1 second" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Limit {
  readonly limit: number
  readonly interval: Duration.DurationInput
}

/**
 * What a request counts against.
 *
 * @example
 * ```ts
 * import { RateBudget, WriteRequest } from "xquik-write-queue"
 *
 * const kindOf = (request: WriteRequest.WriteRequest): RateBudget.Kind =>
 *   WriteRequest.isDelete(request) ? "delete" : "write"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = "read" | "write" | "delete"

/**
 * The limits of a budget, per kind of request; a kind left out keeps its default.
 *
 * @example
 * ```ts
 * import { RateBudget } from "xquik-write-queue"
 *
 * const options: RateBudget.Options = { reads: { limit: 100, interval: "1 second" } }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly reads?: Limit
  readonly writes?: Limit
  readonly deletes?: Limit
}

/**
 * The conservative published limits.
 *
 * @example
 * ```ts
 * import { RateBudget } from "xquik-write-queue"
 *
 * const BudgetLive = RateBudget.layer({ ...RateBudget.defaults, writes: { limit: 60, interval: "1 minute" } })
 * ```
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaults: Required<Options> = {
  reads: { limit: 10, interval: "1 second" },
  writes: { limit: 30, interval: "1 minute" },
  deletes: { limit: 15, interval: "1 minute" }
}

/**
 * The budget's interface: `take` a slot for a request, and the settled limits.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RateBudget } from "xquik-write-queue"
 *
 * const readsPerSecond = (budget: RateBudget.RateBudgetShape): number =>
 *   (budget.limits.read.limit * 1000) / budget.limits.read.intervalMs
 * const beforeRead = (budget: RateBudget.RateBudgetShape): Effect.Effect<void> => budget.take("read", "@acme")
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RateBudgetShape {
  /**
   * Waits until a request of `kind` for `account` fits in the budget, and counts it. Interrupting
   * the wait gives up the slot (it is never handed to anyone else early).
   */
  readonly take: (kind: Kind, account?: string) => Effect.Effect<void>
  readonly limits: { readonly [K in Kind]: { readonly limit: number; readonly intervalMs: number } }
}

/**
 * The budget service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RateBudget } from "xquik-write-queue"
 *
 * const beforeWrite = Effect.flatMap(RateBudget.RateBudget, (budget) => budget.take("write", "@acme"))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class RateBudget extends Context.Tag("xquik-write-queue/RateBudget")<RateBudget, RateBudgetShape>() {}

/**
 * The start times of the last `limit` requests, in a ring. A request may start once the one
 * `limit` places before it is `interval` old; reservations are handed out in order, so the times
 * never decrease and no window of length `interval` ever holds more than `limit` of them.
 */
class SlidingWindow {
  private readonly starts: Float64Array
  private head = 0
  constructor(
    readonly limit: number,
    readonly intervalMs: number
  ) {
    this.starts = new Float64Array(limit).fill(Number.NEGATIVE_INFINITY)
  }
  reserve(now: number): number {
    const oldest = this.starts[this.head] ?? Number.NEGATIVE_INFINITY
    const at = Math.max(now, oldest + this.intervalMs)
    this.starts[this.head] = at
    this.head = (this.head + 1) % this.limit
    return at
  }
}

const settle = (limit: Limit, name: string): Effect.Effect<{ limit: number; intervalMs: number }, ConfigError> => {
  const interval = Duration.decodeUnknown(limit.interval)
  const intervalMs = interval._tag === "Some" ? Duration.toMillis(interval.value) : Number.NaN
  if (!Number.isInteger(limit.limit) || limit.limit < 1 || limit.limit > 1_000_000) {
    return Effect.fail(
      new ConfigError({ variables: [`${name}.limit`], reason: "a limit must be an integer from 1 to 1,000,000." })
    )
  }
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    return Effect.fail(
      new ConfigError({ variables: [`${name}.interval`], reason: "an interval must be a positive, finite duration." })
    )
  }
  return Effect.succeed({ limit: limit.limit, intervalMs })
}

/**
 * Builds a budget. Limits are per account (the `account` passed to `take`; one shared window
 * when none is given).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RateBudget } from "xquik-write-queue"
 *
 * const program = Effect.gen(function* () {
 *   const budget = yield* RateBudget.make({ reads: { limit: 300, interval: "1 second" } })
 *   yield* budget.take("read", "@acme")
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<RateBudgetShape, ConfigError> =>
  Effect.gen(function* () {
    const limits = {
      read: yield* settle(options.reads ?? defaults.reads, "reads"),
      write: yield* settle(options.writes ?? defaults.writes, "writes"),
      delete: yield* settle(options.deletes ?? defaults.deletes, "deletes")
    }
    const windows = new Map<string, SlidingWindow>()
    const windowFor = (kind: Kind, account: string) => {
      const key = `${kind}\u0000${account}`
      let window = windows.get(key)
      if (window === undefined) {
        window = new SlidingWindow(limits[kind].limit, limits[kind].intervalMs)
        windows.set(key, window)
      }
      return window
    }
    const take = (kind: Kind, account = "") =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const at = windowFor(kind, account).reserve(now)
        return at > now ? Effect.sleep(Duration.millis(at - now)) : Effect.void
      })
    return { take, limits }
  })

/**
 * A budget layer.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Polling, RateBudget } from "xquik-write-queue"
 *
 * const outcome = Polling.awaitOutcome("42").pipe(
 *   Effect.provide(Polling.layer),
 *   Effect.provide(RateBudget.layer({ reads: { limit: 50, interval: "1 second" } }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<RateBudget, ConfigError> =>
  Layer.effect(RateBudget, make(options))

/**
 * No limit at all: `take` returns at once. For tests and for callers that limit elsewhere.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RateBudget, Worker } from "xquik-write-queue"
 *
 * // The limits are enforced elsewhere (e.g. by a proxy).
 * const summary = Worker.drain().pipe(Effect.provide(RateBudget.unlimited))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const unlimited: Layer.Layer<RateBudget> = Layer.succeed(RateBudget, {
  take: () => Effect.void,
  limits: {
    read: { limit: Number.POSITIVE_INFINITY, intervalMs: 1 },
    write: { limit: Number.POSITIVE_INFINITY, intervalMs: 1 },
    delete: { limit: Number.POSITIVE_INFINITY, intervalMs: 1 }
  }
})

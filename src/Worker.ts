/**
 * The worker: a long-running fiber that drains the queue.
 *
 * Each turn it claims due rows (with leases), then for each row either sends it (through the
 * outbox: once, with its own key) or polls it once (`GET /x/write-actions/{id}`), folds the answer
 * into the row with the `QueueRow` rules, runs your resolvers, saves the row and sets
 * `next_poll_at` by the polling delay rules. It renews its leases while it works. On interrupt it
 * finishes the saves in flight, releases its leases and returns.
 *
 * - {@link run}: forever, for a process of its own.
 * - {@link layer}: scoped, for an Effect application.
 * - {@link drain}: until no row is left open, for scripted pipelines; returns a summary.
 *
 * @since 0.1.0
 */
import * as Os from "node:os"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import type * as Scope from "effect/Scope"
import * as Outbox from "./Outbox.js"
import { clampHint, defaultSchedule } from "./Polling.js"
import * as QueueRow from "./QueueRow.js"
import { type Claimed, isTransient, type Lease, QueueStore, type StoreFailure } from "./QueueStore.js"
import * as RateBudget from "./RateBudget.js"
import type { Resolution, Resolver } from "./Resolver.js"
import * as WriteAction from "./WriteAction.js"
import * as WriteRequest from "./WriteRequest.js"
import { XquikClient } from "./XquikClient.js"
import type * as XquikError from "./XquikError.js"
import type { ConfigError } from "./XquikError.js"

// ---------------------------------------------------------------------------------------------
// options and results
// ---------------------------------------------------------------------------------------------

/**
 * How a worker runs: its id, how many rows at once, its leases, your resolver, the polling
 * schedule and the rate budget.
 *
 * @example
 * ```ts
 * import { Console } from "effect"
 * import { Resolver, Worker } from "xquik-write-queue"
 *
 * const options: Worker.Options = {
 *   workerId: "worker-a",
 *   concurrency: 16,
 *   leaseFor: "2 minutes",
 *   resolver: Resolver.onExpired((_expired, r) => Console.warn(`verify ${r.writeActionId} on X`))
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<E = never, R = never> extends Outbox.Pacing {
  /** Names this worker in leases and logs. Default `<host>:<pid>:<random>`. */
  readonly workerId?: string | undefined
  /** Rows worked on at once. Default 8. */
  readonly concurrency?: number | undefined
  /** How long a claim holds a row; renewed while the row is worked on. Default 60 s. */
  readonly leaseFor?: Duration.DurationInput | undefined
  /** The longest sleep when nothing is due (new rows from other processes show up within it). Default 1 s. */
  readonly idleInterval?: Duration.DurationInput | undefined
  /** Your resolvers, run after the row is kept: on pending observations, and at least once on the outcome. */
  readonly resolver?: Resolver<E, R> | undefined
  /** The delays while the server gives no hint (stepped by the row's poll count). Default `Polling.defaultSchedule`. */
  readonly schedule?: Schedule.Schedule<unknown, WriteAction.Observation> | undefined
  /**
   * Retry a write that failed with `safe_to_retry` (nothing dispatched) with a NEW key, up to
   * this many times. Default 0: only `Outbox.retryWithNewKey` does it.
   */
  readonly autoRetrySafe?: number | undefined
  /** Limits of the budget made when no `RateBudget` is provided. Default: the conservative published ones. */
  readonly rateBudget?: RateBudget.Options | undefined
  /**
   * How the worker waits out a failing store (database busy, disk full, connection lost): after a
   * failure it pauses all store work (claims and the saves it retries) for `initial`, doubling with
   * each failure up to `max`; the first success resets it. Default 100 ms to 5 s.
   */
  readonly storeBackoff?: StoreBackoff | undefined
}

/**
 * The store backoff of a worker: the first pause after a store failure, and the longest.
 *
 * @example
 * ```ts
 * import { Worker } from "xquik-write-queue"
 *
 * const patient: Worker.StoreBackoff = { initial: "250 millis", max: "30 seconds" }
 * const options: Worker.Options = { storeBackoff: patient }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreBackoff {
  /** The first pause. Default 100 ms. */
  readonly initial?: Duration.DurationInput | undefined
  /** The longest pause. Default 5 s. */
  readonly max?: Duration.DurationInput | undefined
}

/**
 * What one worker did.
 *
 * @example
 * ```ts
 * import { Worker } from "xquik-write-queue"
 *
 * const settled = (tally: Worker.Tally): number => tally.succeeded + tally.failed + tally.expired
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Tally {
  sent: number
  polls: number
  succeeded: number
  failed: number
  expired: number
  retriedWithNewKey: number
  /** Reads or sends that failed transiently and were rescheduled. */
  errors: number
  /** Store operations that failed (busy, full, disconnected, …): each one paused store work (see `storeBackoff`). */
  storeErrors: number
}

/**
 * Options of {@link drain}: the worker's options, a bound on the whole drain, and a progress callback.
 *
 * @example
 * ```ts
 * import { Console } from "effect"
 * import { Worker } from "xquik-write-queue"
 *
 * const options: Worker.DrainOptions = {
 *   maxWait: "10 minutes",
 *   progressInterval: "1 second",
 *   onProgress: ({ open, total }) => Console.log(`${total - open}/${total} done`)
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DrainOptions<E = never, R = never> extends Options<E, R> {
  /** Stop after this long even if rows are still open (they stay in the store for later). */
  readonly maxWait?: Duration.DurationInput | undefined
  /** Called about every `progressInterval` with the tally and how much is left. */
  readonly onProgress?: ((progress: Progress) => Effect.Effect<void>) | undefined
  readonly progressInterval?: Duration.DurationInput | undefined
}

/**
 * What `onProgress` is called with: what the worker did so far, and how many rows are open of how many.
 *
 * @example
 * ```ts
 * import { Worker } from "xquik-write-queue"
 *
 * const line = (progress: Worker.Progress): string =>
 *   `${progress.tally.sent} sent, ${progress.tally.polls} polls, ${progress.open} of ${progress.total} open`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Progress {
  readonly tally: Readonly<Tally>
  readonly open: number
  readonly total: number
}

/**
 * What `drain` returns: what this worker did, and how every row in the store stands.
 *
 * @example
 * ```ts
 * import { Worker } from "xquik-write-queue"
 *
 * const report = (summary: Worker.DrainSummary): string =>
 *   summary.complete
 *     ? `done in ${summary.elapsedMs} ms: ${summary.outcomes.succeeded} ok, ${summary.outcomes.failed} failed`
 *     : `${summary.open} rows still open; run again later`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DrainSummary {
  readonly workerId: string
  /** Every row is terminal (and resolved). False when `maxWait` ended the drain first. */
  readonly complete: boolean
  readonly elapsedMs: number
  readonly processed: Readonly<Tally>
  /** Rows per outcome in the store: succeeded, failed, expired, pending, queued, send_unknown. */
  readonly outcomes: Readonly<Record<QueueRow.RowOutcome, number>>
  /** Rows still open at the end. */
  readonly open: number
}

/**
 * What stops a worker: a refused credential (every row would fail the same way), or unusable
 * options.
 *
 * @example
 * ```ts
 * import { Worker } from "xquik-write-queue"
 *
 * const advice = (error: Worker.WorkerError): string =>
 *   error._tag === "ConfigError" ? `fix the options: ${error.reason}` : "check the API key"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type WorkerError = Outbox.Fatal | ConfigError

// ---------------------------------------------------------------------------------------------
// metrics
// ---------------------------------------------------------------------------------------------

/**
 * The worker's metrics.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Worker } from "xquik-write-queue"
 *
 * const sentSoFar = Effect.map(Metric.value(Worker.metrics.sent), (state) => state.count)
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics = {
  sent: Metric.counter("xquik_writes_sent", { description: "Writes sent (replays with the same key included)" }),
  succeeded: Metric.counter("xquik_writes_succeeded", { description: "Writes that reached success" }),
  failed: Metric.counter("xquik_writes_failed", { description: "Writes that reached failed" }),
  expired: Metric.counter("xquik_writes_expired", { description: "Writes that expired (verify on X)" }),
  stillPending: Metric.counter("xquik_writes_still_pending", { description: "Writes still open when a drain ended" }),
  timeToTerminal: Metric.histogram(
    "xquik_time_to_terminal_ms",
    MetricBoundaries.exponential({ start: 50, factor: 2, count: 18 }),
    "From enqueue to the terminal outcome, in ms"
  ),
  queueDepth: Metric.gauge("xquik_queue_depth", { description: "Open rows in the store" })
} as const

// ---------------------------------------------------------------------------------------------
// the engine
// ---------------------------------------------------------------------------------------------

const millis = (input: Duration.DurationInput | undefined, fallback: number) =>
  input === undefined ? fallback : Duration.toMillis(Duration.decode(input))

const defaultWorkerId = () => `${Os.hostname()}:${process.pid}:${globalThis.crypto.randomUUID().slice(0, 8)}`

// A failing read or store waits as long as the row has been failing, between 1 s and 1 min.
const errorDelay = (row: QueueRow.QueueRow, now: number) => Math.min(60_000, Math.max(1000, now - row.updated_at))

const readFailure = (row: QueueRow.QueueRow, error: XquikError.XquikError, now: number): QueueRow.QueueRow => ({
  ...row,
  status: "failed",
  terminal: true,
  error_code: "code" in error ? error.code : error._tag,
  message: error.message,
  safe_to_retry: false,
  updated_at: now,
  completed_at: now,
  next_poll_at: null
})

const observationOf = (record: WriteAction.WriteAction, at: number): WriteAction.Observation => ({
  record,
  httpStatus: 200,
  retryAfter: Option.none(),
  location: Option.none(),
  requestId: Option.none(),
  receivedAt: at
})

interface Engine<R> {
  readonly workerId: string
  readonly tally: Tally
  /**
   * Claims and starts what it can: `claimed` when it started rows, `full` when every slot is
   * busy (wait for a turn to finish), `idle` when nothing was due.
   */
  readonly step: Effect.Effect<"claimed" | "full" | "idle", never, R>
  /** Waits for a turn to finish, or `ms` at most. */
  readonly idle: (ms: number) => Effect.Effect<void>
  readonly inFlight: () => number
  readonly fatal: Deferred.Deferred<never, Outbox.Fatal>
  /**
   * Runs a store operation again, after the store backoff, while it fails transiently (and the
   * next attempt would start before `deadline`, UTC ms).
   */
  readonly persistently: <A>(
    operation: string,
    attempt: Effect.Effect<A, StoreFailure>,
    deadline?: number
  ) => Effect.Effect<A, StoreFailure>
  /** Counts a store failure and starts a pause of the store backoff. */
  readonly storeFailed: (operation: string, error: StoreFailure) => Effect.Effect<void>
}

const makeEngine = <E, R>(
  options: Options<E, R>
): Effect.Effect<Engine<R>, ConfigError, QueueStore | XquikClient | R | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* QueueStore
    const client = yield* XquikClient
    const provided = yield* Effect.serviceOption(RateBudget.RateBudget)
    const budget = Option.isSome(provided) ? provided.value : yield* RateBudget.make(options.rateBudget)
    const workerId = options.workerId ?? defaultWorkerId()
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 8))
    const leaseMs = millis(options.leaseFor, 60_000)
    const schedule = options.schedule ?? defaultSchedule
    const autoRetrySafe = options.autoRetrySafe ?? 0
    const resolver = options.resolver
    const backoffInitial = Math.max(1, millis(options.storeBackoff?.initial, 100))
    const backoffMax = Math.max(backoffInitial, millis(options.storeBackoff?.max, 5000))
    const tally: Tally = {
      sent: 0,
      polls: 0,
      succeeded: 0,
      failed: 0,
      expired: 0,
      retriedWithNewKey: 0,
      errors: 0,
      storeErrors: 0
    }

    // The store backoff: one pause for the whole engine. A failure while no pause is running starts
    // the next one, twice as long as the last (so a burst of failures from every slot counts once);
    // a success resets the length. Claims and retried saves wait the pause out first.
    let storeStreak = 0
    let storePausedUntil = 0
    const storeFailed = (operation: string, error: StoreFailure) =>
      Effect.gen(function* () {
        tally.storeErrors++
        const now = yield* Clock.currentTimeMillis
        if (now < storePausedUntil) return
        const pause = Math.min(backoffMax, backoffInitial * 2 ** Math.min(storeStreak, 30))
        storeStreak++
        storePausedUntil = now + pause
        yield* Effect.logWarning(`Worker: the store failed to ${operation}; store work pauses ${pause} ms`).pipe(
          Effect.annotateLogs({
            reason: error.message,
            ...(error._tag === "StoreError" && error.code !== undefined ? { code: error.code } : {})
          })
        )
      })
    const storeRecovered = Effect.sync(() => {
      storeStreak = 0
    })
    const storePause: Effect.Effect<void> = Effect.interruptible(
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        now >= storePausedUntil
          ? Effect.void
          : Effect.zipRight(Effect.sleep(Duration.millis(storePausedUntil - now)), storePause)
      )
    )
    const isStoreFailure = (error: { readonly _tag: string }): error is StoreFailure =>
      error._tag === "StoreError" || error._tag === "StoreCorrupt"
    // A store write retried in place while it fails transiently: the row's lease is kept (and
    // renewed), and nothing else happens to the row until the write is durable, so an answer
    // already received is neither lost nor asked for again. Each attempt is uninterruptible;
    // the pauses between them are not.
    const persistently = <A, Err extends { readonly _tag: string }>(
      operation: string,
      attempt: Effect.Effect<A, Err>,
      deadline = Number.POSITIVE_INFINITY
    ): Effect.Effect<A, Err> =>
      Effect.gen(function* () {
        for (;;) {
          yield* storePause
          const result = yield* Effect.either(Effect.uninterruptible(attempt))
          if (Either.isRight(result)) {
            yield* storeRecovered
            return result.right
          }
          const error = result.left
          if (!isStoreFailure(error) || !isTransient(error)) return yield* Effect.fail(error)
          yield* storeFailed(operation, error)
          if (storePausedUntil >= deadline) return yield* Effect.fail(error)
        }
      })
    const sendContext: Outbox.SendContext = {
      store: { ...store, save: (row, lease, saveOptions) => persistently("save", store.save(row, lease, saveOptions)) },
      client,
      budget: Option.some(budget),
      pacing: options,
      releasePending: true
    }
    // Leases this worker holds (rows running or waiting in `ready`): renewed, and released on exit.
    const held = new Map<string, Lease>()
    // Rows claimed ahead of a free slot, so one claim serves several turns.
    const ready: Array<Claimed> = []
    let running = 0
    const wake = yield* Queue.sliding<void>(1)
    const fatal = yield* Deferred.make<never, Outbox.Fatal>()
    const turns = yield* FiberSet.make<void, never>()

    // The k-th delay of the schedule (k = polls made), stepped from its start.
    const scheduleDelay = (polls: number, observation: WriteAction.Observation, now: number) =>
      Effect.gen(function* () {
        let state: unknown = schedule.initial
        let delay = 0
        for (let i = 0; i < Math.min(Math.max(polls, 1), 32); i++) {
          const [next, , decision] = yield* schedule.step(now, observation, state)
          state = next
          if (ScheduleDecision.isDone(decision)) break
          delay = Math.max(0, Math.round(ScheduleIntervals.start(decision.intervals) - now))
        }
        return delay
      })

    const nextPollAt = (row: QueueRow.QueueRow, observation: WriteAction.Observation, now: number) =>
      row.poll_hint_ms !== null
        ? Effect.succeed(now + clampHint(row.poll_hint_ms, options))
        : Effect.map(scheduleDelay(row.polls, observation, now), (delay) => now + delay)

    const count = (row: QueueRow.QueueRow) =>
      Effect.gen(function* () {
        const outcome = QueueRow.outcome(row)
        if (outcome === "succeeded") {
          tally.succeeded++
          yield* Metric.increment(metrics.succeeded)
        } else if (outcome === "failed") {
          tally.failed++
          yield* Metric.increment(metrics.failed)
        } else if (outcome === "expired") {
          tally.expired++
          yield* Metric.increment(metrics.expired)
        }
        if (row.completed_at !== null) yield* Metric.update(metrics.timeToTerminal, row.completed_at - row.created_at)
      })

    const runResolver = (row: QueueRow.QueueRow, observation: WriteAction.Observation) =>
      Effect.suspend(() => {
        if (resolver === undefined || row.write_action_id === null) return Effect.succeed(true)
        const resolution: Resolution = {
          writeActionId: WriteAction.WriteActionId.make(row.write_action_id, { disableValidation: true }),
          outcome: WriteAction.outcome(observation.record),
          observation
        }
        return resolver.resolve(resolution).pipe(
          Effect.as(true),
          Effect.catchAllCause((cause) =>
            Effect.as(Effect.logWarning("Worker: a resolver failed; it will run again", cause), false)
          ),
          Effect.withSpan("Worker.resolve", { captureStackTrace: false })
        )
      })

    const save = (row: QueueRow.QueueRow, lease: Lease, release: boolean) =>
      Effect.uninterruptible(persistently("save", store.save(row, lease, { release }))).pipe(
        Effect.tap(() =>
          Effect.sync(() => {
            if (release) held.delete(row.job_id)
          })
        ),
        Effect.withSpan("Worker.save", { captureStackTrace: false })
      )

    // A terminal row: kept first (rule 2: no request after it), then resolved at least once.
    const settleTerminal = (
      row: QueueRow.QueueRow,
      lease: Lease,
      observation: Option.Option<WriteAction.Observation>
    ) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        if (
          row.status === "failed" &&
          row.safe_to_retry &&
          row.request_payload !== null &&
          row.attempts <= autoRetrySafe
        ) {
          const retried = Outbox.nextAttempt(row, WriteRequest.IdempotencyKey.make(), now)
          yield* save({ ...retried, next_poll_at: now + Math.min(60_000, 1000 * 2 ** row.attempts) }, lease, true)
          tally.retriedWithNewKey++
          yield* Effect.logInfo("Worker: retrying a safely failed write with a new key")
          return
        }
        yield* count(row)
        if (resolver === undefined || Option.isNone(observation) || row.write_action_id === null) {
          yield* save({ ...row, resolution_pending: false, last_record: null }, lease, true)
          return
        }
        const pending = { ...row, resolution_pending: true, last_record: observation.value.record, next_poll_at: now }
        yield* save(pending, lease, false)
        yield* resolvePending(pending, lease, observation.value)
      })

    const resolvePending = (row: QueueRow.QueueRow, lease: Lease, observation: WriteAction.Observation) =>
      Effect.gen(function* () {
        const resolved = yield* runResolver(row, observation)
        const now = yield* Clock.currentTimeMillis
        yield* save(
          resolved
            ? { ...row, resolution_pending: false, last_record: null, next_poll_at: null }
            : { ...row, next_poll_at: now + errorDelay(row, now) },
          lease,
          true
        )
      })

    const settle = (
      row: QueueRow.QueueRow,
      lease: Lease,
      observation: Option.Option<WriteAction.Observation>,
      released: boolean
    ) =>
      row.terminal
        ? settleTerminal(row, lease, observation)
        : Effect.gen(function* () {
            if (released) held.delete(row.job_id)
            else yield* save(row, lease, true)
            if (Option.isSome(observation)) yield* runResolver(row, observation.value)
          })

    const poll = (row: QueueRow.QueueRow, lease: Lease, writeActionId: string) =>
      Effect.gen(function* () {
        yield* budget.take("read", row.account ?? "")
        const answer = yield* Effect.either(client.getWriteAction(writeActionId))
        const now = yield* Clock.currentTimeMillis
        tally.polls++
        if (Either.isLeft(answer)) {
          const error = answer.left
          switch (error._tag) {
            case "Unauthenticated":
              yield* Deferred.fail(fatal, error)
              return
            case "NotFound":
            case "InvalidWriteActionId":
            case "CrossOriginStatusUrl":
              return yield* settle(readFailure(row, error, now), lease, Option.none(), false)
            default:
              tally.errors++
              yield* Effect.logWarning("Worker: a status read failed; it will be tried again").pipe(
                Effect.annotateLogs({ error: error._tag, reason: error.message })
              )
              return yield* save(
                { ...row, message: error.message, next_poll_at: now + errorDelay(row, now) },
                lease,
                true
              )
          }
        }
        const observation = answer.right
        const folded = QueueRow.fromObservation(observation, row)
        const next = folded.terminal ? folded : { ...folded, next_poll_at: yield* nextPollAt(folded, observation, now) }
        yield* settle(next, lease, Option.some(observation), false)
      }).pipe(
        Effect.withSpan("Worker.poll", {
          captureStackTrace: false,
          attributes: { "xquik.write_action_id": writeActionId }
        })
      )

    const turn = (claimed: Claimed): Effect.Effect<void, never, R> => {
      const { row, lease } = claimed
      const work: Effect.Effect<void, Outbox.Fatal | XquikError.LeaseLost | StoreFailure, R> = Effect.suspend(() => {
        if (row.terminal && row.resolution_pending) {
          return Effect.flatMap(Clock.currentTimeMillis, (now) =>
            row.last_record === null
              ? save({ ...row, resolution_pending: false, next_poll_at: null }, lease, true)
              : resolvePending(row, lease, observationOf(row.last_record, row.completed_at ?? now))
          )
        }
        if (Outbox.needsSend(row)) {
          return Effect.gen(function* () {
            const sent = yield* Outbox.sendLeased(claimed, sendContext)
            if (sent.sent) {
              tally.sent++
              yield* Metric.increment(metrics.sent)
            }
            yield* settle(sent.row, lease, sent.observation, sent.released)
          })
        }
        if (row.write_action_id !== null) return poll(row, lease, row.write_action_id)
        // Nothing to send and nothing to poll (a row written by hand): finish it as failed.
        return Effect.flatMap(Clock.currentTimeMillis, (now) =>
          save(
            {
              ...row,
              status: "failed",
              terminal: true,
              error_code: "nothing_to_do",
              message: "The row has neither a request nor a write action id.",
              completed_at: now,
              next_poll_at: null
            },
            lease,
            true
          )
        )
      })
      return work.pipe(
        Effect.catchTags({
          Unauthenticated: (error) => Deferred.fail(fatal, error),
          LeaseLost: () => Effect.logInfo("Worker: lost a lease to another worker; leaving the row to it"),
          // What is left after the retries in place: a failure no retry can fix (or a transient
          // one outside a save). The row is released as last saved and picked up again after the
          // store backoff.
          StoreError: (error) =>
            Effect.zipRight(
              storeFailed("work on a row", error),
              Effect.logWarning("Worker: the store failed; the row will be picked up again").pipe(
                Effect.annotateLogs({ reason: error.message })
              )
            ),
          StoreCorrupt: (error) => Effect.logError("Worker: a corrupt row was skipped", error)
        }),
        Effect.catchAllDefect((defect) => Effect.logError("Worker: a turn died", defect)),
        Effect.ensuring(
          Effect.suspend(() => {
            const lease = held.get(row.job_id)
            held.delete(row.job_id)
            running--
            return Effect.zipRight(
              lease === undefined ? Effect.void : Effect.ignore(store.release(lease)),
              wake.offer(undefined)
            )
          })
        ),
        Effect.annotateLogs({
          job_id: row.job_id,
          ...(row.write_action_id !== null ? { write_action_id: row.write_action_id } : {})
        }),
        Effect.withSpan("Worker.turn", { captureStackTrace: false, attributes: { "xquik.job_id": row.job_id } })
      )
    }

    // One fiber renews every lease in flight well before it ends.
    yield* Effect.forkScoped(
      Effect.gen(function* () {
        for (;;) {
          yield* Effect.sleep(Duration.millis(Math.max(50, Math.floor(leaseMs / 3))))
          for (const [jobId, lease] of held) {
            const renewed = yield* Effect.either(store.renewLease(lease, Duration.millis(leaseMs)))
            if (Either.isRight(renewed) && held.has(jobId)) held.set(jobId, renewed.right)
          }
        }
      }).pipe(Effect.interruptible)
    )

    const start = (claimed: Claimed) =>
      Effect.suspend(() => {
        running++
        return FiberSet.run(turns, turn(claimed))
      })

    // Claims up to twice the concurrency ahead, so that when a turn ends the next row is already
    // leased: one claim statement serves many turns instead of one each.
    const step = Effect.gen(function* () {
      // While the store fails, no new turn starts and nothing is claimed.
      yield* storePause
      while (running < concurrency && ready.length > 0) {
        const next = ready.shift()
        if (next !== undefined) yield* start(next)
      }
      const free = concurrency - running
      if (free <= 0) return "full" as const
      const want = Math.max(free, 2 * concurrency - running - ready.length)
      const claimed = yield* store.claimDue({ limit: want, workerId, leaseFor: Duration.millis(leaseMs) }).pipe(
        Effect.withSpan("Worker.claim", { captureStackTrace: false }),
        Effect.tap(() => storeRecovered),
        Effect.catchAll((error) => Effect.as(storeFailed("claim rows", error), [] as ReadonlyArray<Claimed>))
      )
      for (const c of claimed) {
        held.set(c.row.job_id, c.lease)
        if (running < concurrency) yield* start(c)
        else ready.push(c)
      }
      return claimed.length > 0 ? ("claimed" as const) : ("idle" as const)
    })

    // On exit, every lease still held (rows waiting in `ready`, turns cut short) is given back.
    yield* Effect.addFinalizer(() =>
      Effect.forEach([...held.values()], (lease) => Effect.ignore(store.release(lease)), { discard: true }).pipe(
        Effect.tap(() => Effect.sync(() => held.clear()))
      )
    )

    const idle = (ms: number) =>
      Effect.asVoid(Effect.raceFirst(wake.take, Effect.sleep(Duration.millis(Math.max(0, ms)))))

    return {
      workerId,
      tally,
      step,
      idle,
      inFlight: () => running + ready.length,
      fatal,
      persistently,
      storeFailed
    } satisfies Engine<R>
  })

// ---------------------------------------------------------------------------------------------
// run, drain, layer
// ---------------------------------------------------------------------------------------------

/**
 * Runs the worker until interrupted. Fails only with a {@link WorkerError} (a refused credential);
 * store and network failures are logged, and the rows retried with backoff.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { SqlQueueStore, Worker, XquikClient, XquikConfig } from "xquik-write-queue"
 *
 * const main = Worker.run({ concurrency: 8 }).pipe(
 *   Effect.provide(SqlQueueStore.layerSqlite({ filename: "./xquik-write-queue.db" })),
 *   Effect.provide(XquikClient.layerNode.pipe(Layer.provide(XquikConfig.layerConfig())))
 * )
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const run = <E = never, R = never>(
  options: Options<E, R> = {}
): Effect.Effect<never, WorkerError, QueueStore | XquikClient | R> =>
  Effect.scoped(
    Effect.gen(function* () {
      const engine = yield* makeEngine(options)
      const store = yield* QueueStore
      const idleMs = millis(options.idleInterval, 1000)
      yield* Effect.logInfo("Worker: started").pipe(Effect.annotateLogs({ worker_id: engine.workerId }))
      const loop = Effect.gen(function* () {
        for (;;) {
          const stepped = yield* engine.step
          if (stepped === "claimed") continue
          if (stepped === "full") {
            yield* engine.idle(idleMs)
            continue
          }
          const summary = yield* Effect.either(store.summary)
          let wait = idleMs
          if (Either.isLeft(summary)) yield* engine.storeFailed("summarize the queue", summary.left)
          else {
            yield* Metric.set(metrics.queueDepth, summary.right.open)
            const now = yield* Clock.currentTimeMillis
            wait = Option.match(summary.right.nextDueAt, {
              onNone: () => idleMs,
              onSome: (at) => Math.min(idleMs, Math.max(0, at - now))
            })
          }
          yield* engine.idle(wait)
        }
      })
      return yield* Effect.raceFirst(loop, Deferred.await(engine.fatal))
    })
  )

/**
 * Runs the worker until no row is left open (every row terminal and resolved), or until
 * `maxWait`, and returns a summary with counts per outcome. For scripted pipelines.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Worker } from "xquik-write-queue"
 *
 * const summary = Worker.drain({ concurrency: 16, maxWait: "15 minutes" }).pipe(
 *   Effect.tap((s) => Effect.logInfo(`${s.outcomes.succeeded} succeeded, ${s.open} still open`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const drain = <E = never, R = never>(
  options: DrainOptions<E, R> = {}
): Effect.Effect<DrainSummary, WorkerError | StoreFailure, QueueStore | XquikClient | R> =>
  Effect.scoped(
    Effect.gen(function* () {
      const startedAt = yield* Clock.currentTimeMillis
      const engine = yield* makeEngine(options)
      const store = yield* QueueStore
      const idleMs = millis(options.idleInterval, 1000)
      const deadline = options.maxWait === undefined ? Number.POSITIVE_INFINITY : startedAt + millis(options.maxWait, 0)
      const onProgress = options.onProgress
      if (onProgress !== undefined) {
        yield* Effect.forkScoped(
          Effect.gen(function* () {
            for (;;) {
              const summary = yield* Effect.either(store.summary)
              const s = Either.getOrUndefined(summary)
              yield* onProgress({ tally: { ...engine.tally }, open: s?.open ?? -1, total: s?.total ?? -1 })
              yield* Effect.sleep(options.progressInterval ?? Duration.millis(250))
            }
          })
        )
      }
      const loop = Effect.gen(function* () {
        for (;;) {
          const now = yield* Clock.currentTimeMillis
          if (now >= deadline) return false
          if ((yield* engine.step) === "claimed") continue
          if (engine.inFlight() > 0) {
            yield* engine.idle(Math.min(idleMs, deadline - now))
            continue
          }
          const summary = yield* engine.persistently("summarize the queue", store.summary, deadline)
          yield* Metric.set(metrics.queueDepth, summary.open)
          if (summary.open === 0) return true
          const wait = Option.match(summary.nextDueAt, { onNone: () => idleMs, onSome: (at) => Math.max(0, at - now) })
          yield* engine.idle(Math.min(idleMs, wait, deadline - now))
        }
      })
      const complete = yield* Effect.raceFirst(loop, Deferred.await(engine.fatal))
      // Let the turns in flight finish their saves before the summary.
      while (engine.inFlight() > 0 && complete) yield* engine.idle(50)
      // A store that stays down past maxWait ends the drain with its StoreError.
      const counts = yield* engine.persistently("count the rows", store.counts, deadline)
      const summary = yield* engine.persistently("summarize the queue", store.summary, deadline)
      const outcomes: Record<QueueRow.RowOutcome, number> = {
        succeeded: 0,
        failed: 0,
        expired: 0,
        pending: 0,
        queued: 0,
        send_unknown: 0
      }
      for (const [status, n] of Object.entries(counts)) {
        outcomes[statusOutcome(status)] += n
      }
      if (summary.open > 0) yield* Metric.incrementBy(metrics.stillPending, summary.open)
      const endedAt = yield* Clock.currentTimeMillis
      return {
        workerId: engine.workerId,
        complete: summary.open === 0,
        elapsedMs: endedAt - startedAt,
        processed: { ...engine.tally },
        outcomes,
        open: summary.open
      }
    })
  )

const statusOutcome = (status: string): QueueRow.RowOutcome => {
  switch (status) {
    case "success":
      return "succeeded"
    case "failed":
      return "failed"
    case "expired":
      return "expired"
    case "queued":
      return "queued"
    case "send_started":
    case "send_unknown":
      return "send_unknown"
    default:
      return "pending"
  }
}

/**
 * The worker as a scoped layer for an Effect application: it runs while the layer's scope is
 * open, and on close finishes its saves in flight and releases its leases. A fatal error (a
 * refused credential) stops it and is logged.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { SqlQueueStore, Worker, XquikClient, XquikConfig } from "xquik-write-queue"
 *
 * const WorkerLive = Worker.layer({ concurrency: 8 }).pipe(
 *   Layer.provide(SqlQueueStore.layerSqlite({ filename: "./xquik-write-queue.db" })),
 *   Layer.provide(XquikClient.layerNode.pipe(Layer.provide(XquikConfig.layerConfig())))
 * )
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const layer = <E = never, R = never>(
  options: Options<E, R> = {}
): Layer.Layer<never, never, QueueStore | XquikClient | R> =>
  Layer.scopedDiscard(
    Effect.forkScoped(run(options).pipe(Effect.tapErrorCause((cause) => Effect.logError("Worker: stopped", cause))))
  )

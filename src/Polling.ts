/**
 * Polling a write action to its outcome: `GET /x/write-actions/{id}` after a 202, with the
 * server's own pacing first and a `Schedule` second, until the status is terminal. Never a
 * resend, and never a request after the first terminal answer.
 *
 * - {@link polls}: a `Stream` of every observation, the terminal one included.
 * - {@link awaitOutcome}: the outcome as an Effect; `Failed` and `Expired` are typed errors. Two
 *   fibers awaiting the same id share one poll loop (through the {@link Poller} service).
 * - {@link resolve}: runs a `Resolver` on every observation.
 *
 * The delay before each poll is the first of these that is present: the `Retry-After` header,
 * `nextAction.afterMs` (when the next action is `poll`), `pollAfterMs`, then the schedule. Server
 * hints are clamped to `[minDelay, maxDelay]`, and a hint is remembered until a newer one replaces
 * it. The wait is bounded by `maxWait` and by the record's `expiresAt`; past the bound polling
 * fails with `StillPending`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { RateBudget } from "./RateBudget.js"
import type { Resolution, Resolver } from "./Resolver.js"
import * as WriteAction from "./WriteAction.js"
import { parseWriteActionId, XquikClient } from "./XquikClient.js"
import * as XquikError from "./XquikError.js"

// ---------------------------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------------------------

/**
 * The default schedule: 1 s, doubling, jittered, at most 30 s between polls. It is used only
 * while the server gives no hint.
 *
 * @example
 * ```ts
 * import { Schedule } from "effect"
 * import { Polling } from "xquik-write-queue"
 *
 * // The default pacing, but at most 20 polls while the server gives no hint.
 * const observations = Polling.polls("42", {
 *   schedule: Schedule.intersect(Polling.defaultSchedule, Schedule.recurs(20))
 * })
 * ```
 *
 * @since 0.1.0
 * @category schedules
 */
export const defaultSchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential("1 second").pipe(
  Schedule.jittered,
  Schedule.union(Schedule.spaced("30 seconds"))
)

/**
 * How to poll.
 *
 * @example
 * ```ts
 * import { Polling } from "xquik-write-queue"
 *
 * const options: Polling.Options = { initialDelay: "1 second", maxWait: "5 minutes", account: "@acme" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<R = never> {
  /** Used while the server gives no hint. Default {@link defaultSchedule}. */
  readonly schedule?: Schedule.Schedule<unknown, WriteAction.Observation, R> | undefined
  /** Wait this long before the first poll. Default: poll at once. */
  readonly initialDelay?: Duration.DurationInput | undefined
  /**
   * The write's own answer (a 202). Its Retry-After / pollAfterMs delay the first poll, and it is
   * the last observation until the first poll.
   */
  readonly after?: WriteAction.Observation | undefined
  /** Lower clamp of server hints. Default 250 ms. */
  readonly minDelay?: Duration.DurationInput | undefined
  /** Upper clamp of server hints. Default 5 minutes. */
  readonly maxDelay?: Duration.DurationInput | undefined
  /** Bound of the whole wait. Default 15 minutes (a pending DM settles within 15 minutes). */
  readonly maxWait?: Duration.DurationInput | undefined
  /** The account whose read budget the polls take from (when a `RateBudget` is provided). */
  readonly account?: string | undefined
}

/**
 * Errors polling can end with: past its bound, or a read error that outlived the client's retries.
 *
 * @example
 * ```ts
 * import { Polling } from "xquik-write-queue"
 *
 * const explain = (error: Polling.PollError): string =>
 *   error._tag === "StillPending" ? `still pending after ${error.polls} polls` : error.message
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type PollError = XquikError.StillPending | XquikError.XquikError

/**
 * Errors {@link awaitOutcome} can end with.
 *
 * @example
 * ```ts
 * import { Polling } from "xquik-write-queue"
 *
 * const mayUseNewKey = (error: Polling.AwaitError): boolean => error._tag === "WriteFailed" && error.safeToRetry
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type AwaitError = XquikError.WriteFailed | XquikError.WriteExpired | PollError

const defaults = {
  minDelayMs: 250,
  maxDelayMs: 5 * 60_000,
  maxWaitMs: 15 * 60_000
}

const millis = (input: Duration.DurationInput | undefined, fallback: number): number =>
  input === undefined ? fallback : Duration.toMillis(Duration.decode(input))

/**
 * The server's hint in an observation; see {@link WriteAction.serverHint}.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { Polling, WriteAction } from "xquik-write-queue"
 *
 * const nextDelayMs = (observation: WriteAction.Observation): number =>
 *   Polling.clampHint(Option.getOrElse(Polling.serverHint(observation), () => 1000))
 * ```
 *
 * @since 0.1.0
 * @category delays
 */
export const serverHint = WriteAction.serverHint

/**
 * Clamps a server hint to `[minDelay, maxDelay]` (defaults 250 ms and 5 minutes).
 *
 * @example
 * ```ts
 * import { Polling } from "xquik-write-queue"
 *
 * Polling.clampHint(10) // 250: never faster than minDelay
 * Polling.clampHint(600_000, { maxDelay: "1 minute" }) // 60000
 * ```
 *
 * @since 0.1.0
 * @category delays
 */
export const clampHint = (
  hintMs: number,
  options: {
    readonly minDelay?: Duration.DurationInput | undefined
    readonly maxDelay?: Duration.DurationInput | undefined
  } = {}
): number => {
  const min = millis(options.minDelay, defaults.minDelayMs)
  const max = Math.max(min, millis(options.maxDelay, defaults.maxDelayMs))
  return Math.min(Math.max(hintMs, min), max)
}

// ---------------------------------------------------------------------------------------------
// the poll loop
// ---------------------------------------------------------------------------------------------

/** One poll loop's state and its `next` step; see {@link polls}. */
interface Session<R> {
  readonly next: Effect.Effect<WriteAction.Observation, PollError, R>
  readonly last: () => Option.Option<WriteAction.Observation>
  readonly polls: () => number
}

const makeSession = <R>(
  id: WriteAction.WriteActionId,
  options: Options<R>
): Effect.Effect<Session<R>, never, XquikClient> =>
  Effect.gen(function* () {
    const client = yield* XquikClient
    const budget = yield* Effect.serviceOption(RateBudget)
    const startedAt = yield* Clock.currentTimeMillis
    const schedule: Schedule.Schedule<unknown, WriteAction.Observation, R> = options.schedule ?? defaultSchedule
    const clamp = (ms: number) => clampHint(ms, options)

    let scheduleState: unknown = schedule.initial
    let last: Option.Option<WriteAction.Observation> = Option.fromNullable(options.after)
    let hint: Option.Option<number> = Option.flatMap(last, serverHint)
    let polls = 0
    let deadline = startedAt + millis(options.maxWait, defaults.maxWaitMs)
    const bound = (observation: WriteAction.Observation) => {
      const expires = WriteAction.expiresAt(observation.record)
      if (Option.isSome(expires)) deadline = Math.min(deadline, expires.value)
    }
    if (options.after !== undefined) bound(options.after)

    const stillPending = (now: number) =>
      new XquikError.StillPending({
        writeActionId: id,
        lastObservation: last,
        polls,
        waited: Duration.millis(now - startedAt)
      })

    // The delay before the next poll, and whether it came from the server (a server delay is never
    // shortened to fit the bound: polling early would break the server's pacing).
    const delay = (now: number): Effect.Effect<Option.Option<{ ms: number; fromServer: boolean }>, never, R> => {
      if (polls === 0) {
        const initial = millis(options.initialDelay, 0)
        const fromHint = Option.map(hint, clamp)
        return Effect.succeed(
          Option.some({
            ms: Math.max(
              initial,
              Option.getOrElse(fromHint, () => 0)
            ),
            fromServer: Option.isSome(fromHint)
          })
        )
      }
      if (Option.isSome(hint)) return Effect.succeed(Option.some({ ms: clamp(hint.value), fromServer: true }))
      const input = Option.getOrUndefined(last)
      if (input === undefined) return Effect.succeed(Option.some({ ms: 0, fromServer: false }))
      return Effect.map(schedule.step(now, input, scheduleState), ([state, _out, decision]) => {
        scheduleState = state
        if (ScheduleDecision.isDone(decision)) return Option.none()
        // Schedules compute in floating point; whole milliseconds are what a timer can keep.
        return Option.some({
          ms: Math.max(0, Math.round(ScheduleIntervals.start(decision.intervals) - now)),
          fromServer: false
        })
      })
    }

    const next: Effect.Effect<WriteAction.Observation, PollError, R> = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const planned = yield* delay(now)
      if (Option.isNone(planned)) return yield* stillPending(now)
      let at = now + planned.value.ms
      if (at > deadline) {
        if (planned.value.fromServer || now >= deadline) return yield* stillPending(now)
        at = deadline
      }
      if (at > now) yield* Effect.sleep(Duration.millis(at - now))
      if (Option.isSome(budget)) yield* budget.value.take("read", options.account)
      const observation = yield* client.getWriteAction(id)
      polls++
      last = Option.some(observation)
      const fresh = serverHint(observation)
      if (Option.isSome(fresh)) hint = fresh
      bound(observation)
      return observation
    })

    return { next, last: () => last, polls: () => polls }
  })

const checkedId = (id: string): Effect.Effect<WriteAction.WriteActionId, XquikError.InvalidWriteActionId> =>
  Either.match(parseWriteActionId(id), { onLeft: Effect.fail, onRight: Effect.succeed })

/** Steps a session until the first terminal observation, calling `onObservation` on each. */
const untilTerminal = <R, E2, R2>(
  session: Session<R>,
  onObservation: (observation: WriteAction.Observation) => Effect.Effect<void, E2, R2>
): Effect.Effect<WriteAction.Observation, PollError | E2, R | R2> => {
  const loop: Effect.Effect<WriteAction.Observation, PollError | E2, R | R2> = Effect.flatMap(
    session.next,
    (observation) =>
      Effect.zipRight(
        onObservation(observation),
        WriteAction.isTerminal(observation.record) ? Effect.succeed(observation) : Effect.suspend(() => loop)
      )
  )
  return loop
}

/**
 * A `Stream` of every observation of a write action, the terminal one included; then it ends.
 * After the first terminal observation no request is made for the id. Interrupting the stream
 * cancels the request in flight.
 *
 * Fails with `StillPending` past the bound (`maxWait`, `expiresAt`, or the end of a finite
 * schedule), with `InvalidWriteActionId` for a bad id (before any request), or with the read
 * error that outlived the client's retries (the observations before it were emitted).
 *
 * @example
 * ```ts
 * import { Console, Stream } from "effect"
 * import { Polling } from "xquik-write-queue"
 *
 * const progress = Polling.polls("42").pipe(
 *   Stream.runForEach((observation) => Console.log(observation.record.status))
 * )
 * ```
 *
 * @since 0.1.0
 * @category polling
 */
export const polls = <R = never>(
  id: string,
  options: Options<R> = {}
): Stream.Stream<WriteAction.Observation, PollError, XquikClient | R> =>
  Stream.unwrap(
    Effect.map(
      Effect.flatMap(checkedId(id), (checked) => makeSession(checked, options)),
      (session) =>
        Stream.paginateEffect(true, (_: boolean) =>
          Effect.map(
            session.next,
            (observation) =>
              [observation, WriteAction.isTerminal(observation.record) ? Option.none() : Option.some(true)] as const
          )
        )
    )
  )

const toOutcome = (
  observation: WriteAction.Observation
): Effect.Effect<WriteAction.Succeeded, XquikError.WriteFailed | XquikError.WriteExpired> => {
  const outcome = WriteAction.outcome(observation.record)
  const writeActionId = observation.record.writeActionId
  switch (outcome._tag) {
    case "Succeeded":
      return Effect.succeed(outcome)
    case "Failed":
      return Effect.fail(
        new XquikError.WriteFailed({
          writeActionId,
          safeToRetry: outcome.safeToRetry,
          record: observation.record,
          ...Option.match(outcome.errorCode, { onNone: () => ({}), onSome: (errorCode) => ({ errorCode }) }),
          ...Option.match(outcome.message, { onNone: () => ({}), onSome: (detail) => ({ detail }) }),
          ...Option.match(outcome.nextAction, { onNone: () => ({}), onSome: (nextAction) => ({ nextAction }) })
        })
      )
    case "Expired":
      return Effect.fail(
        new XquikError.WriteExpired({
          writeActionId,
          record: observation.record,
          ...Option.match(outcome.errorCode, { onNone: () => ({}), onSome: (errorCode) => ({ errorCode }) }),
          ...Option.match(outcome.message, { onNone: () => ({}), onSome: (detail) => ({ detail }) })
        })
      )
    case "Pending":
      // Unreachable: only terminal observations get here.
      return Effect.dieMessage(`write action ${writeActionId} is not terminal`)
  }
}

// ---------------------------------------------------------------------------------------------
// the poller: one shared poll loop per id
// ---------------------------------------------------------------------------------------------

/**
 * The poller's interface: `awaitOutcome` on shared poll loops, and the ids being polled.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Polling } from "xquik-write-queue"
 *
 * const activeLoops = (poller: Polling.PollerShape) => Effect.map(poller.active, (ids) => ids.length)
 * ```
 *
 * @since 0.1.0
 * @category poller
 */
export interface PollerShape {
  /** See {@link awaitOutcome}. */
  readonly awaitOutcome: <R = never>(
    id: string,
    options?: Options<R>
  ) => Effect.Effect<WriteAction.Succeeded, AwaitError, R>
  /** The ids that have a poll loop running now. */
  readonly active: Effect.Effect<ReadonlyArray<string>>
}

/**
 * Shares poll loops: fibers awaiting the same id in one process share one loop, held in a keyed,
 * ref-counted cache and stopped when the last waiter leaves.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Polling } from "xquik-write-queue"
 *
 * const polledNow = Effect.flatMap(Polling.Poller, (poller) => poller.active)
 * ```
 *
 * @since 0.1.0
 * @category poller
 */
export class Poller extends Context.Tag("xquik-write-queue/Poller")<Poller, PollerShape>() {}

interface SharedLoop {
  refs: number
  readonly result: Deferred.Deferred<WriteAction.Observation, PollError>
  readonly session: Session<never>
  fiber: Fiber.RuntimeFiber<void, never> | undefined
}

/**
 * Builds a poller on the client (and the `RateBudget`, when one is provided).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Polling } from "xquik-write-queue"
 *
 * // The poll loops live as long as the scope.
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const poller = yield* Polling.makePoller
 *     return yield* poller.awaitOutcome("42")
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category poller
 */
export const makePoller: Effect.Effect<PollerShape, never, XquikClient | Scope.Scope> = Effect.gen(function* () {
  const scope = yield* Effect.scope
  const services = yield* Effect.context<XquikClient>()
  const budget = yield* Effect.serviceOption(RateBudget)
  const base = Option.match(budget, {
    onNone: () => services,
    onSome: (b) => Context.add(services, RateBudget, b)
  })
  const loops = new Map<string, SharedLoop>()

  // Runs in the first waiter's fiber, so the loop gets that waiter's context (its schedule may
  // need it). The loop's own bound is only `expiresAt`: each waiter bounds its own wait by its
  // `maxWait`, and the loop stops when the last waiter leaves.
  const acquire = <R>(id: WriteAction.WriteActionId, options: Options<R>) =>
    Effect.gen(function* () {
      const existing = loops.get(id)
      if (existing !== undefined) {
        existing.refs++
        return existing
      }
      const context = Context.merge(yield* Effect.context<R>(), base)
      const result = yield* Deferred.make<WriteAction.Observation, PollError>()
      const session = yield* Effect.provide(makeSession(id, { ...options, maxWait: Duration.infinity }), context)
      const provided: Session<never> = { ...session, next: Effect.provide(session.next, context) }
      const shared: SharedLoop = { refs: 1, result, session: provided, fiber: undefined }
      loops.set(id, shared)
      // `acquire` runs uninterruptibly (acquireRelease); the loop itself must stay interruptible
      // so the last waiter's release can stop it.
      shared.fiber = yield* untilTerminal(provided, () => Effect.void).pipe(
        Effect.exit,
        Effect.flatMap((exit) => Deferred.done(result, exit)),
        Effect.asVoid,
        Effect.interruptible,
        Effect.forkIn(scope)
      )
      return shared
    })

  const release = (id: string, shared: SharedLoop) =>
    Effect.suspend(() => {
      shared.refs--
      if (shared.refs > 0) return Effect.void
      if (loops.get(id) === shared) loops.delete(id)
      return shared.fiber === undefined ? Effect.void : Fiber.interrupt(shared.fiber)
    })

  const awaitOutcome = <R = never>(
    id: string,
    options: Options<R> = {}
  ): Effect.Effect<WriteAction.Succeeded, AwaitError, R> =>
    Effect.gen(function* () {
      const checked = yield* checkedId(id)
      const startedAt = yield* Clock.currentTimeMillis
      const maxWait = Duration.millis(millis(options.maxWait, defaults.maxWaitMs))
      const shared = yield* Effect.acquireRelease(acquire(checked, options), (s) => release(checked, s))
      const observation = yield* Deferred.await(shared.result).pipe(
        Effect.timeoutOption(maxWait),
        Effect.flatMap(
          Option.match({
            onSome: Effect.succeed,
            onNone: () =>
              Effect.flatMap(Clock.currentTimeMillis, (now) =>
                Effect.fail(
                  new XquikError.StillPending({
                    writeActionId: checked,
                    lastObservation: shared.session.last(),
                    polls: shared.session.polls(),
                    waited: Duration.millis(now - startedAt)
                  })
                )
              )
          })
        )
      )
      return yield* toOutcome(observation)
    }).pipe(Effect.scoped)

  return {
    awaitOutcome,
    active: Effect.sync(() => [...loops.keys()])
  }
})

/**
 * The poller layer. Give it a `RateBudget` to keep all its loops under the read limit.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Polling, RateBudget } from "xquik-write-queue"
 *
 * const PollerLive = Polling.layer.pipe(Layer.provide(RateBudget.layer()))
 * const outcome = Polling.awaitOutcome("42").pipe(Effect.provide(PollerLive))
 * ```
 *
 * @since 0.1.0
 * @category poller
 */
export const layer: Layer.Layer<Poller, never, XquikClient> = Layer.scoped(Poller, makePoller)

/**
 * Polls a write action to its outcome. `Succeeded` is the value; a terminal `failed` is
 * `WriteFailed` (message, error code, `safeToRetry`, next action, record) and `expired` is
 * `WriteExpired` (the write may be on X: verify it there, never resend). Past `maxWait` (or
 * `expiresAt`) it is `StillPending` with the last observation, the number of polls and the time
 * waited.
 *
 * Fibers awaiting the same id share one poll loop (the first waiter's pacing options apply); each
 * waiter keeps its own `maxWait`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Polling } from "xquik-write-queue"
 *
 * const program = Polling.awaitOutcome("42", { maxWait: "2 minutes" }).pipe(
 *   Effect.map((succeeded) => succeeded.resultId)
 * )
 * ```
 *
 * @since 0.1.0
 * @category polling
 */
export const awaitOutcome = <R = never>(
  id: string,
  options: Options<R> = {}
): Effect.Effect<WriteAction.Succeeded, AwaitError, Poller | R> =>
  Effect.flatMap(Poller, (poller) => poller.awaitOutcome(id, options))

/**
 * Awaits many ids, `concurrency` at a time, and returns each one's result in order: a failure of
 * one does not stop the others.
 *
 * @example
 * ```ts
 * import { Effect, Either } from "effect"
 * import { Polling } from "xquik-write-queue"
 *
 * const succeeded = Polling.awaitOutcomes(["42", "43", "44"], { concurrency: 2 }).pipe(
 *   Effect.map((results) => results.filter(Either.isRight).length)
 * )
 * ```
 *
 * @since 0.1.0
 * @category polling
 */
export const awaitOutcomes = <R = never>(
  ids: Iterable<string>,
  options: Options<R> & { readonly concurrency?: number | "unbounded" } = {}
): Effect.Effect<ReadonlyArray<Either.Either<WriteAction.Succeeded, AwaitError>>, never, Poller | R> =>
  Effect.flatMap(Poller, (poller) =>
    Effect.forEach(ids, (id) => Effect.either(poller.awaitOutcome(id, options)), {
      concurrency: options.concurrency ?? 16
    })
  )

/**
 * Polls a write action to its terminal observation, running `resolver` on every observation
 * (pending ones included) and on the terminal one, and returns the terminal outcome.
 *
 * @example
 * ```ts
 * import { Console } from "effect"
 * import { Polling, Resolver } from "xquik-write-queue"
 *
 * const outcome = Polling.resolve(
 *   "42",
 *   Resolver.onPending((pending) => Console.log(`still ${pending.status}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category polling
 */
export const resolve = <E, RR, R = never>(
  id: string,
  resolver: Resolver<E, RR>,
  options: Options<R> = {}
): Effect.Effect<WriteAction.Outcome, PollError | E, XquikClient | R | RR> =>
  Effect.gen(function* () {
    const checked = yield* checkedId(id)
    const session = yield* makeSession(checked, options)
    const terminal = yield* untilTerminal(session, (observation) => {
      const resolution: Resolution = {
        writeActionId: checked,
        outcome: WriteAction.outcome(observation.record),
        observation
      }
      return resolver.resolve(resolution)
    })
    return WriteAction.outcome(terminal.record)
  })

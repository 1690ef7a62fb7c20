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
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Timer from "./internal/timer.js"
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
 * Errors the {@link polls} stream can end with: past its bound (`StillPending`), a read error
 * that outlived the client's retries together with the last observation seen (`PollFailed`), or
 * a bad id before any request (`InvalidWriteActionId`).
 *
 * @example
 * ```ts
 * import { Polling } from "xquik-write-queue"
 *
 * const explain = (error: Polling.PollsError): string =>
 *   error._tag === "PollFailed" ? `${error.error._tag} after ${error.polls} polls` : error.message
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type PollsError = XquikError.StillPending | XquikError.PollFailed | XquikError.InvalidWriteActionId

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

interface SessionServices {
  readonly client: XquikClient["Type"]
  readonly budget: Option.Option<RateBudget["Type"]>
}

const sessionServices: Effect.Effect<SessionServices, never, XquikClient> = Effect.map(
  Effect.zip(XquikClient, Effect.serviceOption(RateBudget)),
  ([client, budget]) => ({ client, budget })
)

/**
 * One poll loop's state: when the next poll is due, one poll, and what the loop has seen. A class
 * rather than closures: a poller keeps thousands of these while they wait.
 */
class Session<R> {
  last: Option.Option<WriteAction.Observation>
  polls = 0
  private scheduleState: unknown
  private hint: Option.Option<number>
  private deadline: number

  constructor(
    readonly id: WriteAction.WriteActionId,
    private readonly options: Options<R>,
    private readonly services: SessionServices,
    readonly startedAt: number,
    bounded: boolean
  ) {
    this.scheduleState = (options.schedule ?? defaultSchedule).initial
    this.last = Option.fromNullable(options.after)
    this.hint = Option.flatMap(this.last, serverHint)
    this.deadline = bounded ? startedAt + millis(options.maxWait, defaults.maxWaitMs) : Number.POSITIVE_INFINITY
    if (options.after !== undefined) this.bound(options.after)
  }

  private bound(observation: WriteAction.Observation) {
    const expires = WriteAction.expiresAt(observation.record)
    if (Option.isSome(expires)) this.deadline = Math.min(this.deadline, expires.value)
  }

  stillPending(now: number): XquikError.StillPending {
    return new XquikError.StillPending({
      writeActionId: this.id,
      lastObservation: this.last,
      polls: this.polls,
      waited: Duration.millis(now - this.startedAt)
    })
  }

  /** A read error, with what the session had seen before it. */
  pollFailed(error: XquikError.XquikError, now: number): XquikError.PollFailed {
    return new XquikError.PollFailed({
      writeActionId: this.id,
      error,
      lastObservation: this.last,
      polls: this.polls,
      waited: Duration.millis(now - this.startedAt)
    })
  }

  // Fits a planned delay into the bound. A server delay is never shortened to fit it: polling
  // early would break the server's pacing.
  private fit(now: number, ms: number, fromServer: boolean): Either.Either<number, XquikError.StillPending> {
    const at = now + ms
    if (at <= this.deadline) return Either.right(at)
    return fromServer || now >= this.deadline ? Either.left(this.stillPending(now)) : Either.right(this.deadline)
  }

  /**
   * When the next poll is due without stepping the schedule: the first poll (at once, or after the
   * initial delay or the hint it was given), or any poll while the server's hint stands.
   */
  planWithoutSchedule(now: number): Option.Option<Either.Either<number, XquikError.StillPending>> {
    const hint = Option.map(this.hint, (ms) => clampHint(ms, this.options))
    if (this.polls === 0) {
      const ms = Math.max(
        millis(this.options.initialDelay, 0),
        Option.getOrElse(hint, () => 0)
      )
      return Option.some(this.fit(now, ms, Option.isSome(hint)))
    }
    if (Option.isSome(hint)) return Option.some(this.fit(now, hint.value, true))
    if (Option.isNone(this.last)) return Option.some(this.fit(now, 0, false))
    return Option.none()
  }

  /** When the next poll is due (Clock milliseconds), or `StillPending` when there is none. */
  plan(now: number): Effect.Effect<number, XquikError.StillPending, R> {
    const known = this.planWithoutSchedule(now)
    if (Option.isSome(known)) return known.value
    const schedule: Schedule.Schedule<unknown, WriteAction.Observation, R> = this.options.schedule ?? defaultSchedule
    const input = (this.last as Option.Some<WriteAction.Observation>).value
    return Effect.flatMap(schedule.step(now, input, this.scheduleState), ([state, _out, decision]) => {
      this.scheduleState = state
      if (ScheduleDecision.isDone(decision)) return Effect.fail(this.stillPending(now))
      // Schedules compute in floating point; whole milliseconds are what a timer can keep.
      return this.fit(now, Math.max(0, Math.round(ScheduleIntervals.start(decision.intervals) - now)), false)
    })
  }

  /** One poll now, through the rate budget; the session's state follows the answer. */
  fetch(): Effect.Effect<WriteAction.Observation, XquikError.XquikError> {
    const { budget, client } = this.services
    const get = client.getWriteAction(this.id)
    return Effect.map(
      Option.isSome(budget) ? Effect.zipRight(budget.value.take("read", this.options.account), get) : get,
      (observation) => {
        this.polls++
        this.last = Option.some(observation)
        const fresh = serverHint(observation)
        if (Option.isSome(fresh)) this.hint = fresh
        this.bound(observation)
        return observation
      }
    )
  }

  /** Sleeps until the next poll is due, then polls. */
  next(): Effect.Effect<WriteAction.Observation, PollError, R> {
    return Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(this.plan(now), (at) =>
        at > now ? Effect.zipRight(Effect.sleep(Duration.millis(at - now)), this.fetch()) : this.fetch()
      )
    )
  }
}

const makeSession = <R>(
  id: WriteAction.WriteActionId,
  options: Options<R>
): Effect.Effect<Session<R>, never, XquikClient> =>
  Effect.zipWith(
    sessionServices,
    Clock.currentTimeMillis,
    (services, now) => new Session(id, options, services, now, true)
  )

const checkedId = (id: string): Effect.Effect<WriteAction.WriteActionId, XquikError.InvalidWriteActionId> =>
  Either.match(parseWriteActionId(id), { onLeft: Effect.fail, onRight: Effect.succeed })

/** Steps a session until the first terminal observation, calling `onObservation` on each. */
const untilTerminal = <R, E2, R2>(
  session: Session<R>,
  onObservation: (observation: WriteAction.Observation) => Effect.Effect<void, E2, R2>
): Effect.Effect<WriteAction.Observation, PollError | E2, R | R2> => {
  const loop: Effect.Effect<WriteAction.Observation, PollError | E2, R | R2> = Effect.flatMap(
    session.next(),
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
 * schedule), with `InvalidWriteActionId` for a bad id (before any request), or with
 * `PollFailed` when a read error outlived the client's retries: it carries that typed error and
 * the last observation seen (which was also emitted).
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
): Stream.Stream<WriteAction.Observation, PollsError, XquikClient | R> =>
  Stream.unwrap(
    Effect.map(
      Effect.flatMap(checkedId(id), (checked) => makeSession(checked, options)),
      (session) =>
        Stream.paginateEffect(true, (_: boolean) =>
          Effect.map(
            Effect.catchIf(
              session.next(),
              (error): error is XquikError.XquikError => error._tag !== "StillPending",
              (error) => Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fail(session.pollFailed(error, now)))
            ),
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

/** A waiter on a shared loop: how to resume it, and its own `maxWait`. */
interface Waiter {
  readonly loop: SharedLoop
  readonly startedAt: number
  resume: ((exit: Exit.Exit<WriteAction.Observation, PollError>) => void) | undefined
  deadline: Timer.Entry | undefined
}

/** One id's poll loop: a timer entry while it waits, a short fiber while a poll is in flight. */
interface SharedLoop {
  readonly session: Session<unknown>
  readonly context: Context.Context<unknown>
  /** An array, not a Set: almost every loop has one waiter, and a poller keeps thousands. */
  readonly waiters: Array<Waiter>
  next: Timer.Entry | undefined
  inFlight: Fiber.RuntimeFiber<void, never> | undefined
  done: boolean
}

/**
 * Builds a poller on the client (and the `RateBudget`, when one is provided).
 *
 * A waiting loop is an entry in one timer, not a sleeping fiber, and a waiter is a suspended
 * fiber with no timeout fiber beside it: ten thousand waiters cost little more than their own
 * fibers.
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
  const services = yield* sessionServices
  const timer = yield* Timer.make
  // Poll fibers run in a set that the scope interrupts when it closes.
  const fork = yield* FiberSet.makeRuntime<never, void, never>()
  const loops = new Map<string, SharedLoop>()

  const settle = (waiter: Waiter, exit: Exit.Exit<WriteAction.Observation, PollError>) => {
    if (waiter.deadline !== undefined) timer.cancel(waiter.deadline)
    waiter.deadline = undefined
    const resume = waiter.resume
    waiter.resume = undefined
    resume?.(exit)
  }

  // The loop is over: every waiter gets the same exit, and the id is free for a new loop.
  const finish = (loop: SharedLoop, exit: Exit.Exit<WriteAction.Observation, PollError>) => {
    if (loop.done) return
    loop.done = true
    if (loops.get(loop.session.id) === loop) loops.delete(loop.session.id)
    if (loop.next !== undefined) timer.cancel(loop.next)
    loop.next = undefined
    const waiters = loop.waiters.splice(0)
    for (const waiter of waiters) settle(waiter, exit)
  }

  // When the poller's scope closes, its waiters are interrupted rather than left waiting.
  yield* Effect.addFinalizer(() =>
    Effect.flatMap(Effect.fiberId, (fiberId) =>
      Effect.sync(() => {
        for (const loop of [...loops.values()]) finish(loop, Exit.interrupt(fiberId))
      })
    )
  )

  // Polls while the next poll is due at once, then parks the loop in the timer. Runs in its own
  // short fiber, so the last waiter leaving can interrupt the request in flight.
  const pollFrom = (loop: SharedLoop): Effect.Effect<void> =>
    Effect.gen(function* () {
      for (;;) {
        const observation = yield* loop.session.fetch()
        if (WriteAction.isTerminal(observation.record)) return finish(loop, Exit.succeed(observation))
        const now = yield* Clock.currentTimeMillis
        const at = yield* Effect.provide(loop.session.plan(now), loop.context)
        if (loop.done) return
        if (at > now) {
          loop.next = timer.schedule(at, () => start(loop))
          return
        }
      }
    }).pipe(
      Effect.catchAllCause((cause) => Effect.sync(() => finish(loop, Exit.failCause(cause)))),
      Effect.ensuring(
        Effect.sync(() => {
          loop.inFlight = undefined
        })
      )
    )

  const startNow = (loop: SharedLoop) => {
    loop.next = undefined
    if (loop.done) return
    const fiber = fork(pollFrom(loop))
    // A poll that has already ended has nothing left to interrupt.
    loop.inFlight = fiber.unsafePoll() === null ? fiber : undefined
  }
  const start = (loop: SharedLoop): Effect.Effect<void> => Effect.sync(() => startNow(loop))

  const leave = (waiter: Waiter) => {
    if (waiter.deadline !== undefined) timer.cancel(waiter.deadline)
    waiter.deadline = undefined
    waiter.resume = undefined
    const loop = waiter.loop
    const at = loop.waiters.indexOf(waiter)
    if (at >= 0) loop.waiters.splice(at, 1)
    if (loop.waiters.length > 0 || loop.done) return
    // The last waiter left: the loop stops, and its request in flight is cancelled.
    loop.done = true
    if (loops.get(loop.session.id) === loop) loops.delete(loop.session.id)
    if (loop.next !== undefined) timer.cancel(loop.next)
    loop.next = undefined
    const fiber = loop.inFlight
    loop.inFlight = undefined
    if (fiber !== undefined) fiber.unsafeInterruptAsFork(FiberId.none)
  }

  // Joins the id's loop (opening it if there is none) and waits, all in one step: there is no
  // moment at which the waiter is counted but cannot be interrupted, or the other way round.
  const join = <R>(id: WriteAction.WriteActionId, options: Options<R>, context: Context.Context<R>, now: number) =>
    Effect.async<WriteAction.Observation, PollError>((resume) => {
      const existing = loops.get(id)
      const loop: SharedLoop = existing ?? {
        session: new Session(id, options as Options<unknown>, services, now, false),
        context: context as Context.Context<unknown>,
        waiters: [],
        next: undefined,
        inFlight: undefined,
        done: false
      }
      const waiter: Waiter = { loop, startedAt: now, resume, deadline: undefined }
      loop.waiters.push(waiter)
      if (existing === undefined) {
        loops.set(id, loop)
        // The first poll's time needs no schedule step: at once, or after the initial delay or
        // the hint the caller passed.
        const first = Option.getOrElse(loop.session.planWithoutSchedule(now), () => Either.right(now))
        if (Either.isLeft(first)) return finish(loop, Exit.fail(first.left))
        if (first.right <= now) startNow(loop)
        else loop.next = timer.schedule(first.right, () => start(loop))
      }
      const maxWait = millis(options.maxWait, defaults.maxWaitMs)
      if (Number.isFinite(maxWait)) {
        waiter.deadline = timer.schedule(now + maxWait, (at) =>
          Effect.sync(() => {
            waiter.deadline = undefined
            const stillPending = new XquikError.StillPending({
              writeActionId: id,
              lastObservation: loop.session.last,
              polls: loop.session.polls,
              waited: Duration.millis(at - waiter.startedAt)
            })
            settle(waiter, Exit.fail(stillPending))
            leave(waiter)
          })
        )
      }
      return Effect.sync(() => leave(waiter))
    })

  const awaitOutcome = <R = never>(
    id: string,
    options: Options<R> = {}
  ): Effect.Effect<WriteAction.Succeeded, AwaitError, R> =>
    Effect.flatMap(checkedId(id), (checked) =>
      Effect.flatMap(Effect.context<R>(), (context) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.flatMap(join(checked, options, context, now), toOutcome)
        )
      )
    )

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

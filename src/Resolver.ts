/**
 * Resolvers: what to do with each outcome of a write, as an Effect.
 *
 * A resolver looks at a {@link Resolution} (the write action id, its outcome, and the
 * observation it came from) and either handles it (running its effect) or passes. Resolvers
 * compose: {@link orElse} tries one then the next, {@link all} runs several in order, {@link tap}
 * adds a side effect, {@link mapEffect} wraps the effect (retry, timeout, …), {@link provide}
 * supplies what it needs. Their types say what they still need (`R`) and can fail with (`E`).
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import * as Ref from "effect/Ref"
import * as QueueRow from "./QueueRow.js"
import type * as WriteAction from "./WriteAction.js"

/**
 * What a resolver is given.
 *
 * @example
 * ```ts
 * import { Resolver } from "xquik-write-queue"
 *
 * const summary = (resolution: Resolver.Resolution): string =>
 *   `${resolution.writeActionId}: ${resolution.outcome._tag} (HTTP ${resolution.observation.httpStatus})`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Resolution {
  readonly writeActionId: WriteAction.WriteActionId
  readonly outcome: WriteAction.Outcome
  readonly observation: WriteAction.Observation
}

const TypeId: unique symbol = Symbol.for("xquik-write-queue/Resolver")

/**
 * A handler of resolutions that says whether it handled one. Build it with {@link make},
 * {@link fromFunction} or the `on…` constructors; `E` and `R` are what it can fail with and what it needs.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * const audit: Resolver.Resolver = Resolver.fromFunction((resolution) =>
 *   Effect.as(Effect.logInfo(`${resolution.writeActionId}: ${resolution.outcome._tag}`), true)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Resolver<out E = never, out R = never> extends Pipeable {
  readonly [TypeId]: typeof TypeId
  /** Runs the resolver; succeeds with `true` when it handled the resolution, `false` when it passed. */
  readonly resolve: (resolution: Resolution) => Effect.Effect<boolean, E, R>
}

const Proto = {
  [TypeId]: TypeId,
  pipe() {
    // biome-ignore lint/complexity/noArguments: Pipeable's own protocol
    return pipeArguments(this, arguments)
  }
}

/**
 * A resolver from its `resolve` function.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * // Handles terminal outcomes only, by logging them.
 * const logTerminal = Resolver.fromFunction((resolution) =>
 *   resolution.outcome._tag === "Pending"
 *     ? Effect.succeed(false)
 *     : Effect.as(Effect.logInfo(`${resolution.writeActionId} ended ${resolution.outcome._tag}`), true)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromFunction = <E, R>(
  resolve: (resolution: Resolution) => Effect.Effect<boolean, E, R>
): Resolver<E, R> => {
  const self = Object.create(Proto)
  self.resolve = resolve
  return self
}

/**
 * Whether a value is a {@link Resolver}.
 *
 * @example
 * ```ts
 * import { Resolver } from "xquik-write-queue"
 *
 * Resolver.isResolver(Resolver.none) // true
 * Resolver.isResolver({ resolve: () => true }) // false
 * ```
 *
 * @since 0.1.0
 * @category refinements
 */
export const isResolver = (u: unknown): u is Resolver<unknown, unknown> =>
  typeof u === "object" && u !== null && TypeId in u

type Handler<A, E, R> = (outcome: A, resolution: Resolution) => Effect.Effect<void, E, R>

/**
 * A resolver with a handler per outcome; an outcome without a handler passes.
 *
 * @example
 * ```ts
 * import { Console } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * const log = Resolver.make({
 *   success: (o) => Console.log("posted", o.resultId),
 *   failed: (o) => Console.log("failed", o.errorCode)
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <
  E1 = never,
  R1 = never,
  E2 = never,
  R2 = never,
  E3 = never,
  R3 = never,
  E4 = never,
  R4 = never
>(handlers: {
  readonly success?: Handler<WriteAction.Succeeded, E1, R1>
  readonly pending?: Handler<WriteAction.Pending, E2, R2>
  readonly failed?: Handler<WriteAction.Failed, E3, R3>
  readonly expired?: Handler<WriteAction.Expired, E4, R4>
}): Resolver<E1 | E2 | E3 | E4, R1 | R2 | R3 | R4> =>
  fromFunction((resolution): Effect.Effect<boolean, E1 | E2 | E3 | E4, R1 | R2 | R3 | R4> => {
    const outcome = resolution.outcome
    const run = <A, E, R>(handler: Handler<A, E, R> | undefined, value: A) =>
      handler === undefined ? Effect.succeed(false) : Effect.as(handler(value, resolution), true)
    switch (outcome._tag) {
      case "Succeeded":
        return run(handlers.success, outcome)
      case "Pending":
        return run(handlers.pending, outcome)
      case "Failed":
        return run(handlers.failed, outcome)
      case "Expired":
        return run(handlers.expired, outcome)
    }
  })

/**
 * Handles `Succeeded`.
 *
 * @example
 * ```ts
 * import { Console, Option } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * const announce = Resolver.onSuccess((succeeded) =>
 *   Console.log(`posted: ${Option.getOrElse(succeeded.resultId, () => "?")}`)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const onSuccess = <E, R>(f: Handler<WriteAction.Succeeded, E, R>): Resolver<E, R> => make({ success: f })

/**
 * Handles `Pending` (every non-terminal observation).
 *
 * @example
 * ```ts
 * import { Console } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * const progress = Resolver.onPending((pending, resolution) =>
 *   Console.log(`${resolution.writeActionId} is ${pending.status}`)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const onPending = <E, R>(f: Handler<WriteAction.Pending, E, R>): Resolver<E, R> => make({ pending: f })

/**
 * Handles `Failed`.
 *
 * @example
 * ```ts
 * import { Console, Option } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * const report = Resolver.onFailed((failed) =>
 *   Console.error("failed:", Option.getOrElse(failed.errorCode, () => "unknown"), "safe to retry:", failed.safeToRetry)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const onFailed = <E, R>(f: Handler<WriteAction.Failed, E, R>): Resolver<E, R> => make({ failed: f })

/**
 * Handles `Expired` (the write may be on X: verify it there).
 *
 * @example
 * ```ts
 * import { Console } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * const verify = Resolver.onExpired((_expired, resolution) =>
 *   Console.warn(`check X for write action ${resolution.writeActionId} before writing again`)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const onExpired = <E, R>(f: Handler<WriteAction.Expired, E, R>): Resolver<E, R> => make({ expired: f })

/**
 * Handles `Failed` with this error code only, e.g. `x_duplicate_action`.
 *
 * @example
 * ```ts
 * import { Console } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * const duplicates = Resolver.onFailedCode("x_duplicate_action", () => Console.log("already on X"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const onFailedCode = <E, R>(code: string, f: Handler<WriteAction.Failed, E, R>): Resolver<E, R> =>
  fromFunction((resolution) => {
    const outcome = resolution.outcome
    return outcome._tag === "Failed" && Option.contains(outcome.errorCode, code)
      ? Effect.as(f(outcome, resolution), true)
      : Effect.succeed(false)
  })

/**
 * A resolver that handles nothing.
 *
 * @example
 * ```ts
 * import { Console } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * const resolverFor = (verbose: boolean) =>
 *   verbose ? Resolver.onSuccess(() => Console.log("posted")) : Resolver.none
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const none: Resolver = fromFunction(() => Effect.succeed(false))

/**
 * The first of the two that handles the resolution.
 *
 * @example
 * ```ts
 * import { Console } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * // Duplicates are fine; any other failure is reported.
 * const failures = Resolver.onFailedCode("x_duplicate_action", () => Console.log("already on X")).pipe(
 *   Resolver.orElse(Resolver.onFailed((failed) => Console.error("failed", failed.errorCode)))
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const orElse: {
  <E2, R2>(that: Resolver<E2, R2>): <E, R>(self: Resolver<E, R>) => Resolver<E | E2, R | R2>
  <E, R, E2, R2>(self: Resolver<E, R>, that: Resolver<E2, R2>): Resolver<E | E2, R | R2>
} = dual(
  2,
  <E, R, E2, R2>(self: Resolver<E, R>, that: Resolver<E2, R2>): Resolver<E | E2, R | R2> =>
    fromFunction((resolution) =>
      Effect.flatMap(self.resolve(resolution), (handled) => (handled ? Effect.succeed(true) : that.resolve(resolution)))
    )
)

/**
 * Every resolver that handles the resolution, in order (several side effects for one outcome).
 * Handled when any of them handled it.
 *
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * const onPosted = Resolver.all(
 *   Resolver.onSuccess(() => Console.log("posted")),
 *   Resolver.onSuccess((succeeded) => Effect.logInfo("charged", succeeded.chargedCredits))
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export function all<E1, R1>(r1: Resolver<E1, R1>): Resolver<E1, R1>
export function all<E1, R1, E2, R2>(r1: Resolver<E1, R1>, r2: Resolver<E2, R2>): Resolver<E1 | E2, R1 | R2>
export function all<E1, R1, E2, R2, E3, R3>(
  r1: Resolver<E1, R1>,
  r2: Resolver<E2, R2>,
  r3: Resolver<E3, R3>
): Resolver<E1 | E2 | E3, R1 | R2 | R3>
export function all<E1, R1, E2, R2, E3, R3, E4, R4>(
  r1: Resolver<E1, R1>,
  r2: Resolver<E2, R2>,
  r3: Resolver<E3, R3>,
  r4: Resolver<E4, R4>
): Resolver<E1 | E2 | E3 | E4, R1 | R2 | R3 | R4>
export function all<E1, R1, E2, R2, E3, R3, E4, R4, E5, R5>(
  r1: Resolver<E1, R1>,
  r2: Resolver<E2, R2>,
  r3: Resolver<E3, R3>,
  r4: Resolver<E4, R4>,
  r5: Resolver<E5, R5>
): Resolver<E1 | E2 | E3 | E4 | E5, R1 | R2 | R3 | R4 | R5>
export function all<E, R>(...resolvers: ReadonlyArray<Resolver<E, R>>): Resolver<E, R>
export function all(...resolvers: ReadonlyArray<Resolver<unknown, unknown>>): Resolver<unknown, unknown> {
  return fromFunction((resolution) =>
    Effect.reduce(resolvers, false, (handled, resolver) =>
      Effect.map(resolver.resolve(resolution), (h) => handled || h)
    )
  )
}

/**
 * Runs `f` after `self` handled a resolution.
 *
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * const report = Resolver.onFailed(() => Console.error("a write failed")).pipe(
 *   Resolver.tap((resolution) => Effect.logWarning(`failed: ${resolution.writeActionId}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const tap: {
  <E2, R2>(
    f: (resolution: Resolution) => Effect.Effect<unknown, E2, R2>
  ): <E, R>(self: Resolver<E, R>) => Resolver<E | E2, R | R2>
  <E, R, E2, R2>(
    self: Resolver<E, R>,
    f: (resolution: Resolution) => Effect.Effect<unknown, E2, R2>
  ): Resolver<E | E2, R | R2>
} = dual(
  2,
  <E, R, E2, R2>(
    self: Resolver<E, R>,
    f: (resolution: Resolution) => Effect.Effect<unknown, E2, R2>
  ): Resolver<E | E2, R | R2> =>
    fromFunction((resolution) =>
      Effect.tap(self.resolve(resolution), (handled) => (handled ? f(resolution) : Effect.void))
    )
)

/**
 * Wraps the resolver's effect: add a retry, a timeout, a span, a different error.
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * const notify = Resolver.onSuccess(() => Effect.tryPromise(() => fetch("https://hooks.example.com/posted")))
 * const patient = Resolver.mapEffect(notify, Effect.retry(Schedule.recurs(3)))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const mapEffect: {
  <E, R, E2, R2>(
    f: (effect: Effect.Effect<boolean, E, R>, resolution: Resolution) => Effect.Effect<boolean, E2, R2>
  ): (self: Resolver<E, R>) => Resolver<E2, R2>
  <E, R, E2, R2>(
    self: Resolver<E, R>,
    f: (effect: Effect.Effect<boolean, E, R>, resolution: Resolution) => Effect.Effect<boolean, E2, R2>
  ): Resolver<E2, R2>
} = dual(
  2,
  <E, R, E2, R2>(
    self: Resolver<E, R>,
    f: (effect: Effect.Effect<boolean, E, R>, resolution: Resolution) => Effect.Effect<boolean, E2, R2>
  ): Resolver<E2, R2> => fromFunction((resolution) => f(self.resolve(resolution), resolution))
)

/**
 * Supplies part (or all) of what the resolver needs.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * class Notifier extends Context.Tag("Notifier")<
 *   Notifier,
 *   { readonly send: (text: string) => Effect.Effect<void> }
 * >() {}
 *
 * const notify = Resolver.onSuccess(() => Effect.flatMap(Notifier, (n) => n.send("posted")))
 * const ready = Resolver.provide(notify, Context.make(Notifier, { send: (text) => Effect.log(text) }))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const provide: {
  <R2>(context: Context.Context<R2>): <E, R>(self: Resolver<E, R>) => Resolver<E, Exclude<R, R2>>
  <E, R, R2>(self: Resolver<E, R>, context: Context.Context<R2>): Resolver<E, Exclude<R, R2>>
} = dual(
  2,
  <E, R, R2>(self: Resolver<E, R>, context: Context.Context<R2>): Resolver<E, Exclude<R, R2>> =>
    fromFunction((resolution) => Effect.provide(self.resolve(resolution), context))
)

/**
 * Supplies one service the resolver needs.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Resolver } from "xquik-write-queue"
 *
 * class Alerts extends Context.Tag("Alerts")<Alerts, { readonly page: (text: string) => Effect.Effect<void> }>() {}
 *
 * const alert = Resolver.onExpired(() => Effect.flatMap(Alerts, (a) => a.page("verify a write on X")))
 * const ready = Resolver.provideService(alert, Alerts, { page: (text) => Effect.logWarning(text) })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const provideService: {
  <I, S>(tag: Context.Tag<I, S>, service: S): <E, R>(self: Resolver<E, R>) => Resolver<E, Exclude<R, I>>
  <E, R, I, S>(self: Resolver<E, R>, tag: Context.Tag<I, S>, service: S): Resolver<E, Exclude<R, I>>
} = dual(
  3,
  <E, R, I, S>(self: Resolver<E, R>, tag: Context.Tag<I, S>, service: S): Resolver<E, Exclude<R, I>> =>
    fromFunction((resolution) => Effect.provideService(self.resolve(resolution), tag, service))
)

/**
 * The resolver that keeps the queue-state row: every observation is folded into the row in `ref`
 * with {@link QueueRow.fromObservation} (monotonic: late answers are ignored, a terminal row
 * stays). It handles every outcome; compose it with {@link all} to keep the row and run your
 * own effects.
 *
 * @example
 * ```ts
 * import { Effect, Option, Ref } from "effect"
 * import { Polling, QueueRow, Resolver } from "xquik-write-queue"
 *
 * const program = Effect.gen(function* () {
 *   const row = yield* Ref.make(Option.none<QueueRow.QueueRow>())
 *   yield* Polling.resolve("42", Resolver.queueRow(row))
 *   return yield* Ref.get(row)
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const queueRow = (ref: Ref.Ref<Option.Option<QueueRow.QueueRow>>): Resolver =>
  fromFunction((resolution) =>
    Ref.update(ref, (previous) =>
      Option.some(QueueRow.fromObservation(resolution.observation, Option.getOrUndefined(previous)))
    ).pipe(Effect.as(true))
  )

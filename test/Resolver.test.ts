import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Polling from "../src/Polling.js"
import type * as QueueRow from "../src/QueueRow.js"
import * as Resolver from "../src/Resolver.js"
import * as Sim from "../src/testing/XquikSimulator.js"

const { Steps } = Sim

class Notifier extends Context.Tag("test/Notifier")<
  Notifier,
  { readonly send: (text: string) => Effect.Effect<void> }
>() {}
class NotifyError extends Error {
  readonly _tag = "NotifyError"
}

const fast = { retryAfterSeconds: 0, pollAfterMs: 0 } as const

/** Runs `resolver` over a seeded action's polls and returns the calls it recorded. */
const run = <E>(
  steps: ReadonlyArray<Sim.Step>,
  build: (log: (entry: string) => Effect.Effect<void>) => Resolver.Resolver<E>
) =>
  Effect.gen(function* () {
    const sim = yield* Sim.XquikSimulator
    const calls: Array<string> = []
    const id = yield* sim.seed({ steps })
    const outcome = yield* Polling.resolve(
      id,
      build((entry) => Effect.sync(() => calls.push(entry))),
      { minDelay: 0 }
    )
    return { calls, outcome }
  }).pipe(Effect.provide(Sim.layerWithClient(fast)))

describe("Resolver", () => {
  it.live("onSuccess, onPending, onFailed and onExpired see only their outcome", () =>
    Effect.gen(function* () {
      const each = (log: (entry: string) => Effect.Effect<void>) =>
        Resolver.all(
          Resolver.onSuccess((o) => log(`success ${Option.getOrElse(o.resultId, () => "?")}`)),
          Resolver.onPending((o) => log(`pending ${o.status}`)),
          Resolver.onFailed((o) => log(`failed ${Option.getOrElse(o.errorCode, () => "?")}`)),
          Resolver.onExpired(() => log("expired"))
        )
      const ok = yield* run([Steps.accepted(), Steps.pending(), Steps.success({ resultId: "9" })], each)
      expect(ok.calls).toEqual(["pending accepted", "pending pending_confirmation", "success 9"])
      expect(ok.outcome._tag).toBe("Succeeded")
      expect((yield* run([Steps.failed({ error: "x_rejected" })], each)).calls).toEqual(["failed x_rejected"])
      expect((yield* run([Steps.expired()], each)).calls).toEqual(["expired"])
    })
  )

  it.live("make handles each outcome with its own handler", () =>
    Effect.gen(function* () {
      const { calls } = yield* run([Steps.pending(), Steps.success()], (log) =>
        Resolver.make({ pending: () => log("p"), success: () => log("s") })
      )
      expect(calls).toEqual(["p", "s"])
    })
  )

  it.live("onFailedCode matches one error code, and orElse falls through to the next resolver", () =>
    Effect.gen(function* () {
      const build = (log: (entry: string) => Effect.Effect<void>) =>
        Resolver.onFailedCode("x_duplicate_action", () => log("duplicate: already on X")).pipe(
          Resolver.orElse(Resolver.onFailed((o) => log(`other failure ${Option.getOrElse(o.errorCode, () => "")}`)))
        )
      expect((yield* run([Steps.failed({ error: "x_duplicate_action" })], build)).calls).toEqual([
        "duplicate: already on X"
      ])
      expect((yield* run([Steps.failed({ error: "x_content_too_long" })], build)).calls).toEqual([
        "other failure x_content_too_long"
      ])
    })
  )

  it.live("all runs every resolver that handles, in order; tap runs after a handled outcome only", () =>
    Effect.gen(function* () {
      const { calls } = yield* run([Steps.pending(), Steps.success()], (log) =>
        Resolver.all(
          Resolver.onSuccess(() => log("first")),
          Resolver.onSuccess(() => log("second")).pipe(Resolver.tap((r) => log(`tap ${r.outcome._tag}`)))
        )
      )
      expect(calls).toEqual(["first", "second", "tap Succeeded"])
    })
  )

  it.live("mapEffect wraps the effect: here it recovers a failing resolver", () =>
    Effect.gen(function* () {
      const failing = Resolver.onSuccess(() => Effect.fail(new NotifyError("down")))
      const { calls } = yield* run([Steps.success()], (log) =>
        Resolver.mapEffect(failing, (effect) =>
          Effect.catchAll(effect, (e) => Effect.as(log(`recovered ${e.message}`), true))
        )
      )
      expect(calls).toEqual(["recovered down"])
      const exit = yield* Effect.exit(run([Steps.success()], () => failing))
      expect(exit._tag).toBe("Failure")
    })
  )

  it.live("provide and provideService supply what a resolver needs", () =>
    Effect.gen(function* () {
      const sent: Array<string> = []
      const notifier = { send: (text: string) => Effect.sync(() => sent.push(text)) }
      const needs = Resolver.onSuccess((o) =>
        Effect.flatMap(Notifier, (n) => n.send(`posted ${Option.getOrElse(o.resultId, () => "")}`))
      )
      expectTypeOf(needs).toEqualTypeOf<Resolver.Resolver<never, Notifier>>()
      const provided = Resolver.provideService(needs, Notifier, notifier)
      expectTypeOf(provided).toEqualTypeOf<Resolver.Resolver<never, never>>()
      yield* run([Steps.success({ resultId: "7" })], () => provided)
      yield* run([Steps.success({ resultId: "8" })], () => Resolver.provide(needs, Context.make(Notifier, notifier)))
      expect(sent).toEqual(["posted 7", "posted 8"])
    })
  )

  it("types show what a composed resolver needs and can fail with", () => {
    const a = Resolver.onSuccess(() => Effect.fail(new NotifyError("x")))
    const b = Resolver.onFailed(() => Effect.flatMap(Notifier, (n) => n.send("failed")))
    expectTypeOf(Resolver.orElse(a, b)).toEqualTypeOf<Resolver.Resolver<NotifyError, Notifier>>()
    expectTypeOf(Resolver.all(a, b)).toEqualTypeOf<Resolver.Resolver<NotifyError, Notifier>>()
    expectTypeOf(Resolver.mapEffect(a, Effect.orDie)).toEqualTypeOf<Resolver.Resolver<never, never>>()
    expect(Resolver.isResolver(a)).toBe(true)
    expect(Resolver.isResolver({})).toBe(false)
  })

  it.live("queueRow keeps the row through every observation", () =>
    Effect.gen(function* () {
      const row = yield* Ref.make(Option.none<QueueRow.QueueRow>())
      const { calls } = yield* run(
        [Steps.accepted(), Steps.pending(), Steps.success({ resultId: "2052816150136832166" })],
        (log) =>
          Resolver.all(
            Resolver.queueRow(row),
            Resolver.onSuccess(() => log("done"))
          )
      )
      expect(calls).toEqual(["done"])
      const kept = Option.getOrThrow(yield* Ref.get(row))
      expect(kept).toMatchObject({
        status: "success",
        terminal: true,
        result_id: "2052816150136832166",
        charged_credits: "30",
        polls: 3
      })
    })
  )

  it.live("a resolver that handles nothing passes", () =>
    Effect.gen(function* () {
      const { calls, outcome } = yield* run([Steps.success()], () => Resolver.none)
      expect(calls).toEqual([])
      expect(outcome._tag).toBe("Succeeded")
    }).pipe(Effect.provide(Layer.empty))
  )
})

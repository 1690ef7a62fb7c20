import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Polling from "../src/Polling.js"
import * as RateBudget from "../src/RateBudget.js"
import * as Sim from "../src/testing/XquikSimulator.js"
import * as WriteRequest from "../src/WriteRequest.js"
import { XquikClient } from "../src/XquikClient.js"
import { awaitWakeAt, eventually, liveSleep, wakeNext } from "./support.js"

const { Steps } = Sim

// Request timeouts of a day keep their TestClock sleeps out of the way of the poll delays.
const clientConfig = { timeout: "1 day", readRetry: { times: 0 } } as const
const WINDOW = 10 * 60_000

const withSim = <A, E, R, Extra = never>(
  test: (sim: Sim.XquikSimulatorShape) => Effect.Effect<A, E, R>,
  options: Sim.Options = {},
  extra?: Layer.Layer<Extra>
) =>
  Effect.flatMap(Sim.XquikSimulator, test).pipe(
    Effect.provide(
      Layer.provideMerge(Polling.layer, Layer.merge(Sim.layerWithClient(options, clientConfig), extra ?? Layer.empty))
    )
  )

/** Runs `effect` while stepping the TestClock through `steps` poll delays, one request at a time. */
const stepping = <A, E, R>(sim: Sim.XquikSimulatorShape, effect: Effect.Effect<A, E, R>, steps: number) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    for (let k = 1; k <= steps; k++) {
      yield* sim.awaitRequests(k)
      yield* wakeNext(WINDOW)
    }
    return yield* Fiber.join(fiber)
  })

const times = (sim: Sim.XquikSimulatorShape) =>
  Effect.map(sim.log, (log) => log.filter((e) => e.method === "GET").map((e) => e.at))
const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) =>
  Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

describe("Polling.polls", () => {
  it.effect("N-1 pending answers and one terminal answer take exactly N polls, none after the terminal one", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({
          steps: [Steps.pending(), Steps.pending(), Steps.dispatching(), Steps.pending(), Steps.success()]
        })
        const observations = yield* stepping(sim, collect(Polling.polls(id)), 4)
        expect(observations.map((o) => o.record.status)).toEqual([
          "pending_confirmation",
          "pending_confirmation",
          "dispatching",
          "pending_confirmation",
          "success"
        ])
        // Let any stray poll arrive before counting.
        yield* TestClock.adjust("1 hour")
        yield* liveSleep(20)
        const stats = yield* sim.stats
        expect(stats.pollsById[id]).toBe(5)
        expect(stats.pollsAfterTerminal).toBe(0)
        expect(stats.retryAfterViolations).toBe(0)
      })
    )
  )

  it.effect("the delay is Retry-After, then nextAction.afterMs, then pollAfterMs, and a hint is remembered", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({
          steps: [
            Steps.pending({ retryAfter: 3, pollAfterMs: 7000, nextAction: { type: "poll", afterMs: 5000 } }),
            Steps.pending({ retryAfter: 0, pollAfterMs: 7000, nextAction: { type: "poll", afterMs: 5000 } }),
            Steps.pending({ retryAfter: 0, pollAfterMs: 7000, nextAction: { type: "verify_result", afterMs: 1 } }),
            Steps.pending({ retryAfter: 0, pollAfterMs: null, nextAction: null }),
            Steps.success()
          ]
        })
        yield* stepping(sim, collect(Polling.polls(id, { schedule: Schedule.spaced("1 second") })), 4)
        // 3 s (Retry-After), 5 s (nextAction.afterMs), 7 s (pollAfterMs), 7 s (remembered, not the 1 s schedule)
        expect(yield* times(sim)).toEqual([0, 3000, 8000, 15000, 22000])
      })
    )
  )

  it.effect("without hints the schedule decides, e.g. a fixed 2 s as Azure's poller does", () =>
    withSim(
      (sim) =>
        Effect.gen(function* () {
          const id = yield* sim.seed({ steps: [Steps.pending(), Steps.pending(), Steps.pending(), Steps.success()] })
          yield* stepping(sim, collect(Polling.polls(id, { schedule: Schedule.spaced("2 seconds") })), 3)
          expect(yield* times(sim)).toEqual([0, 2000, 4000, 6000])
        }),
      { retryAfterSeconds: 0, pollAfterMs: null }
    )
  )

  it.effect("the default schedule starts at 1 s, doubles with jitter, and never waits more than 30 s", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const steps = [
          ...Array.from({ length: 8 }, () => Steps.pending({ retryAfter: 0, pollAfterMs: null, nextAction: null })),
          Steps.success()
        ]
        const id = yield* sim.seed({ steps })
        yield* stepping(sim, collect(Polling.polls(id)), 8)
        const at = yield* times(sim)
        const delays = at.slice(1).map((t, i) => t - (at[i] ?? 0))
        expect(delays).toHaveLength(8)
        delays.forEach((delay, i) => {
          const nominal = 1000 * 2 ** i
          expect(delay).toBeGreaterThanOrEqual(Math.min(nominal * 0.8, 30_000))
          expect(delay).toBeLessThanOrEqual(Math.min(nominal * 1.2, 30_000))
        })
        expect(delays.at(-1)).toBe(30_000)
      })
    )
  )

  it.effect("server hints are clamped to [minDelay, maxDelay]", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({
          steps: [
            Steps.pending({ retryAfter: 0, pollAfterMs: 10 }),
            Steps.pending({ retryAfter: 3600 }),
            Steps.success()
          ]
        })
        yield* stepping(sim, collect(Polling.polls(id)), 2)
        expect(yield* times(sim)).toEqual([0, 250, 250 + 5 * 60_000])
      })
    )
  )

  it.effect("the first poll goes out at once, after initialDelay, or after the submit answer's Retry-After", () =>
    withSim(
      (sim) =>
        Effect.gen(function* () {
          const client = yield* XquikClient
          const submitted = yield* client.submit(WriteRequest.like("@a", "1"), WriteRequest.IdempotencyKey.make())
          if (submitted._tag !== "Recorded") throw new Error(submitted._tag)
          const id = submitted.observation.record.writeActionId
          yield* stepping(sim, collect(Polling.polls(id, { after: submitted.observation })), 2)
          expect((yield* sim.log).map((e) => e.at)).toEqual([0, 2000, 4000])

          const seeded = yield* sim.seed({ steps: [Steps.success()] })
          const start = yield* TestClock.currentTimeMillis
          yield* stepping(sim, collect(Polling.polls(seeded, { initialDelay: "5 seconds" })), 0).pipe(
            Effect.fork,
            Effect.tap(() => wakeNext(WINDOW)),
            Effect.flatMap(Fiber.join)
          )
          const last = (yield* sim.log).at(-1)
          expect(last?.at).toBe(start + 5000)
        }),
      { retryAfterSeconds: 2 }
    )
  )

  it.effect("past maxWait it fails with StillPending, the last observation, the polls and the time waited", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.pending({ retryAfter: 0, pollAfterMs: 1000 })] })
        const error = yield* stepping(sim, Effect.flip(collect(Polling.polls(id, { maxWait: "3500 millis" }))), 3)
        expect(error._tag).toBe("StillPending")
        if (error._tag !== "StillPending") return
        expect(error.polls).toBe(4)
        expect(error.waited).toEqual(Duration.millis(3000))
        expect(Option.map(error.lastObservation, (o) => o.record.status)).toEqual(Option.some("pending_confirmation"))
        expect(yield* times(sim)).toEqual([0, 1000, 2000, 3000])
      })
    )
  )

  it.effect("a schedule delay is cut to the bound for one last poll at maxWait", () =>
    withSim(
      (sim) =>
        Effect.gen(function* () {
          const id = yield* sim.seed({ steps: [Steps.pending({ retryAfter: 0, pollAfterMs: null, nextAction: null })] })
          const error = yield* stepping(
            sim,
            Effect.flip(collect(Polling.polls(id, { schedule: Schedule.spaced("2 seconds"), maxWait: "3 seconds" }))),
            2
          )
          expect(error).toMatchObject({ _tag: "StillPending", polls: 3, waited: Duration.millis(3000) })
          expect(yield* times(sim)).toEqual([0, 2000, 3000])
        }),
      { retryAfterSeconds: 0 }
    )
  )

  it.effect("an earlier expiresAt on the record bounds the wait", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.pending({ retryAfter: 0, pollAfterMs: 1000, expiresInMs: 2500 })] })
        const error = yield* stepping(sim, Effect.flip(collect(Polling.polls(id))), 2)
        expect(error).toMatchObject({ _tag: "StillPending", polls: 3 })
        expect(yield* times(sim)).toEqual([0, 1000, 2000])
      })
    )
  )

  it.effect("interrupting the stream cancels the request in flight, and no further poll arrives", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.slow(60_000, Steps.pending())] })
        const fiber = yield* Effect.fork(collect(Polling.polls(id)))
        yield* sim.awaitRequests(1)
        yield* Fiber.interrupt(fiber)
        yield* eventually(
          Effect.map(sim.stats, (s) => s.aborted === 1),
          "the simulator to see the client hang up"
        )
        yield* TestClock.adjust("1 hour")
        yield* liveSleep(20)
        expect((yield* sim.stats).requests).toBe(1)
      })
    )
  )

  it.effect("a read error that outlives the client's retries fails the stream with it and the last observation", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({
          steps: [Steps.pending({ retryAfter: 1 }), Steps.httpError(503, "x_api_unavailable")]
        })
        const seen = yield* Ref.make<ReadonlyArray<string>>([])
        const exit = yield* stepping(
          sim,
          Effect.exit(Stream.runForEach(Polling.polls(id), (o) => Ref.update(seen, (s) => [...s, o.record.status]))),
          1
        )
        expect(yield* Ref.get(seen)).toEqual(["pending_confirmation"])
        const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
        expect(failure).toMatchObject(
          Option.some({ _tag: "PollFailed", writeActionId: id, polls: 1, error: { _tag: "ServerError", status: 503 } })
        )
        const failed = Option.getOrThrow(failure)
        if (failed._tag !== "PollFailed") throw new Error(`expected PollFailed, got ${failed._tag}`)
        expect(Option.map(failed.lastObservation, (o) => o.record.status)).toEqual(Option.some("pending_confirmation"))
        expect(Duration.toMillis(failed.waited)).toBe(1000)
        expect(failed.message).toContain("last status: pending_confirmation")
      })
    )
  )

  it.effect("a bad id fails before any request", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(collect(Polling.polls("../admin")))
        expect(error._tag).toBe("InvalidWriteActionId")
        expect((yield* sim.stats).requests).toBe(0)
      })
    )
  )
})

describe("Polling.awaitOutcome", () => {
  it.effect("succeeds with the result id and billing", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.pending(), Steps.success({ resultId: "1900000000000000001" })] })
        const succeeded = yield* stepping(sim, Polling.awaitOutcome(id), 1)
        expect(succeeded.resultId).toEqual(Option.some("1900000000000000001"))
        expect(succeeded.chargedCredits).toBe("30")
        expect(Option.map(succeeded.billing, (b) => b.status)).toEqual(Option.some("charged"))
      })
    )
  )

  it.effect("a terminal failure is WriteFailed with the message, code, safeToRetry, next action and record", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({
          steps: [Steps.failed({ error: "x_duplicate_action", message: "Duplicate.", safeToRetry: true })]
        })
        const error = yield* Effect.flip(Polling.awaitOutcome(id))
        expect(error).toMatchObject({
          _tag: "WriteFailed",
          writeActionId: id,
          errorCode: "x_duplicate_action",
          detail: "Duplicate.",
          safeToRetry: true,
          nextAction: { type: "retry", requiresNewIdempotencyKey: true }
        })
        expect(error._tag === "WriteFailed" && error.record.status).toBe("failed")
        expect(error.message).toContain("NEW Idempotency-Key")
      })
    )
  )

  it.effect("an expired write is WriteExpired, telling to verify on X and never resend", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.expired()] })
        const error = yield* Effect.flip(Polling.awaitOutcome(id))
        expect(error._tag).toBe("WriteExpired")
        expect(error.message).toMatch(/verify it there; do not resend/)
      })
    )
  )

  it.effect("maxWait gives StillPending with the last observation", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.pending({ retryAfter: 0, pollAfterMs: 1000 })] })
        const fiber = yield* Effect.fork(Effect.flip(Polling.awaitOutcome(id, { maxWait: "2500 millis" })))
        // The loop polls every second; the waiter's own bound, at 2.5 s, comes before the fourth.
        for (const [k, next] of [
          [1, 1000],
          [2, 2000],
          [3, 2500]
        ] as const) {
          yield* sim.awaitRequests(k)
          yield* awaitWakeAt(next)
          yield* TestClock.adjust(next < 2500 ? "1 second" : "500 millis")
        }
        const error = yield* Fiber.join(fiber)
        expect(error).toMatchObject({ _tag: "StillPending", polls: 3, waited: Duration.millis(2500) })
        expect(error._tag === "StillPending" && Option.isSome(error.lastObservation)).toBe(true)
        // The waiter left, so the loop stopped: no more polls.
        yield* TestClock.adjust("1 hour")
        yield* liveSleep(20)
        expect((yield* sim.stats).requests).toBe(3)
        expect(yield* Effect.flatMap(Polling.Poller, (p) => p.active)).toEqual([])
      })
    )
  )

  it.effect("two fibers awaiting the same id share one poll loop", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.pending(), Steps.pending(), Steps.success()] })
        const both = Effect.all([Polling.awaitOutcome(id), Polling.awaitOutcome(id), Polling.awaitOutcome(id)], {
          concurrency: "unbounded"
        })
        const results = yield* stepping(sim, both, 2)
        expect(results.map((r) => r._tag)).toEqual(["Succeeded", "Succeeded", "Succeeded"])
        yield* TestClock.adjust("1 hour")
        yield* liveSleep(20)
        const stats = yield* sim.stats
        expect(stats.pollsById[id]).toBe(3)
        expect(stats.overlappingPolls).toBe(0)
        expect(stats.pollsAfterTerminal).toBe(0)
        expect(yield* Effect.flatMap(Polling.Poller, (p) => p.active)).toEqual([])
      })
    )
  )

  it.effect("a waiter that leaves early does not stop the loop for the others", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.pending(), Steps.pending(), Steps.success()] })
        const leaving = yield* Effect.fork(Polling.awaitOutcome(id))
        const staying = yield* Effect.fork(Polling.awaitOutcome(id))
        yield* sim.awaitRequests(1)
        yield* Fiber.interrupt(leaving)
        yield* wakeNext(WINDOW)
        yield* sim.awaitRequests(2)
        yield* wakeNext(WINDOW)
        const result = yield* Fiber.join(staying)
        expect(result._tag).toBe("Succeeded")
        expect((yield* sim.stats).pollsById[id]).toBe(3)
      })
    )
  )

  it.effect("waiting loops are entries in one timer, not sleeping fibers", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const ids = yield* Effect.forEach(Array.from({ length: 200 }), () =>
          sim.seed({ steps: [Steps.pending({ retryAfter: 60, pollAfterMs: null }), Steps.success()] })
        )
        const waiters = yield* Effect.fork(
          Effect.forEach(ids, (id) => Polling.awaitOutcome(id), {
            concurrency: "unbounded"
          })
        )
        yield* sim.awaitRequests(200)
        // Two hundred loops wait for their next poll, due in a minute: one sleep on the clock holds
        // them all (a fiber per loop would be two hundred sleeps until then).
        yield* eventually(
          Effect.map(
            TestClock.sleeps(),
            (sleeps) => Chunk.toReadonlyArray(sleeps).filter((at) => at === 60_000).length === 1
          ),
          "one sleep until the next polls"
        )
        yield* liveSleep(20)
        expect(Chunk.toReadonlyArray(yield* TestClock.sleeps()).filter((at) => at === 60_000)).toHaveLength(1)
        expect(yield* Effect.flatMap(Polling.Poller, (p) => p.active)).toHaveLength(200)
        yield* TestClock.adjust("1 minute")
        const results = yield* Fiber.join(waiters)
        expect(results.every((r) => r._tag === "Succeeded")).toBe(true)
        const stats = yield* sim.stats
        expect(stats.requests).toBe(400)
        expect(stats.overlappingPolls).toBe(0)
        expect(yield* Effect.flatMap(Polling.Poller, (p) => p.active)).toEqual([])
      })
    )
  )

  it.effect("closing the poller's scope interrupts its waiters instead of leaving them waiting", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.pending()] })
        const scope = yield* Scope.make()
        const poller = yield* Scope.extend(Polling.makePoller, scope)
        const waiter = yield* Effect.fork(poller.awaitOutcome(id, { schedule: Schedule.spaced("1 minute") }))
        yield* sim.awaitRequests(1)
        yield* Scope.close(scope, Exit.void)
        const exit = yield* Fiber.await(waiter)
        expect(Exit.isInterrupted(exit)).toBe(true)
        yield* TestClock.adjust("1 hour")
        yield* liveSleep(20)
        expect((yield* sim.stats).requests).toBe(1)
      })
    )
  )

  it.effect("awaitOutcomes returns every result in order", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const ok = yield* sim.seed({ steps: [Steps.success()] })
        const failed = yield* sim.seed({ steps: [Steps.failed()] })
        const expired = yield* sim.seed({ steps: [Steps.expired()] })
        const results = yield* Polling.awaitOutcomes([ok, failed, expired, "bad/id"], { concurrency: 2 })
        expect(results.map((r) => (Either.isRight(r) ? r.right._tag : r.left._tag))).toEqual([
          "Succeeded",
          "WriteFailed",
          "WriteExpired",
          "InvalidWriteActionId"
        ])
      })
    )
  )
})

describe("RateBudget", () => {
  /** Counts, for each request, how many started in the window of `intervalMs` ending at it. */
  const maxInAnyWindow = (starts: ReadonlyArray<number>, intervalMs: number) => {
    const sorted = [...starts].sort((a, b) => a - b)
    let max = 0
    for (let i = 0, j = 0; i < sorted.length; i++) {
      while ((sorted[i] ?? 0) - (sorted[j] ?? 0) >= intervalMs) j++
      max = Math.max(max, i - j + 1)
    }
    return max
  }

  it.effect("no window of the interval ever holds more than the limit", () =>
    Effect.gen(function* () {
      const budget = yield* RateBudget.make({ reads: { limit: 10, interval: "1 second" } })
      const starts: Array<number> = []
      const fiber = yield* Effect.fork(
        Effect.forEach(
          Array.from({ length: 95 }, (_, i) => i),
          (i) =>
            Effect.zipRight(
              // Arrivals spread over time, in bursts.
              Effect.sleep(Duration.millis((i % 7) * 130)),
              Effect.zipRight(
                budget.take("read", "@a"),
                Effect.flatMap(TestClock.currentTimeMillis, (t) => Effect.sync(() => starts.push(t)))
              )
            ),
          { concurrency: "unbounded", discard: true }
        )
      )
      for (let i = 0; i < 200; i++) yield* TestClock.adjust("50 millis")
      yield* Fiber.join(fiber)
      expect(starts).toHaveLength(95)
      expect(maxInAnyWindow(starts, 1000)).toBe(10)
      // Sliding: never more than the limit, but the budget is used (95 takes in under 10.5 s).
      expect(Math.max(...starts)).toBeLessThanOrEqual(10_500)
    })
  )

  it.effect("accounts and kinds have separate windows", () =>
    Effect.gen(function* () {
      const budget = yield* RateBudget.make({ writes: { limit: 2, interval: "1 minute" } })
      yield* budget.take("write", "@a")
      yield* budget.take("write", "@a")
      yield* budget.take("write", "@b")
      yield* budget.take("read", "@a")
      const third = yield* Effect.fork(budget.take("write", "@a"))
      yield* TestClock.adjust("59 seconds")
      expect(Option.isNone(yield* Fiber.poll(third))).toBe(true)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(third)
      expect(RateBudget.defaults.reads.limit).toBe(10)
      expect(RateBudget.defaults.writes.limit).toBe(30)
      expect(RateBudget.defaults.deletes.limit).toBe(15)
    })
  )

  it.effect("a bad limit is a ConfigError", () =>
    Effect.gen(function* () {
      expect((yield* Effect.flip(RateBudget.make({ reads: { limit: 0, interval: "1 second" } })))._tag).toBe(
        "ConfigError"
      )
      expect((yield* Effect.flip(RateBudget.make({ reads: { limit: 5, interval: "0 seconds" } })))._tag).toBe(
        "ConfigError"
      )
    })
  )

  it.effect("all pollers of one account share the read budget", () => {
    // The budget the poller uses, recording when it grants each read.
    const grants: Array<number> = []
    const recording = Layer.effect(
      RateBudget.RateBudget,
      Effect.map(RateBudget.make({ reads: { limit: 10, interval: "1 second" } }), (budget) => ({
        ...budget,
        take: (kind: RateBudget.Kind, account?: string) =>
          budget.take(kind, account).pipe(
            Effect.zipRight(TestClock.currentTimeMillis),
            Effect.map((t) => {
              grants.push(t)
            })
          )
      }))
    ).pipe(Layer.orDie)
    return withSim(
      (sim) =>
        Effect.gen(function* () {
          const ids = yield* Effect.forEach(
            Array.from({ length: 25 }, (_, i) => i),
            () => sim.seed({ steps: [Steps.pending({ retryAfter: 0, pollAfterMs: 300 }), Steps.success()] })
          )
          const fiber = yield* Effect.fork(Polling.awaitOutcomes(ids, { concurrency: "unbounded", account: "@a" }))
          while (Option.isNone(yield* Fiber.poll(fiber))) {
            yield* liveSleep(1)
            yield* TestClock.adjust("50 millis")
          }
          const results = yield* Fiber.join(fiber)
          expect(results.every(Either.isRight)).toBe(true)
          expect((yield* times(sim)).length).toBe(50)
          expect(grants).toHaveLength(50)
          expect(maxInAnyWindow(grants, 1000)).toBe(10)
          expect(Math.max(...grants)).toBeGreaterThanOrEqual(4000)
        }),
      {},
      recording
    )
  })
})

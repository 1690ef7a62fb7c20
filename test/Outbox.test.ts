import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Outbox from "../src/Outbox.js"
import * as QueueStore from "../src/QueueStore.js"
import * as RateBudget from "../src/RateBudget.js"
import * as Sim from "../src/testing/XquikSimulator.js"
import * as WriteRequest from "../src/WriteRequest.js"
import type { XquikClient } from "../src/XquikClient.js"
import * as XquikClientModule from "../src/XquikClient.js"
import type * as XquikConfig from "../src/XquikConfig.js"
import * as XquikConfigModule from "../src/XquikConfig.js"
import { eventually } from "./support.js"

const { Steps } = Sim

const tweet = WriteRequest.tweet({ account: "@acme", text: "hello" })

const withOutbox = <A, E>(
  test: (
    sim: Sim.XquikSimulatorShape,
    store: QueueStore.QueueStoreShape
  ) => Effect.Effect<A, E, QueueStore.QueueStore | XquikClient | Sim.XquikSimulator>,
  options: Sim.Options = {},
  config: Omit<XquikConfig.Options, "baseUrl"> = {}
) =>
  Effect.gen(function* () {
    return yield* test(yield* Sim.XquikSimulator, yield* QueueStore.QueueStore)
  }).pipe(
    Effect.provide(
      Layer.mergeAll(
        Sim.layerWithClient(options, { timeout: "1 day", ...config }),
        QueueStore.layerMemory,
        RateBudget.unlimited
      )
    )
  )

const getRow = (store: QueueStore.QueueStoreShape, jobId: string) => Effect.map(store.get(jobId), Option.getOrThrow)

describe("Outbox.enqueue", () => {
  it.effect("persists the row with a fresh key and the request before any network call", () =>
    withOutbox((sim, store) =>
      Effect.gen(function* () {
        const jobId = yield* Outbox.enqueue(tweet, { metadata: { campaign: "launch" } })
        const row = yield* getRow(store, jobId)
        expect(row).toMatchObject({
          status: "queued",
          request_payload: tweet,
          action: "create_tweet",
          account: "@acme",
          attempts: 1,
          metadata: { campaign: "launch" }
        })
        expect(row.idempotency_key).toMatch(/^[0-9a-f-]{36}$/)
        expect((yield* sim.stats).requests).toBe(0)
      })
    )
  )

  it.effect("the same key or dedupe key returns the same job; the same key with another write is a conflict", () =>
    withOutbox((_sim, store) =>
      Effect.gen(function* () {
        const a = yield* Outbox.enqueue(tweet, { idempotencyKey: "campaign-42:post-1" })
        expect(yield* Outbox.enqueue(tweet, { idempotencyKey: "campaign-42:post-1" })).toBe(a)
        const conflict = yield* Effect.flip(
          Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text: "other" }), {
            idempotencyKey: "campaign-42:post-1"
          })
        )
        expect(conflict).toMatchObject({ _tag: "IdempotencyConflict", mayHaveDispatched: false })
        const b = yield* Outbox.enqueue(tweet, { dedupeKey: "launch post ✓" })
        expect(yield* Outbox.enqueue(tweet, { dedupeKey: "launch post ✓" })).toBe(b)
        expect(b).not.toBe(a)
        expect((yield* store.counts).queued).toBe(2)
      })
    )
  )

  it.effect("an invalid request or key is refused and nothing is stored", () =>
    withOutbox((_sim, store) =>
      Effect.gen(function* () {
        expect((yield* Effect.flip(Outbox.enqueue(WriteRequest.like("@acme", "a/b"))))._tag).toBe("InvalidRequest")
        expect((yield* Effect.flip(Outbox.enqueue(tweet, { idempotencyKey: "has space" })))._tag).toBe("InvalidRequest")
        expect(yield* store.counts).toEqual({})
      })
    )
  )

  it.effect("the account option writes as another account", () =>
    withOutbox((_sim, store) =>
      Effect.gen(function* () {
        const jobId = yield* Outbox.enqueue(tweet, { account: "@other" })
        expect((yield* getRow(store, jobId)).account).toBe("@other")
      })
    )
  )
})

describe("Outbox.send", () => {
  it.effect("persists send_started before the request, then the answer through the row rules", () =>
    withOutbox(
      (sim, store) =>
        Effect.gen(function* () {
          const jobId = yield* Outbox.enqueue(tweet)
          const fiber = yield* Effect.fork(Outbox.send(jobId))
          yield* sim.awaitRequests(1)
          // The POST is in flight (a slow answer); the row already says so.
          expect((yield* getRow(store, jobId)).status).toBe("send_started")
          yield* eventually(
            Effect.map(TestClockSleeps, (n) => n > 0),
            "the slow answer to sleep"
          )
          yield* TestClock.adjust("2 seconds")
          const row = yield* Fiber.join(fiber)
          expect(row).toMatchObject({ status: "accepted", send_dispatched: false, terminal: false, poll_hint_ms: 3000 })
          expect(row.write_action_id).toMatch(/^\d+$/)
          expect(row.next_poll_at).toBe(2000 + 3000)
          expect(yield* getRow(store, jobId)).toEqual(row)
        }),
      { script: [Steps.slow(2000, Steps.accepted({ retryAfter: 3 }))] }
    )
  )

  it.effect("a pre-dispatch error fails the row, with safe_to_retry as the API said", () =>
    withOutbox(
      (_sim, store) =>
        Effect.gen(function* () {
          const safe = yield* Outbox.enqueue(tweet)
          expect(yield* Outbox.send(safe)).toMatchObject({
            status: "failed",
            terminal: true,
            error_code: "write_tracking_unavailable",
            safe_to_retry: true
          })
          yield* Effect.flatMap(Sim.XquikSimulator, (sim) =>
            sim.setScript([Steps.httpError(422, "x_content_too_long")])
          )
          const unsafe = yield* Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text: "long" }))
          expect(yield* Outbox.send(unsafe)).toMatchObject({
            status: "failed",
            error_code: "x_content_too_long",
            safe_to_retry: false
          })
          expect((yield* getRow(store, unsafe)).message).toContain("X rejected the write")
        }),
      { script: [Steps.httpError(503, "write_tracking_unavailable", { safeToRetry: true })] }
    )
  )

  it.effect("a 429 keeps the row queued with its key, until the Retry-After", () =>
    withOutbox(
      (sim) =>
        Effect.gen(function* () {
          const jobId = yield* Outbox.enqueue(tweet)
          const row = yield* Outbox.send(jobId)
          expect(row).toMatchObject({
            status: "queued",
            terminal: false,
            error_code: "rate_limit_exceeded",
            next_poll_at: 7000
          })
          yield* sim.setScript([Steps.accepted()])
          const sent = yield* Outbox.send(jobId)
          expect(sent.status).toBe("accepted")
          expect(Object.keys((yield* sim.stats).sendsByKey)).toEqual([row.idempotency_key])
        }),
      { script: [Steps.rateLimited(7)] }
    )
  )

  it.effect(
    "an answer lost in flight leaves send_unknown; the next send replays the SAME key and gets the original record",
    () =>
      withOutbox(
        (sim) =>
          Effect.gen(function* () {
            const jobId = yield* Outbox.enqueue(tweet)
            const unknown = yield* sendTimingOut(sim, jobId)
            expect(unknown).toMatchObject({
              status: "send_unknown",
              terminal: false,
              error_code: "Timeout",
              write_action_id: null
            })
            const replayed = yield* Outbox.send(jobId)
            expect(replayed.status).toBe("accepted")
            expect(replayed.idempotency_key).toBe(unknown.idempotency_key)
            const stats = yield* sim.stats
            expect(stats.sendsByKey).toEqual({ [String(unknown.idempotency_key)]: 2 })
            expect(stats).toMatchObject({ dispatches: 1, replays: 1, duplicateDispatches: 0 })
          }),
        { script: [Steps.slow(60_000, Steps.accepted())] },
        { timeout: "1 second" }
      )
  )

  it.effect("a refusal after a lost answer keeps the row unknown: never failed as safe, never a new key", () =>
    withOutbox(
      (sim) =>
        Effect.gen(function* () {
          const jobId = yield* Outbox.enqueue(tweet)
          expect((yield* sendTimingOut(sim, jobId)).status).toBe("send_unknown")
          // The replay is refused with "safe to retry": true of the replay, not of the first send.
          yield* sim.setScript([Steps.httpError(503, "write_tracking_unavailable", { safeToRetry: true })])
          const refused = yield* Outbox.send(jobId)
          expect(refused).toMatchObject({
            status: "send_unknown",
            terminal: false,
            error_code: "write_tracking_unavailable",
            safe_to_retry: false
          })
          expect((yield* Effect.flip(Outbox.retryWithNewKey(jobId)))._tag).toBe("NotRetryable")
          // So is a 429 on a replay: the row waits, still unknown.
          yield* sim.setScript([Steps.rateLimited(3)])
          expect((yield* Outbox.send(jobId)).status).toBe("send_unknown")
          yield* sim.setScript([Steps.accepted()])
          const sent = yield* Outbox.send(jobId)
          expect(sent.status).toBe("accepted")
          expect(Object.values((yield* sim.stats).sendsByKey)).toEqual([4])
        }),
      { script: [Steps.slow(60_000, Steps.httpError(503, "write_tracking_unavailable", { safeToRetry: true }))] },
      { timeout: "1 second" }
    )
  )

  it.live("a send that never reached the API (connection refused) stays queued with its key", () =>
    Effect.gen(function* () {
      const store = yield* QueueStore.QueueStore
      const jobId = yield* Outbox.enqueue(tweet)
      const row = yield* Outbox.send(jobId)
      expect(row).toMatchObject({ status: "queued", terminal: false, error_code: "Transport", write_action_id: null })
      expect(row.next_poll_at).toBeGreaterThan(row.updated_at)
      expect((yield* getRow(store, jobId)).idempotency_key).toBe(row.idempotency_key)
    }).pipe(
      Effect.provide(
        Layer.mergeAll(
          XquikClientModule.layerNode.pipe(
            Layer.provide(
              XquikConfigModule.layer({
                apiKey: Sim.defaultApiKey,
                baseUrl: "http://127.0.0.1:9/api/v1",
                sendReplays: 0
              })
            )
          ),
          QueueStore.layerMemory,
          RateBudget.unlimited
        )
      )
    )
  )

  it.effect("x_write_ambiguous with a write action id adopts the id, never resends", () =>
    withOutbox(
      (sim) =>
        Effect.gen(function* () {
          const row = yield* Outbox.send(yield* Outbox.enqueue(tweet))
          expect(row).toMatchObject({ status: "accepted", send_dispatched: true, error_code: "x_write_ambiguous" })
          expect(row.write_action_id).toMatch(/^\d+$/)
          expect((yield* sim.stats).dispatches).toBe(1)
        }),
      { script: [Steps.httpError(500, "x_write_ambiguous", { dispatched: true }), Steps.success()] }
    )
  )

  it.effect("a refused credential stops the send and puts the row back as it was", () =>
    withOutbox(
      (_sim, store) =>
        Effect.gen(function* () {
          const jobId = yield* Outbox.enqueue(tweet)
          const before = yield* getRow(store, jobId)
          expect((yield* Effect.flip(Outbox.send(jobId)))._tag).toBe("Unauthenticated")
          const after = yield* getRow(store, jobId)
          expect({ ...after, updated_at: 0 }).toEqual({ ...before, updated_at: 0 })
        }),
      {},
      { apiKey: "xq_wrong_key" }
    )
  )

  it.effect("contract A: x_write_unconfirmed keeps the id to poll; a bare success completes the row", () =>
    withOutbox(
      (sim) =>
        Effect.gen(function* () {
          const pending = yield* Outbox.send(yield* Outbox.enqueue(tweet))
          expect(pending).toMatchObject({ status: "pending_confirmation", send_dispatched: true, terminal: false })
          expect(pending.write_action_id).toMatch(/^\d+$/)
          yield* sim.setScript([Steps.success()])
          const done = yield* Outbox.send(
            yield* Outbox.enqueue(WriteRequest.sendDm({ account: "@a", to: "7", text: "hi" }))
          )
          expect(done).toMatchObject({
            status: "success",
            terminal: true,
            result_type: "direct_message",
            charged: true,
            charged_credits: "20"
          })
        }),
      { contract: "a", script: [Steps.pending()] }
    )
  )

  it.effect("an answer naming a write action another job already follows closes this job with a note", () =>
    withOutbox(
      (sim, store) =>
        Effect.gen(function* () {
          // Someone tracked the id before the send's answer came back.
          const tracked = yield* Outbox.track("5000")
          const jobId = yield* Outbox.enqueue(tweet)
          const row = yield* Outbox.send(jobId)
          expect(row).toMatchObject({
            status: "failed",
            terminal: true,
            error_code: "write_action_tracked_elsewhere",
            write_action_id: null
          })
          expect(row.message).toContain(`job ${tracked}`)
          expect((yield* getRow(store, tracked)).write_action_id).toBe("5000")
          expect((yield* sim.stats).dispatches).toBe(1)
        }),
      { firstWriteActionId: 5000 }
    )
  )

  it.effect("an unknown job is JobNotFound; a sent job is returned unchanged", () =>
    withOutbox((sim) =>
      Effect.gen(function* () {
        expect((yield* Effect.flip(Outbox.send("no-such-job")))._tag).toBe("JobNotFound")
        const jobId = yield* Outbox.enqueue(tweet)
        const first = yield* Outbox.send(jobId)
        expect(yield* Outbox.send(jobId)).toEqual(first)
        expect((yield* sim.stats).requests).toBe(1)
      })
    )
  )
})

describe("Outbox.retryWithNewKey and track", () => {
  it.effect("retries only a safely failed job, with a new key, recording the attempt", () =>
    withOutbox(
      (sim, store) =>
        Effect.gen(function* () {
          const jobId = yield* Outbox.enqueue(tweet)
          const failed = yield* Outbox.send(jobId)
          const retried = yield* Outbox.retryWithNewKey(jobId)
          expect(retried).toMatchObject({ status: "queued", terminal: false, attempts: 2, error_code: null })
          expect(retried.idempotency_key).not.toBe(failed.idempotency_key)
          expect(retried.history).toEqual([
            {
              idempotency_key: failed.idempotency_key,
              write_action_id: null,
              status: "failed",
              error_code: "write_tracking_unavailable",
              at: 0
            }
          ])
          yield* sim.setScript([Steps.accepted()])
          expect((yield* Outbox.send(jobId)).status).toBe("accepted")
          expect(Option.isSome(yield* store.findByIdempotencyKey(String(retried.idempotency_key)))).toBe(true)
        }),
      { script: [Steps.httpError(503, "write_tracking_unavailable", { safeToRetry: true })] }
    )
  )

  it.effect("refuses, saying why, for pending, unsafe, expired and unknown jobs", () =>
    withOutbox(
      (sim) =>
        Effect.gen(function* () {
          const unsafe = yield* Outbox.enqueue(tweet)
          yield* Outbox.send(unsafe)
          expect(yield* Effect.flip(Outbox.retryWithNewKey(unsafe))).toMatchObject({
            _tag: "NotRetryable",
            reason: expect.stringContaining("safe_to_retry is false")
          })
          yield* sim.setScript([Steps.accepted()])
          const pending = yield* Outbox.enqueue(WriteRequest.like("@acme", "1"))
          yield* Outbox.send(pending)
          expect(yield* Effect.flip(Outbox.retryWithNewKey(pending))).toMatchObject({
            _tag: "NotRetryable",
            reason: expect.stringContaining("never sent with a new key")
          })
          expect((yield* Effect.flip(Outbox.retryWithNewKey("missing")))._tag).toBe("JobNotFound")
        }),
      { script: [Steps.httpError(422, "x_duplicate_action")] }
    )
  )

  it.effect("track adopts a write action sent elsewhere, once", () =>
    withOutbox((_sim, store) =>
      Effect.gen(function* () {
        const a = yield* Outbox.track("4242", { metadata: { source: "script" } })
        expect(yield* Outbox.track("4242")).toBe(a)
        expect(yield* getRow(store, a)).toMatchObject({
          write_action_id: "4242",
          status: "accepted",
          send_dispatched: true,
          request_payload: null
        })
        expect((yield* Effect.flip(Outbox.track("42/../1")))._tag).toBe("InvalidWriteActionId")
      })
    )
  )
})

const TestClockSleeps = Effect.map(TestClock.sleeps(), (sleeps) => sleeps.length)

/**
 * Sends a job whose answer never comes (a slow script step, a 1 s client timeout): once the
 * request is in flight and the timeout waits on the TestClock, the clock moves past it.
 */
const sendTimingOut = (sim: Sim.XquikSimulatorShape, jobId: string) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(Outbox.send(jobId))
    yield* sim.awaitRequests(1)
    yield* eventually(
      Effect.map(TestClockSleeps, (n) => n >= 2),
      "the request to time out"
    )
    yield* TestClock.adjust("1 second")
    return yield* Fiber.join(fiber)
  })

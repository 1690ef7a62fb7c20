import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Outbox from "../../Outbox.js"
import * as QueueRow from "../../QueueRow.js"
import { QueueStore } from "../../QueueStore.js"
import * as RateBudget from "../../RateBudget.js"
import type * as WriteRequest from "../../WriteRequest.js"
import * as Live from "../live.js"
import { emit, exitWith, type Globals, outcomeCode, parseDuration, parseSchedule } from "../shared.js"
import { follow } from "./follow.js"

export interface WriteOptions {
  readonly wait: boolean
  readonly maxWait: string
  readonly schedule: string
  readonly dedupeKey: Option.Option<string>
  readonly idempotencyKey: Option.Option<string>
}

/**
 * `tweet`, `reply`, `dm`, `like`, …: enqueues the write and prints its row. With --wait it also
 * sends it, awaits its outcome and prints the final row (exit code by the outcome).
 */
export const run = (globals: Globals, request: WriteRequest.WriteRequest, options: WriteOptions) =>
  Effect.gen(function* () {
    const maxWait = yield* parseDuration("--max-wait", options.maxWait)
    const schedule = yield* parseSchedule(options.schedule)
    const enqueue = Effect.gen(function* () {
      const store = yield* QueueStore
      const jobId = yield* Outbox.enqueue(request, {
        dedupeKey: Option.getOrUndefined(options.dedupeKey),
        idempotencyKey: Option.getOrUndefined(options.idempotencyKey)
      })
      return { store, jobId }
    })
    if (!options.wait) {
      return yield* Effect.gen(function* () {
        const { store, jobId } = yield* enqueue
        const row = yield* store.get(jobId)
        if (Option.isSome(row)) yield* emit(QueueRow.encode(row.value))
      }).pipe(Effect.provide(Live.store(globals)))
    }
    yield* Effect.gen(function* () {
      const { store, jobId } = yield* enqueue
      const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(maxWait)
      let sent = yield* Outbox.send(jobId)
      // Rate limited, or the API was unreachable: nothing was sent; go again when the row says,
      // with the same key, within --max-wait.
      while (!sent.terminal && Outbox.needsSend(sent) && sent.next_poll_at !== null) {
        const now = yield* Clock.currentTimeMillis
        if (sent.next_poll_at > deadline) break
        yield* Effect.sleep(Duration.millis(Math.max(0, sent.next_poll_at - now)))
        sent = yield* Outbox.send(jobId)
      }
      const done =
        sent.terminal || sent.write_action_id === null
          ? { row: sent, code: outcomeCode(QueueRow.outcome(sent)) }
          : yield* follow(globals, sent, sent.write_action_id, {
              maxWait,
              schedule,
              printObservations: false,
              store: Option.some(store)
            })
      yield* emit(QueueRow.encode(done.row))
      yield* exitWith(done.code)
    }).pipe(Effect.provide(Layer.mergeAll(Live.store(globals), Live.client(globals), RateBudget.layer())))
  })

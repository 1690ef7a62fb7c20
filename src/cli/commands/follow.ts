/**
 * Following one write action to its outcome for `await` and `<write> --wait`: polls with the
 * polling rules, folds each observation into the row, stores it when a store is given, and
 * prints every observation with --progress.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as Polling from "../../Polling.js"
import * as QueueRow from "../../QueueRow.js"
import type { QueueStoreShape, StoreFailure } from "../../QueueStore.js"
import type { Observation } from "../../WriteAction.js"
import type { XquikClient } from "../../XquikClient.js"
import type { LeaseLost } from "../../XquikError.js"
import { ExitCode, emit, type Globals, note, outcomeCode } from "../shared.js"

export interface FollowOptions {
  readonly maxWait: Duration.Duration
  readonly schedule: Schedule.Schedule<unknown, unknown>
  readonly printObservations: boolean
  readonly store: Option.Option<QueueStoreShape>
}

export interface Followed {
  readonly row: QueueRow.QueueRow
  readonly code: number
}

const observationLine = (writeActionId: string, o: Observation) => ({
  write_action_id: writeActionId,
  observation: {
    http_status: o.httpStatus,
    received_at: o.receivedAt,
    retry_after_ms: Option.getOrNull(Option.map(o.retryAfter, Duration.toMillis)),
    request_id: Option.getOrNull(o.requestId),
    record: o.record
  }
})

/** Saves the row under a short lease of its own; a row another worker holds is left to it. */
export const keep = (store: Option.Option<QueueStoreShape>, row: QueueRow.QueueRow) =>
  Option.match(store, {
    onNone: () => Effect.void,
    onSome: (s) =>
      Effect.flatMap(s.claim(row.job_id, { workerId: `cli-${process.pid}`, leaseFor: "30 seconds" }), (claimed) =>
        Option.match(claimed, {
          onNone: () => Effect.void,
          onSome: ({ lease }) => s.save(row, lease, { release: true })
        })
      )
  })

export const follow = (
  globals: Globals,
  start: QueueRow.QueueRow,
  writeActionId: string,
  options: FollowOptions
): Effect.Effect<Followed, StoreFailure | LeaseLost, XquikClient> =>
  Effect.gen(function* () {
    let row = start
    const initialDelay = start.poll_hint_ms === null ? undefined : Duration.millis(start.poll_hint_ms)
    const polled = yield* Polling.polls(writeActionId, {
      schedule: options.schedule,
      maxWait: options.maxWait,
      ...(initialDelay !== undefined ? { initialDelay } : {})
    }).pipe(
      Stream.runForEach((observation) =>
        Effect.gen(function* () {
          row = QueueRow.fromObservation(observation, row)
          if (options.printObservations) yield* emit(observationLine(writeActionId, observation))
          yield* keep(options.store, row)
        })
      ),
      Effect.either
    )
    if (polled._tag === "Right") return { row, code: outcomeCode(QueueRow.outcome(row)) }
    // The row already holds the last observation; what matters here is the read's own error.
    const error = polled.left._tag === "PollFailed" ? polled.left.error : polled.left
    switch (error._tag) {
      case "StillPending":
        yield* note(globals, `xquik-write-queue: ${error.message}`)
        return { row, code: ExitCode.pending }
      case "StoreError":
      case "StoreCorrupt":
      case "LeaseLost":
        return yield* Effect.fail(error)
      case "NotFound": {
        // The API does not know the id: the row is finished (never resubmitted), as the worker does it.
        yield* note(globals, `xquik-write-queue: ${writeActionId}: ${error.message}`)
        const now = yield* Clock.currentTimeMillis
        const failed: QueueRow.QueueRow = {
          ...row,
          status: "failed",
          terminal: true,
          error_code: error.code,
          message: error.message,
          completed_at: now,
          next_poll_at: null
        }
        yield* keep(options.store, failed)
        return { row: failed, code: ExitCode.error }
      }
      default: {
        yield* note(globals, `xquik-write-queue: ${writeActionId}: ${error.message}`)
        const failed = { ...row, error_code: "code" in error ? error.code : error._tag, message: error.message }
        yield* keep(options.store, failed)
        return { row: failed, code: ExitCode.error }
      }
    }
  })

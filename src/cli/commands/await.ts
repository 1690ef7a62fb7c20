import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Outbox from "../../Outbox.js"
import * as QueueRow from "../../QueueRow.js"
import { QueueStore, type QueueStoreShape } from "../../QueueStore.js"
import * as RateBudget from "../../RateBudget.js"
import * as Live from "../live.js"
import {
  bar,
  emit,
  endProgress,
  exitWith,
  type Globals,
  outcomeCode,
  parseDuration,
  parseSchedule,
  progress,
  readIds
} from "../shared.js"
import { follow } from "./follow.js"

export interface AwaitOptions {
  readonly maxWait: string
  readonly schedule: string
  readonly concurrency: number
  readonly progress: boolean
}

/**
 * `await <writeActionId…> | -`: polls each id to its outcome and prints one final row per id.
 * With --db (or XQUIK_DB) the rows are stored too.
 */
export const run = (globals: Globals, args: ReadonlyArray<string>, options: AwaitOptions) =>
  Effect.gen(function* () {
    const ids = yield* readIds(args, "write action id")
    const maxWait = yield* parseDuration("--max-wait", options.maxWait)
    const schedule = yield* parseSchedule(options.schedule)
    const concurrency = Math.max(1, Math.min(1000, Math.floor(options.concurrency)))
    const withStore = Live.dbGiven(globals)
    const body = <E, R>(
      store: Option.Option<QueueStoreShape>,
      start: (id: string, now: number) => Effect.Effect<QueueRow.QueueRow, E, R>
    ) =>
      Effect.gen(function* () {
        let done = 0
        yield* Effect.forEach(
          ids,
          (id) =>
            Effect.gen(function* () {
              const first = yield* start(id, yield* Clock.currentTimeMillis)
              const followed = first.terminal
                ? { row: first, code: outcomeCode(QueueRow.outcome(first)) }
                : yield* follow(globals, first, id, { maxWait, schedule, printObservations: options.progress, store })
              yield* emit(QueueRow.encode(followed.row))
              yield* exitWith(followed.code)
              done++
              yield* progress(globals, `${bar(done, ids.length)} awaited`)
            }),
          { concurrency, discard: true }
        )
        yield* endProgress(globals)
      })
    const needs = Layer.mergeAll(Live.client(globals), RateBudget.layer())
    if (!withStore) {
      const inMemory = (id: string, now: number) =>
        Effect.succeed(QueueRow.tracked({ jobId: globalThis.crypto.randomUUID(), writeActionId: id, now }))
      return yield* body(Option.none(), inMemory).pipe(Effect.provide(needs))
    }
    return yield* Effect.flatMap(QueueStore, (store) =>
      body(Option.some(store), (id, now) =>
        Effect.flatMap(Outbox.track(id), (jobId) =>
          Effect.map(
            store.get(jobId),
            Option.getOrElse(() => QueueRow.tracked({ jobId, writeActionId: id, now }))
          )
        )
      )
    ).pipe(Effect.provide(Layer.merge(needs, Live.store(globals))))
  })

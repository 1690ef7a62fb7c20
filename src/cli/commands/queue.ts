import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Outbox from "../../Outbox.js"
import * as QueueRow from "../../QueueRow.js"
import { QueueStore } from "../../QueueStore.js"
import * as RateBudget from "../../RateBudget.js"
import * as Worker from "../../Worker.js"
import * as Live from "../live.js"
import {
  bar,
  ExitCode,
  emit,
  endProgress,
  exitWith,
  type Globals,
  parseDuration,
  progress,
  readIds,
  UsageError
} from "../shared.js"

/** `track <writeActionId…> | -`: adds actions to the store for the worker; prints their rows. */
export const track = (globals: Globals, args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const ids = yield* readIds(args, "write action id")
    const store = yield* QueueStore
    for (const id of ids) {
      const jobId = yield* Outbox.track(id)
      const row = yield* store.get(jobId)
      if (Option.isSome(row)) yield* emit(QueueRow.encode(row.value))
    }
  }).pipe(Effect.provide(Live.store(globals)))

// `list --status` also takes what a row says about its job (QueueRow.outcome), the names of
// drain's `outcomes`: `pending` covers accepted, dispatching, pending_confirmation and any open
// status the API adds; `send_unknown` covers send_started too.
const outcomeNames: ReadonlySet<string> = new Set<QueueRow.RowOutcome>([
  "succeeded",
  "failed",
  "expired",
  "pending",
  "queued",
  "send_unknown"
])

/** `list`: rows as JSON lines, oldest first; `--status` is an outcome name or an exact status. */
export const list = (globals: Globals, options: { readonly status: Option.Option<string>; readonly limit: number }) =>
  Effect.gen(function* () {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      return yield* new UsageError({ message: "--limit must be a positive whole number." })
    }
    const store = yield* QueueStore
    const wanted = Option.getOrUndefined(options.status)
    const byOutcome = wanted !== undefined && outcomeNames.has(wanted)
    let left = options.limit
    let cursor: string | undefined
    while (left > 0) {
      const page = yield* store.list({
        status: byOutcome ? undefined : wanted,
        limit: byOutcome ? 1000 : Math.min(left, 1000),
        cursor
      })
      for (const row of page.rows) {
        if (left === 0) break
        if (byOutcome && QueueRow.outcome(row) !== wanted) continue
        yield* emit(QueueRow.encode(row))
        left--
      }
      if (Option.isNone(page.nextCursor) || page.rows.length === 0) break
      cursor = page.nextCursor.value
    }
  }).pipe(Effect.provide(Live.store(globals)))

/** `counts`: rows per status, one JSON line. */
export const counts = (globals: Globals) =>
  Effect.flatMap(QueueStore, (store) => Effect.flatMap(store.counts, emit)).pipe(Effect.provide(Live.store(globals)))

/** `retry <jobId>`: a new attempt under a new key, only for a failure with safe_to_retry. */
export const retry = (globals: Globals, jobId: string) =>
  Effect.flatMap(Outbox.retryWithNewKey(jobId), (row) => emit(QueueRow.encode(row))).pipe(
    Effect.provide(Live.store(globals))
  )

export interface DrainCommandOptions {
  readonly concurrency: number
  readonly forever: boolean
  readonly maxWait: Option.Option<string>
}

/** `drain`: runs the worker until the queue is empty (or forever); prints its summary. */
export const drain = (globals: Globals, options: DrainCommandOptions) =>
  Effect.gen(function* () {
    const concurrency = Math.max(1, Math.min(256, Math.floor(options.concurrency)))
    if (options.forever) {
      return yield* Worker.run({ concurrency })
    }
    const maxWait = Option.isSome(options.maxWait)
      ? yield* parseDuration("--max-wait", options.maxWait.value)
      : undefined
    const summary = yield* Worker.drain({
      concurrency,
      ...(maxWait !== undefined ? { maxWait } : {}),
      progressInterval: "200 millis",
      onProgress: (p) =>
        progress(
          globals,
          `${bar(Math.max(0, p.total - p.open), p.total)} done · sent ${p.tally.sent} · polls ${p.tally.polls} · ok ${p.tally.succeeded} · failed ${p.tally.failed} · expired ${p.tally.expired}`
        )
    })
    yield* endProgress(globals)
    yield* emit(summary)
    const t = summary.processed
    yield* exitWith(
      t.failed > 0
        ? ExitCode.failed
        : t.expired > 0
          ? ExitCode.expired
          : summary.complete
            ? ExitCode.ok
            : ExitCode.pending
    )
  }).pipe(Effect.provide(Layer.mergeAll(Live.store(globals), Live.client(globals), RateBudget.layer())))

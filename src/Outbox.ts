/**
 * Sending each write exactly once.
 *
 * 1. {@link enqueue} persists a row with its idempotency key and request BEFORE any network call.
 * 2. {@link send} persists `send_started`, then sends with the stored key, and records what the
 *    API answered through the `QueueRow` rules.
 * 3. When the answer is lost (the send may have arrived), the row is `send_unknown` and later
 *    turns replay it with the SAME key: the API returns the original record for a known key.
 *
 * A row whose send may have reached the API is never sent with a new key. The only new-key path
 * is {@link retryWithNewKey}, for rows that FAILED with `safe_to_retry` (nothing was dispatched).
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { unsent } from "./internal/unsent.js"
import { clampHint } from "./Polling.js"
import * as QueueRow from "./QueueRow.js"
import { type Claimed, type Lease, QueueStore, type QueueStoreShape, type StoreFailure } from "./QueueStore.js"
import { RateBudget, type RateBudgetShape } from "./RateBudget.js"
import * as WriteAction from "./WriteAction.js"
import * as WriteRequest from "./WriteRequest.js"
import { parseWriteActionId, type Submitted, XquikClient, type XquikClientShape } from "./XquikClient.js"
import * as XquikError from "./XquikError.js"

// ---------------------------------------------------------------------------------------------
// enqueue and track
// ---------------------------------------------------------------------------------------------

/**
 * Options of {@link enqueue}: the account to write as, your own key or a dedupe key, and your metadata.
 *
 * @example
 * ```ts
 * import { Outbox } from "xquik-write-queue"
 *
 * const options: Outbox.EnqueueOptions = { dedupeKey: "welcome-dm:44196397", metadata: { campaign: "onboarding" } }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface EnqueueOptions {
  /** The X account to write as, when the request should not use its own. */
  readonly account?: string | undefined
  /** Your own Idempotency-Key (1 to 255 printable ASCII). Enqueueing it again returns the same job. */
  readonly idempotencyKey?: string | undefined
  /** Any text that identifies the intended write; a key is derived from it. Enqueueing it again returns the same job. */
  readonly dedupeKey?: string | undefined
  /** Your own data, stored with the row. */
  readonly metadata?: Readonly<Record<string, unknown>> | undefined
}

const dedupeToKey = (dedupeKey: string): WriteRequest.IdempotencyKey =>
  WriteRequest.IdempotencyKey.make(
    `dedupe-${createHash("sha256").update(dedupeKey, "utf8").digest("hex").slice(0, 48)}`
  )

const sameRequest = (a: WriteRequest.WriteRequest | null, b: WriteRequest.WriteRequest): boolean =>
  a !== null && JSON.stringify(WriteRequest.toHttp(a)) === JSON.stringify(WriteRequest.toHttp(b))

const conflict = (key: string) =>
  new XquikError.IdempotencyConflict({
    method: "-",
    path: "-",
    code: "idempotency_conflict",
    detail: `the key ${JSON.stringify(key.slice(0, 80))} is already queued for a different write`,
    mayHaveDispatched: false
  })

const invalidKey = (reason: string) =>
  new XquikError.InvalidRequest({
    method: "-",
    path: "-",
    status: 0,
    code: "invalid_idempotency_key",
    fieldErrors: [{ path: "idempotencyKey", code: "invalid_idempotency_key", message: reason }],
    mayHaveDispatched: false
  })

/**
 * Persists a write, with a fresh idempotency key (or yours) and the request, before any network
 * call, and returns its job id. Enqueueing the same key (or dedupe key) again returns the same
 * job; the same key with another request is an `IdempotencyConflict`.
 *
 * @example
 * ```ts
 * import { Outbox, WriteRequest } from "xquik-write-queue"
 *
 * const jobId = Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text: "Hello" }), {
 *   dedupeKey: "launch-post-2026-12-04"
 * })
 * ```
 *
 * @since 0.1.0
 * @category outbox
 */
export const enqueue = (
  request: WriteRequest.WriteRequest,
  options: EnqueueOptions = {}
): Effect.Effect<string, XquikError.InvalidRequest | XquikError.IdempotencyConflict | StoreFailure, QueueStore> =>
  Effect.gen(function* () {
    const store = yield* QueueStore
    const valid = yield* Either.match(
      WriteRequest.validate(options.account === undefined ? request : { ...request, account: options.account }),
      { onLeft: Effect.fail, onRight: Effect.succeed }
    )
    let key: WriteRequest.IdempotencyKey
    if (options.idempotencyKey !== undefined) {
      if (!/^[!-~]{1,255}$/.test(options.idempotencyKey)) {
        return yield* invalidKey("expected 1 to 255 printable ASCII characters without spaces")
      }
      key = WriteRequest.IdempotencyKey.make(options.idempotencyKey)
    } else if (options.dedupeKey !== undefined) {
      if (options.dedupeKey.length === 0) return yield* invalidKey("the dedupe key is empty")
      key = dedupeToKey(options.dedupeKey)
    } else {
      key = WriteRequest.IdempotencyKey.make()
    }
    const now = yield* Clock.currentTimeMillis
    const row = QueueRow.queued({
      jobId: globalThis.crypto.randomUUID(),
      idempotencyKey: key,
      request: valid,
      metadata: options.metadata ?? null,
      now
    })
    const stored = yield* store.enqueue(row)
    if (stored.job_id !== row.job_id && !sameRequest(stored.request_payload, valid)) return yield* conflict(key)
    return stored.job_id
  }).pipe(Effect.withSpan("Outbox.enqueue", { captureStackTrace: false }))

/**
 * Adopts a write action sent elsewhere (say, by a script that got the 202), so the worker polls
 * it to its outcome. Tracking the same id again returns the same job.
 *
 * @example
 * ```ts
 * import { Outbox } from "xquik-write-queue"
 *
 * const jobId = Outbox.track("42", { metadata: { source: "legacy-script" } })
 * ```
 *
 * @since 0.1.0
 * @category outbox
 */
export const track = (
  writeActionId: string,
  options: { readonly metadata?: Readonly<Record<string, unknown>> | undefined } = {}
): Effect.Effect<string, XquikError.InvalidWriteActionId | StoreFailure, QueueStore> =>
  Effect.gen(function* () {
    const id = yield* Either.match(parseWriteActionId(writeActionId), { onLeft: Effect.fail, onRight: Effect.succeed })
    const store = yield* QueueStore
    const now = yield* Clock.currentTimeMillis
    const stored = yield* store.enqueue(
      QueueRow.tracked({
        jobId: globalThis.crypto.randomUUID(),
        writeActionId: id,
        metadata: options.metadata ?? null,
        now
      })
    )
    return stored.job_id
  }).pipe(Effect.withSpan("Outbox.track", { captureStackTrace: false }))

// ---------------------------------------------------------------------------------------------
// sending
// ---------------------------------------------------------------------------------------------

/**
 * Whether a row still has to be sent: it has a request, no write action id, and is not terminal.
 * A row in `send_started` or `send_unknown` may have reached the API: it is sent again only with
 * its own key.
 *
 * @example
 * ```ts
 * import { Outbox, QueueRow } from "xquik-write-queue"
 *
 * const unsent = (rows: ReadonlyArray<QueueRow.QueueRow>) => rows.filter(Outbox.needsSend)
 * ```
 *
 * @since 0.1.0
 * @category sending
 */
export const needsSend = (row: QueueRow.QueueRow): boolean =>
  !row.terminal && row.write_action_id === null && row.request_payload !== null && row.idempotency_key !== null

/**
 * What a send did to a row.
 *
 * @example
 * ```ts
 * import { Outbox } from "xquik-write-queue"
 *
 * const reachedApi = (result: Outbox.SendResult): boolean => result.sent && result.row.write_action_id !== null
 * ```
 *
 * @since 0.1.0
 * @category sending
 */
export interface SendResult {
  /** The row as saved after the send. */
  readonly row: QueueRow.QueueRow
  /** The API's record, when the answer carried one (for resolvers). */
  readonly observation: Option.Option<WriteAction.Observation>
  /** Whether the request was sent (false when the row needed no send). */
  readonly sent: boolean
  /** Whether the final write also released the lease. */
  readonly released: boolean
}

/**
 * How a worker or `send` paces what follows a send: server hints are clamped to
 * `[minDelay, maxDelay]`.
 *
 * @example
 * ```ts
 * import { Outbox } from "xquik-write-queue"
 *
 * const pacing: Outbox.Pacing = { minDelay: "500 millis", maxDelay: "1 minute" }
 * ```
 *
 * @since 0.1.0
 * @category sending
 */
export interface Pacing {
  readonly minDelay?: Duration.DurationInput | undefined
  readonly maxDelay?: Duration.DurationInput | undefined
}

// While the outcome of a send is unknown, replays wait half the job's age, between 1 s and 1 min.
const unknownDelay = (row: QueueRow.QueueRow, now: number) =>
  Math.min(60_000, Math.max(1000, Math.round((now - row.created_at) / 2)))

const firstPollAt = (observation: Option.Option<WriteAction.Observation>, now: number, pacing: Pacing) =>
  Option.match(Option.flatMap(observation, WriteAction.serverHint), {
    onNone: () => now,
    onSome: (hint) => now + clampHint(hint, pacing)
  })

/** The row after the API answered the write. */
const afterAnswer = (row: QueueRow.QueueRow, submitted: Submitted, now: number, pacing: Pacing): SendResult => {
  switch (submitted._tag) {
    case "Recorded": {
      const observation = submitted.observation
      const next = QueueRow.fromObservation(observation, row, { poll: false })
      return {
        row: { ...next, next_poll_at: next.terminal ? null : firstPollAt(Option.some(observation), now, pacing) },
        observation: Option.some(observation),
        sent: true,
        released: false
      }
    }
    case "Unconfirmed": {
      const retryAfter = Option.map(submitted.retryAfter, Duration.toMillis)
      return {
        row: {
          ...row,
          write_action_id: submitted.writeActionId,
          status: submitted.status,
          send_dispatched: true,
          poll_endpoint: Option.getOrElse(
            submitted.location,
            () => `/api/v1/x/write-actions/${encodeURIComponent(submitted.writeActionId)}`
          ),
          message: Option.getOrNull(submitted.message),
          error_code: null,
          poll_hint_ms: Option.getOrNull(retryAfter),
          updated_at: now,
          next_poll_at: Option.match(retryAfter, { onNone: () => now, onSome: (ms) => now + clampHint(ms, pacing) })
        },
        observation: Option.none(),
        sent: true,
        released: false
      }
    }
    case "Confirmed":
      return {
        row: {
          ...row,
          status: "success",
          terminal: true,
          send_dispatched: true,
          result_id: Option.getOrNull(submitted.resultId),
          result_type: Option.getOrNull(submitted.resultType),
          charged: submitted.charged,
          charged_credits: submitted.chargedCredits,
          error_code: null,
          message: null,
          updated_at: now,
          completed_at: now,
          next_poll_at: null
        },
        observation: Option.none(),
        sent: true,
        released: false
      }
  }
}

/**
 * Errors that stop a sender or worker rather than fail a row: the credential was refused, so
 * every row would fail the same way.
 *
 * @example
 * ```ts
 * import { Outbox, XquikError } from "xquik-write-queue"
 *
 * const isFatal = (error: XquikError.XquikError): error is Outbox.Fatal => error._tag === "Unauthenticated"
 * ```
 *
 * @since 0.1.0
 * @category sending
 */
export type Fatal = XquikError.Unauthenticated

/** The row after a send that failed, or `Fatal` when the error concerns every row. */
const afterError = (
  row: QueueRow.QueueRow,
  error: XquikError.XquikError,
  now: number,
  pacing: Pacing,
  replay: boolean
): Either.Either<QueueRow.QueueRow, Fatal> => {
  if (error._tag === "Unauthenticated") return Either.left(error)
  const note = { error_code: "code" in error ? error.code : error._tag, message: error.message, updated_at: now }
  // Rate limited: nothing was dispatched; the same key goes again after the wait.
  if (error._tag === "RateLimited") {
    const wait = error.retryAfter === undefined ? 5000 : Duration.toMillis(error.retryAfter)
    // A row that may already have been sent stays unknown: only a send that surely did not
    // arrive may ever be followed by a new key.
    const status = replay ? "send_unknown" : "queued"
    return Either.right({ ...row, ...note, status, next_poll_at: now + clampHint(wait, pacing) })
  }
  if (error._tag === "Transport" && !error.mayHaveDispatched) {
    // The connection was never made (refused, no DNS): nothing reached the API, and nothing is
    // wrong with the write. It waits and goes again with the same key, like a 429.
    return Either.right({
      ...row,
      ...note,
      status: replay ? "send_unknown" : "queued",
      next_poll_at: now + unknownDelay(row, now)
    })
  }
  if (!XquikError.mayHaveDispatched(error) && replay) {
    // This send was refused, but an earlier one with the same key may have arrived: the refusal
    // proves nothing about that one. Never a new key: the row stays unknown and the same key goes
    // again later, until the API answers with the record it holds for it.
    return Either.right({ ...row, ...note, status: "send_unknown", next_poll_at: now + unknownDelay(row, now) })
  }
  if (!XquikError.mayHaveDispatched(error)) {
    // Pre-dispatch: the write surely did not reach X. The row fails, saying whether a new key may be used.
    const safe = "safeToRetry" in error && error.safeToRetry !== undefined ? error.safeToRetry : false
    return Either.right({
      ...row,
      ...note,
      status: "failed",
      terminal: true,
      safe_to_retry: safe,
      next_action: "nextAction" in error && error.nextAction !== undefined ? error.nextAction : null,
      completed_at: now,
      next_poll_at: null
    })
  }
  // The write may be on X. With a write action id in the error, poll it; otherwise the outcome
  // is unknown and later turns replay the SAME key.
  const adopted =
    "writeActionId" in error && typeof error.writeActionId === "string"
      ? parseWriteActionId(error.writeActionId)
      : undefined
  if (adopted !== undefined && Either.isRight(adopted)) {
    return Either.right({
      ...row,
      ...note,
      write_action_id: adopted.right,
      status: "accepted",
      send_dispatched: true,
      poll_endpoint: `/api/v1/x/write-actions/${encodeURIComponent(adopted.right)}`,
      next_poll_at: now
    })
  }
  return Either.right({ ...row, ...note, status: "send_unknown", next_poll_at: now + unknownDelay(row, now) })
}

/**
 * The API answered with a write action id another job already follows (it was tracked by id
 * before this send's answer came back). That job keeps following it; this one is closed with a
 * note naming it, so nothing is tracked twice and nothing is lost.
 */
const linkToOwner = (context: SendContext, result: SendResult, lease: Lease, now: number) =>
  Effect.gen(function* () {
    const id = result.row.write_action_id ?? ""
    const owner = yield* context.store.findByWriteActionId(id)
    const ownerJob = Option.match(owner, { onNone: () => "another job", onSome: (r) => `job ${r.job_id}` })
    const closed: QueueRow.QueueRow = {
      ...result.row,
      write_action_id: null,
      status: "failed",
      terminal: true,
      error_code: "write_action_tracked_elsewhere",
      message: `The API answered with write action ${id}, which ${ownerJob} already follows; follow it there. It was not sent twice.`,
      safe_to_retry: false,
      completed_at: now,
      next_poll_at: null
    }
    yield* Effect.uninterruptible(context.store.save(closed, lease))
    yield* Effect.logWarning("Outbox: the write action is already followed by another job").pipe(
      Effect.annotateLogs({ write_action_id: id })
    )
    return { ...result, row: closed, observation: Option.none<WriteAction.Observation>(), released: false }
  })

/**
 * What a send needs: the store, the client and the budget. {@link sendLeased} takes them
 * explicitly so a worker can call it on its own hot path.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Outbox, QueueStore, RateBudget, XquikClient } from "xquik-write-queue"
 *
 * const sendContext = Effect.gen(function* () {
 *   const context: Outbox.SendContext = {
 *     store: yield* QueueStore.QueueStore,
 *     client: yield* XquikClient.XquikClient,
 *     budget: yield* Effect.serviceOption(RateBudget.RateBudget),
 *     pacing: { maxDelay: "1 minute" }
 *   }
 *   return context
 * })
 * ```
 *
 * @since 0.1.0
 * @category sending
 */
export interface SendContext {
  readonly store: QueueStoreShape
  readonly client: XquikClientShape
  readonly budget: Option.Option<RateBudgetShape>
  readonly pacing: Pacing
  /** Release the lease in the final write when the answer is not terminal (a worker's turn ends there). */
  readonly releasePending?: boolean | undefined
}

/**
 * Sends a row this caller holds the lease of: persists `send_started`, sends with the row's own
 * key, persists the answer (without releasing the lease), and returns the row. A row that needs no
 * send is returned as is.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Outbox } from "xquik-write-queue"
 *
 * const sendNext = (context: Outbox.SendContext) =>
 *   Effect.gen(function* () {
 *     const [claimed] = yield* context.store.claimDue({ limit: 1, workerId: "sender-1", leaseFor: "2 minutes" })
 *     if (claimed === undefined) return undefined
 *     const result = yield* Outbox.sendLeased(claimed, context)
 *     yield* context.store.release(claimed.lease)
 *     return result.row
 *   })
 * ```
 *
 * @since 0.1.0
 * @category sending
 */
export const sendLeased = (
  claimed: Claimed,
  context: SendContext
): Effect.Effect<SendResult, Fatal | XquikError.LeaseLost | StoreFailure> =>
  Effect.gen(function* () {
    const { row, lease } = claimed
    const request = row.request_payload
    const key = row.idempotency_key
    if (!needsSend(row) || request === null || key === null) {
      return { row, observation: Option.none(), sent: false, released: false }
    }
    const replay = row.status === "send_started" || row.status === "send_unknown"
    const startedAt = yield* Clock.currentTimeMillis
    // Rule: the state change is durable before the side effect.
    const started = { ...row, status: "send_started", updated_at: startedAt }
    yield* Effect.uninterruptible(context.store.save(started, lease))
    if (Option.isSome(context.budget)) {
      yield* context.budget.value.take(WriteRequest.isDelete(request) ? "delete" : "write", request.account)
    }
    if (replay) {
      yield* Effect.logInfo("Outbox: replaying a send whose outcome is unknown, with the same Idempotency-Key")
    }
    const answer = yield* Effect.either(context.client.submit(request, WriteRequest.IdempotencyKey.make(key)))
    const now = yield* Clock.currentTimeMillis
    const next = Either.isRight(answer)
      ? Either.right(afterAnswer(started, answer.right, now, context.pacing))
      : Either.map(afterError(started, answer.left, now, context.pacing, replay), (r) => ({
          row: r,
          observation: Option.none<WriteAction.Observation>(),
          sent: true,
          released: false
        }))
    if (Either.isLeft(next)) {
      // Nothing was dispatched: put the row back as it was and stop.
      yield* Effect.uninterruptible(context.store.save({ ...row, updated_at: now }, lease))
      return yield* next.left
    }
    // A pending answer is the end of this turn for the row: the lease goes in the same write.
    const release = context.releasePending === true && !next.right.row.terminal
    const saved = yield* Effect.uninterruptible(context.store.save(next.right.row, lease, { release })).pipe(
      Effect.as({ ...next.right, released: release }),
      Effect.catchIf(
        (error): error is XquikError.StoreError => error._tag === "StoreError" && error.code === "unique_violation",
        () => linkToOwner(context, next.right, lease, now)
      )
    )
    if (Either.isLeft(answer)) {
      yield* Effect.logWarning("Outbox: the send failed").pipe(
        Effect.annotateLogs({ error: answer.left._tag, reason: answer.left.message, status: next.right.row.status })
      )
    }
    return saved
  }).pipe(
    Effect.annotateLogs({ job_id: claimed.row.job_id }),
    Effect.withSpan("Outbox.send", { captureStackTrace: false, attributes: { "xquik.job_id": claimed.row.job_id } })
  )

/**
 * Options of {@link send}: the lease it takes on the job, and the pacing of the polls that follow.
 *
 * @example
 * ```ts
 * import { Outbox } from "xquik-write-queue"
 *
 * const options: Outbox.SendOptions = { workerId: "cli", leaseFor: "30 seconds", maxDelay: "1 minute" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SendOptions extends Pacing {
  readonly workerId?: string | undefined
  readonly leaseFor?: Duration.DurationInput | undefined
}

const leased = <A, E, R>(
  jobId: string,
  options: { readonly workerId?: string | undefined; readonly leaseFor?: Duration.DurationInput | undefined },
  use: (claimed: Claimed, store: QueueStoreShape) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const store = yield* QueueStore
    const claimed = yield* store.claim(jobId, {
      workerId: options.workerId ?? `outbox-${process.pid}`,
      leaseFor: options.leaseFor ?? Duration.minutes(2)
    })
    if (Option.isNone(claimed)) {
      const existing = yield* store.get(jobId)
      if (Option.isNone(existing)) return yield* new XquikError.JobNotFound({ jobId })
      return { done: existing.value }
    }
    const release = (lease: Lease) => Effect.ignore(store.release(lease))
    return { result: yield* Effect.ensuring(use(claimed.value, store), release(claimed.value.lease)) }
  })

/**
 * Sends one job now (outside a worker): leases it, sends it as {@link sendLeased} does, and
 * releases it. A job that is already sent (or terminal) is returned unchanged; a job another
 * worker holds is `JobBusy`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Outbox, WriteRequest } from "xquik-write-queue"
 *
 * const posted = Effect.gen(function* () {
 *   const jobId = yield* Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text: "Hello" }))
 *   const row = yield* Outbox.send(jobId)
 *   return row.status // e.g. "accepted": poll it (or let a worker) until terminal
 * })
 * ```
 *
 * @since 0.1.0
 * @category outbox
 */
export const send = (
  jobId: string,
  options: SendOptions = {}
): Effect.Effect<
  QueueRow.QueueRow,
  Fatal | XquikError.LeaseLost | XquikError.JobNotFound | XquikError.JobBusy | StoreFailure,
  QueueStore | XquikClient
> =>
  Effect.gen(function* () {
    const client = yield* XquikClient
    const budget = yield* Effect.serviceOption(RateBudget)
    const outcome = yield* leased(jobId, options, (claimed, store) =>
      sendLeased(claimed, { store, client, budget, pacing: options })
    )
    if ("done" in outcome) {
      if (!outcome.done.terminal && outcome.done.write_action_id === null)
        return yield* new XquikError.JobBusy({ jobId })
      return outcome.done
    }
    return outcome.result.row
  })

// ---------------------------------------------------------------------------------------------
// retry with a new key
// ---------------------------------------------------------------------------------------------

/**
 * Why a row may not be retried with a new key, or `undefined` when it may.
 *
 * @example
 * ```ts
 * import { Outbox, QueueRow } from "xquik-write-queue"
 *
 * const explain = (row: QueueRow.QueueRow): string => Outbox.retryProblem(row) ?? "may be retried with a new key"
 * ```
 *
 * @since 0.1.0
 * @category retry
 */
export const retryProblem = (row: QueueRow.QueueRow): string | undefined => {
  if (!row.terminal) {
    return "it is not finished. A write that may still be in flight is never sent with a new key; wait for its outcome."
  }
  if (row.status !== "failed") {
    return row.status === "expired"
      ? "it expired, so it may be on X. Verify it there; it is never resent automatically."
      : `it ended ${row.status}, not failed.`
  }
  if (!row.safe_to_retry) {
    return "the API did not say it is safe to retry (safe_to_retry is false): the write may have been dispatched, or the request must be fixed first."
  }
  if (row.request_payload === null) return "it was tracked by id, so there is no request to send."
  return undefined
}

/**
 * The row as a new attempt under a new key: the old key and outcome go to `history`.
 *
 * @example
 * ```ts
 * import { Outbox, QueueRow, WriteRequest } from "xquik-write-queue"
 *
 * const retried = (row: QueueRow.QueueRow, now: number): QueueRow.QueueRow =>
 *   Outbox.nextAttempt(row, WriteRequest.IdempotencyKey.make(), now)
 * ```
 *
 * @since 0.1.0
 * @category retry
 */
export const nextAttempt = (
  row: QueueRow.QueueRow,
  key: WriteRequest.IdempotencyKey,
  now: number
): QueueRow.QueueRow => ({
  ...row,
  history: [
    ...row.history,
    {
      idempotency_key: row.idempotency_key,
      write_action_id: row.write_action_id,
      status: row.status,
      error_code: row.error_code,
      at: now
    }
  ],
  ...unsent,
  idempotency_key: key,
  attempts: row.attempts + 1,
  updated_at: now,
  next_poll_at: now
})

/**
 * Sends a failed job again under a NEW key, only when it failed with `safe_to_retry` (nothing
 * was dispatched). The attempt is recorded on the same job. Anything else is `NotRetryable`,
 * with the reason.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Outbox } from "xquik-write-queue"
 *
 * const retried = Outbox.retryWithNewKey("job-1").pipe(
 *   Effect.map((row) => `attempt ${row.attempts} queued`),
 *   Effect.catchTag("NotRetryable", (error) => Effect.succeed(`not retried: ${error.reason}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category retry
 */
export const retryWithNewKey = (
  jobId: string
): Effect.Effect<QueueRow.QueueRow, XquikError.NotRetryable | XquikError.JobNotFound | StoreFailure, QueueStore> =>
  Effect.gen(function* () {
    const store = yield* QueueStore
    const existing = yield* store.get(jobId)
    if (Option.isNone(existing)) return yield* new XquikError.JobNotFound({ jobId })
    const problem = retryProblem(existing.value)
    if (problem !== undefined) {
      return yield* new XquikError.NotRetryable({ jobId, status: existing.value.status, reason: problem })
    }
    // A failed row is terminal and cannot be claimed; `reopen` replaces it only if it is still the
    // row read above, so two callers cannot both start a new attempt.
    const now = yield* Clock.currentTimeMillis
    const retried = nextAttempt(existing.value, WriteRequest.IdempotencyKey.make(), now)
    const reopened = yield* store.reopen(retried, existing.value)
    if (!reopened) {
      return yield* new XquikError.NotRetryable({
        jobId,
        status: existing.value.status,
        reason: "it changed while it was being retried (another retry won). Look at it again."
      })
    }
    return retried
  }).pipe(Effect.withSpan("Outbox.retryWithNewKey", { captureStackTrace: false }))

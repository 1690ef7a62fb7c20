/**
 * The queue-state row: the seed page's "one queue-state row" per write, extended with what an
 * outbox needs to send exactly once (the key, the request, the attempts) and what a worker needs
 * to schedule (`next_poll_at`).
 *
 * `fromWriteAction(record, previous)` applies the seed's rules, and rows are monotonic: a
 * terminal row never goes back, `confirmation_attempts` never decreases, and late or
 * out-of-order answers are ignored.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { unsent } from "./internal/unsent.js"
import * as WriteAction from "./WriteAction.js"
import * as WriteRequest from "./WriteRequest.js"

/**
 * Row statuses that exist before the API has answered. Every other status is the API's own
 * (`accepted`, `dispatching`, `pending_confirmation`, `success`, `failed`, `expired`, or an
 * unknown one, kept).
 *
 * - `queued`: persisted with its key and request; nothing sent yet.
 * - `send_started`: the send began; it may have reached the API.
 * - `send_unknown`: the send may have reached the API but no answer was read; it is replayed
 *   with the SAME key until the API answers.
 *
 * @example
 * ```ts
 * import { QueueRow } from "xquik-write-queue"
 *
 * const notAnsweredYet = (row: QueueRow.QueueRow): boolean =>
 *   QueueRow.localStatuses.some((status) => status === row.status)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const localStatuses = ["queued", "send_started", "send_unknown"] as const

const NonNegativeInt = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
const Millis = Schema.Number

/**
 * One earlier attempt of a job: the key it was sent with and how it ended.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { QueueRow } from "xquik-write-queue"
 *
 * const attempt = Schema.decodeUnknownSync(QueueRow.Attempt)({
 *   idempotency_key: "order-17", write_action_id: "42", status: "failed",
 *   error_code: "x_write_failed", at: 1767225600000
 * })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Attempt = Schema.Struct({
  idempotency_key: Schema.NullOr(Schema.String),
  write_action_id: Schema.NullOr(Schema.String),
  status: Schema.String,
  error_code: Schema.NullOr(Schema.String),
  at: Millis
})

/**
 * One earlier attempt of a job, as a value.
 *
 * @example
 * ```ts
 * import { QueueRow } from "xquik-write-queue"
 *
 * const usedKeys = (row: QueueRow.QueueRow): ReadonlyArray<string | null> =>
 *   row.history.map((attempt: QueueRow.Attempt) => attempt.idempotency_key)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export interface Attempt extends Schema.Schema.Type<typeof Attempt> {}

/**
 * The row. Times are UTC milliseconds; credits are exact digit strings.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { QueueRow } from "xquik-write-queue"
 *
 * const toJson = (row: QueueRow.QueueRow): string => JSON.stringify(Schema.encodeSync(QueueRow.QueueRow)(row))
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const QueueRow = Schema.Struct({
  /** Primary key (a UUID). */
  job_id: Schema.String,
  /** The key the write is (or was) sent with. Unique. */
  idempotency_key: Schema.NullOr(Schema.String),
  /** The X account making the write. */
  account: Schema.NullOr(Schema.String),
  /** `create_tweet`, `send_dm`, … */
  action: Schema.NullOr(Schema.String),
  /** The request, stored before any network call so a replay sends the same bytes. */
  request_payload: Schema.NullOr(WriteRequest.WriteRequest),
  /** The API's request fingerprint, when it gave one. */
  request_hash: Schema.NullOr(Schema.String),
  /** Unique. Null until the API answered with one. */
  write_action_id: Schema.NullOr(Schema.String),
  status: Schema.String,
  terminal: Schema.Boolean,
  result_id: Schema.NullOr(Schema.String),
  result_type: Schema.NullOr(Schema.String),
  target_id: Schema.NullOr(Schema.String),
  charged: Schema.Boolean,
  charged_credits: WriteAction.Credits,
  media: Schema.NullOr(WriteAction.Media),
  send_dispatched: Schema.Boolean,
  confirmation_attempts: NonNegativeInt,
  /** The relative path polled: `/api/v1/x/write-actions/{id}` or the record's `statusUrl`. */
  poll_endpoint: Schema.NullOr(Schema.String),
  error_code: Schema.NullOr(Schema.String),
  message: Schema.NullOr(Schema.String),
  safe_to_retry: Schema.Boolean,
  next_action: Schema.NullOr(WriteAction.NextAction),
  /** How many keys this job has been sent with (1 unless retried with a new key). */
  attempts: NonNegativeInt,
  /** Status reads made for this job. */
  polls: NonNegativeInt,
  /** The last pacing hint the server gave (ms), remembered until a newer one replaces it. */
  poll_hint_ms: Schema.NullOr(NonNegativeInt),
  /** A terminal outcome whose resolvers have not all succeeded yet. */
  resolution_pending: Schema.Boolean,
  /** Earlier attempts of this job, each under its own key (see `Outbox.retryWithNewKey`). */
  history: Schema.Array(Attempt),
  /** The terminal record, kept only while `resolution_pending`, so resolvers can run after a crash. */
  last_record: Schema.NullOr(WriteAction.WriteAction),
  /** The caller's own data. */
  metadata: Schema.NullOr(WriteAction.JsonObject),
  created_at: Millis,
  updated_at: Millis,
  /** When the worker should next look at the row; null once terminal. */
  next_poll_at: Schema.NullOr(Millis),
  completed_at: Schema.NullOr(Millis)
})

/**
 * A queue-state row, as a value.
 *
 * @example
 * ```ts
 * import { QueueRow, WriteRequest } from "xquik-write-queue"
 *
 * const row: QueueRow.QueueRow = QueueRow.queued({
 *   jobId: "job-1",
 *   idempotencyKey: WriteRequest.IdempotencyKey.make(),
 *   request: WriteRequest.tweet({ account: "@acme", text: "Hello" }),
 *   now: Date.now()
 * })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export interface QueueRow extends Schema.Schema.Type<typeof QueueRow> {}

/**
 * The row as JSON (what stores persist and the CLI prints).
 *
 * @example
 * ```ts
 * import { QueueRow } from "xquik-write-queue"
 *
 * const toStored = (row: QueueRow.QueueRow): QueueRow.Encoded => QueueRow.encode(row)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export type Encoded = Schema.Schema.Encoded<typeof QueueRow>

/**
 * A row for a write that has not been sent: its job id, key and request, status `queued`.
 *
 * @example
 * ```ts
 * import { QueueRow, WriteRequest } from "xquik-write-queue"
 *
 * const row = QueueRow.queued({
 *   jobId: "job-1",
 *   idempotencyKey: WriteRequest.IdempotencyKey.make(),
 *   request: WriteRequest.tweet({ account: "@acme", text: "Hello" }),
 *   now: Date.now()
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const queued = (options: {
  readonly jobId: string
  readonly idempotencyKey: WriteRequest.IdempotencyKey
  readonly request: WriteRequest.WriteRequest
  readonly metadata?: Readonly<Record<string, unknown>> | null
  readonly now: number
}): QueueRow => ({
  ...blank(options.jobId, options.now),
  idempotency_key: options.idempotencyKey,
  account: options.request.account,
  action: WriteRequest.action(options.request),
  request_payload: options.request,
  target_id: WriteRequest.targetId(options.request) ?? null,
  metadata: options.metadata ?? null,
  attempts: 1,
  next_poll_at: options.now
})

/**
 * A row for a write action sent elsewhere (adopted by id), status `accepted` until polled.
 *
 * @example
 * ```ts
 * import { QueueRow } from "xquik-write-queue"
 *
 * const row = QueueRow.tracked({
 *   jobId: "job-2",
 *   writeActionId: "42",
 *   metadata: { source: "script" },
 *   now: Date.now()
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const tracked = (options: {
  readonly jobId: string
  readonly writeActionId: string
  readonly metadata?: Readonly<Record<string, unknown>> | null
  readonly now: number
}): QueueRow => ({
  ...blank(options.jobId, options.now),
  write_action_id: options.writeActionId,
  status: "accepted",
  send_dispatched: true,
  poll_endpoint: `/api/v1/x/write-actions/${encodeURIComponent(options.writeActionId)}`,
  metadata: options.metadata ?? null,
  next_poll_at: options.now
})

const blank = (jobId: string, now: number): QueueRow => ({
  ...unsent,
  job_id: jobId,
  idempotency_key: null,
  account: null,
  action: null,
  request_payload: null,
  request_hash: null,
  target_id: null,
  media: null,
  attempts: 0,
  history: [],
  metadata: null,
  created_at: now,
  updated_at: now,
  next_poll_at: null
})

// Pending statuses in lifecycle order; an answer earlier in it than the row is a late answer.
const pendingRank: Readonly<Record<string, number>> = { accepted: 0, dispatching: 1, pending_confirmation: 2 }

/**
 * The note stored on an expired row.
 *
 * @example
 * ```ts
 * import { QueueRow } from "xquik-write-queue"
 *
 * const mustVerifyOnX = (row: QueueRow.QueueRow): boolean => row.message?.endsWith(QueueRow.expiredNote) === true
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const expiredNote =
  "The write expired before it was confirmed. It may be on X: verify it there before any new write."

const nullable = <A>(o: Option.Option<A>): A | null => Option.getOrNull(o)

/**
 * Folds a status record into the row, with the seed's rules:
 *
 * - pending: keeps `write_action_id`, status, `send_dispatched`, `confirmation_attempts`, media
 *   and `target_id`; `charged` is false, `charged_credits` "0", `result_id` null;
 * - success: stores the result id (`result.id`, then `tweetId`, `messageId`, …), the charged
 *   credits and media, and completes the row;
 * - failed: stores the message and error code, `safe_to_retry`, `charged_credits` "0", no result;
 * - expired: stores the error and a note to verify on X.
 *
 * Monotonic: a terminal `previous` is returned unchanged; a pending answer with fewer
 * confirmation attempts, or earlier in the lifecycle, than `previous` is ignored;
 * `send_dispatched` never goes back to false.
 *
 * `at` (UTC ms) stamps `updated_at` and `completed_at`; without `previous`, a new job id is drawn.
 *
 * @example
 * ```ts
 * import { QueueRow, WriteAction } from "xquik-write-queue"
 *
 * // Folds each new record into the row; late or out-of-order records change nothing.
 * const keep = (row: QueueRow.QueueRow, record: WriteAction.WriteAction): QueueRow.QueueRow =>
 *   QueueRow.fromWriteAction(record, row)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromWriteAction = (
  record: WriteAction.WriteAction,
  previous?: QueueRow,
  at: number = Date.now()
): QueueRow => {
  if (previous?.terminal) return previous
  const outcome = WriteAction.outcome(record)
  const attempts = record.confirmationAttempts ?? previous?.confirmation_attempts ?? 0
  if (previous !== undefined && previous.write_action_id === record.writeActionId && outcome._tag === "Pending") {
    const before = pendingRank[previous.status]
    const now = pendingRank[record.status]
    if (attempts < previous.confirmation_attempts || (before !== undefined && now !== undefined && now < before)) {
      return previous
    }
  }
  const base = previous ?? blank(globalThis.crypto.randomUUID(), at)
  const live = WriteAction.isLive(record) ? record : undefined
  const common: QueueRow = {
    ...base,
    write_action_id: record.writeActionId,
    action: base.action ?? record.action,
    request_hash: base.request_hash ?? live?.request.hash ?? live?.requestHash ?? null,
    status: record.status,
    terminal: outcome._tag !== "Pending",
    target_id: nullable(WriteAction.targetId(record)) ?? base.target_id,
    media: nullable(WriteAction.media(record)) ?? base.media,
    send_dispatched: base.send_dispatched || record.sendDispatched,
    confirmation_attempts: Math.max(base.confirmation_attempts, attempts),
    poll_endpoint: WriteAction.pollEndpoint(record),
    next_action: nullable(WriteAction.nextAction(record)),
    updated_at: at,
    charged: false,
    charged_credits: WriteAction.zeroCredits,
    result_id: null,
    result_type: null,
    safe_to_retry: false
  }
  switch (outcome._tag) {
    case "Pending":
      return { ...common, error_code: null, message: record.message ?? null, completed_at: null }
    case "Succeeded":
      return {
        ...common,
        result_id: nullable(outcome.resultId),
        result_type: nullable(outcome.resultType),
        charged: record.charged,
        charged_credits: record.chargedCredits,
        error_code: null,
        message: record.message ?? null,
        next_poll_at: null,
        completed_at: at
      }
    case "Failed":
      return {
        ...common,
        error_code: nullable(outcome.errorCode) ?? "failed",
        message: nullable(outcome.message),
        safe_to_retry: outcome.safeToRetry,
        next_poll_at: null,
        completed_at: at
      }
    case "Expired":
      return {
        ...common,
        error_code: nullable(outcome.errorCode) ?? "expired",
        message: Option.match(outcome.message, { onNone: () => expiredNote, onSome: (m) => `${m} ${expiredNote}` }),
        next_poll_at: null,
        completed_at: at
      }
  }
}

/**
 * Folds an observation into the row: {@link fromWriteAction} at the observation's receipt time,
 * counting the poll (unless `poll: false`, for a write's own answer) and remembering the server's
 * pacing hint.
 *
 * @example
 * ```ts
 * import { QueueRow, WriteAction } from "xquik-write-queue"
 *
 * const afterPoll = (row: QueueRow.QueueRow, observation: WriteAction.Observation): QueueRow.QueueRow =>
 *   QueueRow.fromObservation(observation, row)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromObservation = (
  observation: WriteAction.Observation,
  previous?: QueueRow,
  options: { readonly poll?: boolean } = {}
): QueueRow => {
  if (previous?.terminal) return previous
  const next = fromWriteAction(observation.record, previous, observation.receivedAt)
  const hint = WriteAction.serverHint(observation)
  return {
    ...next,
    polls: (previous?.polls ?? 0) + (options.poll === false ? 0 : 1),
    poll_hint_ms: Option.isSome(hint) ? Math.max(0, Math.round(hint.value)) : next.poll_hint_ms
  }
}

/**
 * What a row says about its job.
 *
 * @example
 * ```ts
 * import { QueueRow } from "xquik-write-queue"
 *
 * const counts: Record<QueueRow.RowOutcome, number> = {
 *   succeeded: 0, failed: 0, expired: 0, pending: 0, queued: 0, send_unknown: 0
 * }
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export type RowOutcome = "succeeded" | "failed" | "expired" | "pending" | "queued" | "send_unknown"

/**
 * What a row says about its job: `succeeded`, `failed`, `expired`, `pending`, `queued` or `send_unknown`.
 *
 * @example
 * ```ts
 * import { QueueRow } from "xquik-write-queue"
 *
 * const isDone = (row: QueueRow.QueueRow): boolean => {
 *   const outcome = QueueRow.outcome(row)
 *   return outcome === "succeeded" || outcome === "failed" || outcome === "expired"
 * }
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const outcome = (row: QueueRow): RowOutcome => {
  if (row.terminal) return row.status === "success" ? "succeeded" : row.status === "expired" ? "expired" : "failed"
  if (row.status === "queued") return "queued"
  if (row.status === "send_unknown" || row.status === "send_started") return "send_unknown"
  return "pending"
}

/**
 * The seed page's row example: `job_id`, `write_action_id`, `status`, `published_tweet_id`,
 * `reply_to_tweet_id`, `charged`, `charged_credits`, `media`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { QueueRow } from "xquik-write-queue"
 *
 * const seedRow = Schema.decodeUnknownSync(QueueRow.SeedRow)({
 *   job_id: "job-1", write_action_id: "42", status: "success", published_tweet_id: "1900000000000000001",
 *   charged: true, charged_credits: "30", media: null
 * })
 * ```
 *
 * @since 0.1.0
 * @category seed
 */
export const SeedRow = Schema.Struct({
  job_id: Schema.String,
  write_action_id: Schema.NullOr(Schema.String),
  status: Schema.String,
  published_tweet_id: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  message_id: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  reply_to_tweet_id: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  charged: Schema.Boolean,
  charged_credits: WriteAction.Credits,
  media: Schema.NullOr(WriteAction.Media)
})

/**
 * A row in the seed page's shape, as a value.
 *
 * @example
 * ```ts
 * import { QueueRow } from "xquik-write-queue"
 *
 * const publishedTweet = (row: QueueRow.SeedRow): string | null => row.published_tweet_id ?? null
 * ```
 *
 * @since 0.1.0
 * @category seed
 */
export interface SeedRow extends Schema.Schema.Type<typeof SeedRow> {}

/**
 * The row in the seed page's shape.
 *
 * @example
 * ```ts
 * import { QueueRow } from "xquik-write-queue"
 *
 * const report = (rows: ReadonlyArray<QueueRow.QueueRow>) => rows.map(QueueRow.toSeedRow)
 * ```
 *
 * @since 0.1.0
 * @category seed
 */
export const toSeedRow = (row: QueueRow): SeedRow => {
  const replyTo = row.request_payload?._tag === "CreateTweet" ? (row.request_payload.replyToTweetId ?? null) : null
  return {
    job_id: row.job_id,
    write_action_id: row.write_action_id,
    status: row.status,
    ...(row.result_type === "tweet" || (row.result_type === null && row.action === "create_tweet")
      ? { published_tweet_id: row.result_id }
      : {}),
    ...(row.result_type === "direct_message" ? { message_id: row.result_id } : {}),
    ...(replyTo !== null ? { reply_to_tweet_id: replyTo } : {}),
    charged: row.charged,
    charged_credits: row.charged_credits,
    media: row.media
  }
}

/**
 * Encodes a row to JSON-ready data.
 *
 * @example
 * ```ts
 * import { QueueRow, WriteRequest } from "xquik-write-queue"
 *
 * const row = QueueRow.queued({
 *   jobId: "job-1",
 *   idempotencyKey: WriteRequest.IdempotencyKey.make(),
 *   request: WriteRequest.tweet({ account: "@acme", text: "Hello" }),
 *   now: Date.now()
 * })
 * const json = JSON.stringify(QueueRow.encode(row))
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode: (row: QueueRow) => Encoded = Schema.encodeSync(QueueRow)

/**
 * Decodes a row from JSON-ready data.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { QueueRow } from "xquik-write-queue"
 *
 * const row = QueueRow.tracked({ jobId: "job-2", writeActionId: "42", now: Date.now() })
 * // Either.right("accepted")
 * const status = Either.map(QueueRow.decode(QueueRow.encode(row)), (decoded) => decoded.status)
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const decode = Schema.decodeUnknownEither(QueueRow)

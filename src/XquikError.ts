/**
 * Every typed error of the library. Each is a `Schema.TaggedError` that carries the fields a
 * caller needs to decide what to do, and a `message` a person can act on.
 *
 * Errors raised by a write say `mayHaveDispatched`: `true` when the write may have reached X
 * (never send it again with a new key; poll or verify instead), `false` when it surely did not.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as WriteAction from "./WriteAction.js"

/**
 * The follow-up the API asks for, when an error body carries one.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { XquikError } from "xquik-write-queue"
 *
 * const next = Schema.decodeUnknownSync(XquikError.ErrorNextAction)({ type: "retry", requiresNewIdempotencyKey: true })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const ErrorNextAction = Schema.Struct({
  type: Schema.String,
  url: Schema.optionalWith(Schema.String, { exact: true }),
  afterMs: Schema.optionalWith(Schema.Number, { exact: true }),
  requiresNewIdempotencyKey: Schema.optionalWith(Schema.Boolean, { exact: true })
})

/**
 * A decoded follow-up from an error body.
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * const needsNewKey = (next: XquikError.ErrorNextAction): boolean => next.requiresNewIdempotencyKey === true
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorNextAction = typeof ErrorNextAction.Type

/**
 * One field the API rejected.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { XquikError } from "xquik-write-queue"
 *
 * const fieldError = Schema.decodeUnknownSync(XquikError.FieldError)({
 *   path: "text", code: "too_long", message: "text is longer than 25,000 characters"
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const FieldError = Schema.Struct({
  path: Schema.String,
  code: Schema.String,
  message: Schema.String
})

/**
 * A decoded field error.
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * const line = (error: XquikError.FieldError): string => `${error.path}: ${error.message}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type FieldError = typeof FieldError.Type

/** Fields every error built from an HTTP answer carries. */
const answerFields = {
  /** The HTTP method and path that failed, without query or credentials. */
  method: Schema.String,
  path: Schema.String,
  /** The API's error code (`error` in the body); open, so an unknown code is kept as is. */
  code: Schema.String,
  /** The API's own explanation, when it gave one. */
  detail: Schema.optionalWith(Schema.String, { exact: true }),
  /** `X-Request-Id` of the answer, for support. */
  requestId: Schema.optionalWith(Schema.String, { exact: true }),
  /** `safeToRetry` from the body: true only when nothing was dispatched and a new key may be used. */
  safeToRetry: Schema.optionalWith(Schema.Boolean, { exact: true }),
  nextAction: Schema.optionalWith(ErrorNextAction, { exact: true }),
  /** Present when the API tied the error to a durable write action. */
  writeActionId: Schema.optionalWith(Schema.String, { exact: true }),
  mayHaveDispatched: Schema.Boolean
}

const withDetail = (head: string, detail: string | undefined): string =>
  detail === undefined || detail === "" ? head : `${head}: ${detail.replace(/[.\s]+$/, "")}`

/**
 * 401: the credential is missing, wrong or revoked. Never retried.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { XquikClient } from "xquik-write-queue"
 *
 * // A refused credential will not fix itself: stop with the message.
 * const read = Effect.flatMap(XquikClient.XquikClient, (client) => client.getWriteAction("42")).pipe(
 *   Effect.catchTag("Unauthenticated", (error) => Effect.dieMessage(error.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()("Unauthenticated", answerFields) {
  override get message(): string {
    return `${withDetail(`Xquik refused the credential (401 ${this.code})`, this.detail)}. Check XQUIK_API_KEY (or XQUIK_BEARER_TOKEN / XQUIK_SESSION_COOKIE) and that the key is still active.`
  }
}

/**
 * 402: no credits, or no active subscription.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { WriteRequest, XquikClient } from "xquik-write-queue"
 *
 * const send = Effect.flatMap(XquikClient.XquikClient, (client) =>
 *   client.submit(WriteRequest.tweet({ account: "@acme", text: "Hello" }), WriteRequest.IdempotencyKey.make())
 * ).pipe(Effect.tapErrorTag("PaymentRequired", (error) => Effect.logError(error.message)))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class PaymentRequired extends Schema.TaggedError<PaymentRequired>()("PaymentRequired", answerFields) {
  override get message(): string {
    return `${withDetail(`Xquik needs payment for this request (402 ${this.code})`, this.detail)}. Top up credits or renew the subscription, then send a new write.`
  }
}

/**
 * 403: the X account needs re-authentication, is restricted, or may not do this (e.g. DMs).
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * const error = new XquikError.Forbidden({
 *   method: "POST", path: "/api/v1/x/dm/44196397", code: "dm_not_allowed", mayHaveDispatched: false
 * })
 * const text = error.message // "Xquik refused the request for this X account (403 dm_not_allowed). ..."
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", answerFields) {
  override get message(): string {
    return `${withDetail(`Xquik refused the request for this X account (403 ${this.code})`, this.detail)}. Re-add or re-authenticate the account in the Xquik dashboard.`
  }
}

/**
 * 404: no such write action (or account). Check the id; never resubmit the write because of it.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { XquikClient } from "xquik-write-queue"
 *
 * const find = (id: string) =>
 *   Effect.flatMap(XquikClient.XquikClient, (client) => client.getWriteAction(id)).pipe(
 *     Effect.map(Option.some),
 *     Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
 *   )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", answerFields) {
  override get message(): string {
    return `${withDetail(`Xquik has no such resource at ${this.path} (404 ${this.code})`, this.detail)}. Check the id; do not resubmit the write because of this.`
  }
}

/**
 * 400 (or another 4xx the API does not document): the request itself is wrong. Also raised before
 * any request when a write request fails local validation.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const checked = WriteRequest.validate(WriteRequest.sendDm({ account: "@acme", to: "44196397", text: "" }))
 * const problems = Either.isLeft(checked) ? checked.left.fieldErrors.map((f) => f.message) : []
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  ...answerFields,
  status: Schema.Number,
  fieldErrors: Schema.Array(FieldError)
}) {
  override get message(): string {
    const fields = this.fieldErrors.map((f) => `${f.path}: ${f.message}`).join("; ")
    const head =
      this.status === 0
        ? `The request is invalid (${this.code})`
        : `Xquik rejected the request (${this.status} ${this.code})`
    return `${withDetail(head, fields === "" ? this.detail : fields)}. Fix the request and send it again.`
  }
}

/**
 * 409: the Idempotency-Key was already used with a different request. Keep the original action.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Outbox, WriteRequest } from "xquik-write-queue"
 *
 * const enqueue = Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text: "Hello again" }), {
 *   idempotencyKey: "launch-post"
 * }).pipe(Effect.catchTag("IdempotencyConflict", (error) => Effect.logWarning(error.message)))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class IdempotencyConflict extends Schema.TaggedError<IdempotencyConflict>()(
  "IdempotencyConflict",
  answerFields
) {
  override get message(): string {
    return `The Idempotency-Key was already used with a different request (409 ${this.code}). Keep the original write action; send a changed request only with a new key.`
  }
}

/**
 * 429: rate limited by Xquik or by X. `retryAfter` is when to try again, when the server said.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { XquikError } from "xquik-write-queue"
 *
 * const waitFor = (error: XquikError.RateLimited): Duration.Duration =>
 *   error.retryAfter ?? Duration.seconds(5)
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  ...answerFields,
  /** From `Retry-After` (or the body's `retryAfter`); absent when the server did not say. */
  retryAfter: Schema.optionalWith(Schema.DurationFromSelf, { exact: true })
}) {
  override get message(): string {
    const when = this.retryAfter === undefined ? "later" : `after ${Duration.format(this.retryAfter)}`
    return `${withDetail(`Rate limited (429 ${this.code})`, this.detail)}. Try again ${when}.`
  }
}

/**
 * 422: X rejected the write (content too long, duplicate, suspended account, missing target…).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { WriteRequest, XquikClient } from "xquik-write-queue"
 *
 * const send = Effect.flatMap(XquikClient.XquikClient, (client) =>
 *   client.submit(WriteRequest.like("@acme", "1900000000000000001"), WriteRequest.IdempotencyKey.make())
 * ).pipe(Effect.tapErrorTag("Unprocessable", (error) => Effect.logWarning(`X said no: ${error.code}`)))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class Unprocessable extends Schema.TaggedError<Unprocessable>()("Unprocessable", answerFields) {
  override get message(): string {
    return `${withDetail(`X rejected the write (422 ${this.code})`, this.detail)}. Change the account, target or content before sending a new write.`
  }
}

/**
 * 5xx: the API or X failed. `retryable` says whether repeating a READ may help; a write follows
 * `mayHaveDispatched` and `safeToRetry` instead.
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * // Reads may be repeated; a write only when nothing may have been dispatched.
 * const worthRetrying = (error: XquikError.ServerError): boolean => error.retryable && !error.mayHaveDispatched
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", {
  ...answerFields,
  status: Schema.Number,
  retryable: Schema.Boolean,
  retryAfter: Schema.optionalWith(Schema.DurationFromSelf, { exact: true })
}) {
  override get message(): string {
    const advice = this.mayHaveDispatched
      ? " The write may have been dispatched: poll its status or verify on X; never resend it with a new key."
      : this.retryable
        ? " It is safe to try again later."
        : ""
    return `${withDetail(`Xquik failed (${this.status} ${this.code})`, this.detail)}.${advice}`
  }
}

/**
 * The connection failed: refused, reset, or broken while the answer was read.
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * const error = new XquikError.Transport({
 *   method: "GET", path: "/api/v1/x/write-actions/42", stage: "request",
 *   reason: "ECONNREFUSED", mayHaveDispatched: false
 * })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class Transport extends Schema.TaggedError<Transport>()("Transport", {
  method: Schema.String,
  path: Schema.String,
  /** Where the failure happened: before any answer arrived, or while the body was read. */
  stage: Schema.Literal("request", "body"),
  reason: Schema.String,
  mayHaveDispatched: Schema.Boolean
}) {
  override get message(): string {
    const advice = this.mayHaveDispatched
      ? " The write may have arrived: it is replayed only with the same Idempotency-Key."
      : " Check the network and XQUIK_BASE_URL."
    return `Could not complete ${this.method} ${this.path}: ${this.reason}.${advice}`
  }
}

/**
 * No complete answer within the configured timeout.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { XquikError } from "xquik-write-queue"
 *
 * const error = new XquikError.Timeout({
 *   method: "GET", path: "/api/v1/x/write-actions/42", timeout: Duration.seconds(30), mayHaveDispatched: false
 * })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  method: Schema.String,
  path: Schema.String,
  timeout: Schema.DurationFromSelf,
  mayHaveDispatched: Schema.Boolean
}) {
  override get message(): string {
    return `No answer to ${this.method} ${this.path} within ${Duration.format(this.timeout)}. Raise XQUIK_TIMEOUT or check the network.`
  }
}

/**
 * The answer could not be read: not JSON, or a field of the wrong shape. `fieldPath` names the
 * field (`$` for the whole body).
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * const where = (error: XquikError.MalformedResponse): string =>
 *   `${error.status} ${error.method} ${error.path} at ${error.fieldPath}, request ${error.requestId ?? "?"}`
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedResponse extends Schema.TaggedError<MalformedResponse>()("MalformedResponse", {
  method: Schema.String,
  path: Schema.String,
  status: Schema.Number,
  fieldPath: Schema.String,
  reason: Schema.String,
  requestId: Schema.optionalWith(Schema.String, { exact: true }),
  mayHaveDispatched: Schema.Boolean
}) {
  override get message(): string {
    const report = this.requestId === undefined ? "report it" : `report request id ${this.requestId}`
    return `Xquik answered ${this.status} to ${this.method} ${this.path} with a body this client cannot read (at ${this.fieldPath}: ${this.reason}). This is a server or proxy fault; ${report} if it persists.`
  }
}

/**
 * The answer was larger than the configured cap; it was cut off while it was read.
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * const error = new XquikError.ResponseTooLarge({
 *   method: "GET", path: "/api/v1/x/write-actions/42", status: 200, limitBytes: 1048576, mayHaveDispatched: false
 * })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseTooLarge extends Schema.TaggedError<ResponseTooLarge>()("ResponseTooLarge", {
  method: Schema.String,
  path: Schema.String,
  status: Schema.Number,
  limitBytes: Schema.Number,
  mayHaveDispatched: Schema.Boolean
}) {
  override get message(): string {
    return `The answer to ${this.method} ${this.path} exceeded ${this.limitBytes} bytes and was cut off. Raise maxResponseBytes only if you trust the server.`
  }
}

/**
 * A `statusUrl` or `Location` pointed outside the configured origin and API path; it was not
 * followed, so the credential never left for another host.
 *
 * @example
 * ```ts
 * import { XquikClient } from "xquik-write-queue"
 *
 * const config = { origin: "https://xquik.com", basePath: "/api/v1" }
 * const refused = XquikClient.resolveStatusUrl(config, "https://elsewhere.example/api/v1/x/write-actions/42")
 * // Either.left(CrossOriginStatusUrl): the credential is never sent there
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class CrossOriginStatusUrl extends Schema.TaggedError<CrossOriginStatusUrl>()("CrossOriginStatusUrl", {
  url: Schema.String,
  allowedPrefix: Schema.String
}) {
  override get message(): string {
    return `Refused to follow ${JSON.stringify(this.url)}: it is not under ${this.allowedPrefix}. The credential is only sent to the configured origin.`
  }
}

/**
 * The text is not a write action id. Raised before any request.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { XquikClient } from "xquik-write-queue"
 *
 * const parsed = XquikClient.parseWriteActionId("42/like")
 * const reason = Either.isLeft(parsed) ? parsed.left.reason : "valid"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidWriteActionId extends Schema.TaggedError<InvalidWriteActionId>()("InvalidWriteActionId", {
  /** The rejected input, shortened to 80 characters and with control characters escaped. */
  input: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.input} is not a write action id: ${this.reason}. Use the writeActionId from the write's answer.`
  }
}

/**
 * The configuration is unusable: no credential, two credentials, a bad base URL or duration.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { XquikConfig } from "xquik-write-queue"
 *
 * // No credential given: fails with ConfigError naming the options to set.
 * const config = XquikConfig.make({}).pipe(
 *   Effect.tapErrorTag("ConfigError", (error) => Effect.logError(error.variables.join(", ")))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  /** The environment variables or options involved. */
  variables: Schema.Array(Schema.String),
  reason: Schema.String
}) {
  override get message(): string {
    return `Configuration error (${this.variables.join(", ")}): ${this.reason}`
  }
}

// ---------------------------------------------------------------------------------------------
// outcomes that reach the caller as errors
// ---------------------------------------------------------------------------------------------

const ObservationType = Schema.typeSchema(WriteAction.Observation)
const RecordType = Schema.typeSchema(WriteAction.WriteAction)

/**
 * The write reached a terminal `failed` status. Nothing more will happen to it. A new write is
 * allowed only when `safeToRetry` is true, with a NEW key, and only if you want it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Polling } from "xquik-write-queue"
 *
 * const outcome = Polling.awaitOutcome("42").pipe(
 *   Effect.catchTag("WriteFailed", (error) =>
 *     Effect.logWarning(error.safeToRetry ? "nothing was sent; a new write is safe" : error.message)
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 * @category outcomes
 */
export class WriteFailed extends Schema.TaggedError<WriteFailed>()("WriteFailed", {
  writeActionId: Schema.String,
  errorCode: Schema.optionalWith(Schema.String, { exact: true }),
  detail: Schema.optionalWith(Schema.String, { exact: true }),
  safeToRetry: Schema.Boolean,
  nextAction: Schema.optionalWith(Schema.typeSchema(WriteAction.NextAction), { exact: true }),
  record: RecordType
}) {
  override get message(): string {
    const head = `Write action ${this.writeActionId} failed${this.errorCode === undefined ? "" : ` (${this.errorCode})`}`
    const advice = this.safeToRetry
      ? " Nothing was dispatched: a new write with a NEW Idempotency-Key is safe if you want one."
      : " Fix the account, target, content or billing before sending a new write."
    return `${withDetail(head, this.detail)}.${advice}`
  }
}

/**
 * The write expired before it was confirmed. It may be on X: verify it there, and never resend
 * it automatically.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Polling } from "xquik-write-queue"
 *
 * const outcome = Polling.awaitOutcome("42").pipe(
 *   Effect.catchTag("WriteExpired", (error) => Effect.logWarning(`verify ${error.writeActionId} on X`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category outcomes
 */
export class WriteExpired extends Schema.TaggedError<WriteExpired>()("WriteExpired", {
  writeActionId: Schema.String,
  errorCode: Schema.optionalWith(Schema.String, { exact: true }),
  detail: Schema.optionalWith(Schema.String, { exact: true }),
  record: RecordType
}) {
  override get message(): string {
    return `Write action ${this.writeActionId} expired before it was confirmed. It may be on X: verify it there; do not resend it automatically.`
  }
}

/**
 * Polling ran past its bound (`maxWait`, the record's `expiresAt`, or the end of the schedule)
 * while the write was still pending. The write may still complete: poll it again later; never
 * resend it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Polling } from "xquik-write-queue"
 *
 * const outcome = Polling.awaitOutcome("42", { maxWait: "1 minute" }).pipe(
 *   Effect.catchTag("StillPending", (error) => Effect.logInfo(`still pending after ${error.polls} polls`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category outcomes
 */
export class StillPending extends Schema.TaggedError<StillPending>()("StillPending", {
  writeActionId: Schema.String,
  lastObservation: Schema.OptionFromSelf(ObservationType),
  polls: Schema.Number,
  waited: Schema.DurationFromSelf
}) {
  override get message(): string {
    const status = this.lastObservation._tag === "Some" ? this.lastObservation.value.record.status : "not yet polled"
    return `Write action ${this.writeActionId} is still pending (${status}) after ${this.polls} poll(s) over ${Duration.format(this.waited)}. Poll it again later; never resend it.`
  }
}

/**
 * A status read failed while a write action was being polled, after the client's own retries:
 * `error` is that read's typed error, with the last observation seen before it (none when the
 * first read failed), the number of polls that succeeded and the time waited. `Polling.polls`
 * fails with it. The write itself is unaffected: poll it again later; never resend it.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Polling } from "xquik-write-queue"
 *
 * const lastStatus = Polling.polls("42").pipe(
 *   Stream.runDrain,
 *   Effect.catchTag("PollFailed", (failed) =>
 *     Effect.logWarning(`${failed.error._tag}; last seen ${failed.lastObservation.pipe((o) => (o._tag === "Some" ? o.value.record.status : "nothing"))}`)
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 * @category outcomes
 */
export class PollFailed extends Schema.TaggedError<PollFailed>()("PollFailed", {
  writeActionId: Schema.String,
  error: Schema.declare((u: unknown): u is XquikError => isXquikError(u), { identifier: "XquikError" }),
  lastObservation: Schema.OptionFromSelf(ObservationType),
  polls: Schema.Number,
  waited: Schema.DurationFromSelf
}) {
  override get message(): string {
    const status = this.lastObservation._tag === "Some" ? this.lastObservation.value.record.status : "none yet"
    return `Polling write action ${this.writeActionId} failed after ${this.polls} poll(s) over ${Duration.format(this.waited)} (last status: ${status}): ${this.error.message}`
  }
}

// ---------------------------------------------------------------------------------------------
// the store
// ---------------------------------------------------------------------------------------------

/**
 * The row's lease has passed to another worker (or was released): this worker must not write it.
 * Nothing was changed.
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * const error = new XquikError.LeaseLost({ jobId: "job-1", workerId: "worker-a" })
 * ```
 *
 * @since 0.1.0
 * @category store
 */
export class LeaseLost extends Schema.TaggedError<LeaseLost>()("LeaseLost", {
  jobId: Schema.String,
  workerId: Schema.String
}) {
  override get message(): string {
    return `Worker ${this.workerId} no longer holds the lease on job ${this.jobId}; another worker took it over. Nothing was written.`
  }
}

/**
 * The store failed: unreachable, full, busy, or a statement failed. `code` is the driver's code
 * when there is one (`SQLITE_FULL`, `SQLITE_BUSY`, `ECONNREFUSED`, a PostgreSQL SQLSTATE, …).
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * const error = new XquikError.StoreError({
 *   operation: "claim rows",
 *   reason: "database is locked",
 *   code: "SQLITE_BUSY"
 * })
 * ```
 *
 * @since 0.1.0
 * @category store
 */
export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  operation: Schema.String,
  reason: Schema.String,
  code: Schema.optionalWith(Schema.String, { exact: true })
}) {
  override get message(): string {
    return `The queue store failed to ${this.operation}${this.code === undefined ? "" : ` (${this.code})`}: ${this.reason}`
  }
}

/**
 * No job with this id is in the store.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Outbox } from "xquik-write-queue"
 *
 * const row = Outbox.send("job-1").pipe(
 *   Effect.catchTag("JobNotFound", (error) => Effect.dieMessage(error.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category store
 */
export class JobNotFound extends Schema.TaggedError<JobNotFound>()("JobNotFound", {
  jobId: Schema.String
}) {
  override get message(): string {
    return `There is no job ${JSON.stringify(this.jobId.slice(0, 80))} in the store. List the jobs to find its id.`
  }
}

/**
 * Another worker holds the job's lease right now.
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 * import { Outbox } from "xquik-write-queue"
 *
 * // Another worker holds the job: try again a few times.
 * const row = Outbox.send("job-1").pipe(
 *   Effect.retry({ while: (error) => error._tag === "JobBusy", schedule: Schedule.spaced("5 seconds"), times: 3 })
 * )
 * ```
 *
 * @since 0.1.0
 * @category store
 */
export class JobBusy extends Schema.TaggedError<JobBusy>()("JobBusy", {
  jobId: Schema.String
}) {
  override get message(): string {
    return `Job ${this.jobId} is being worked on by another worker right now. Try again when its lease ends.`
  }
}

/**
 * The job may not be sent again with a new key: only a job that failed with `safe_to_retry` may.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Outbox } from "xquik-write-queue"
 *
 * const retried = Outbox.retryWithNewKey("job-1").pipe(
 *   Effect.catchTag("NotRetryable", (error) => Effect.logWarning(error.reason))
 * )
 * ```
 *
 * @since 0.1.0
 * @category store
 */
export class NotRetryable extends Schema.TaggedError<NotRetryable>()("NotRetryable", {
  jobId: Schema.String,
  status: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `Job ${this.jobId} (${this.status}) cannot be retried with a new key: ${this.reason}`
  }
}

/**
 * A stored row cannot be read: a column holds what no row may hold (e.g. broken JSON). The other
 * rows are still served.
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * const error = new XquikError.StoreCorrupt({ jobId: "job-1", column: "request_payload", reason: "not JSON" })
 * ```
 *
 * @since 0.1.0
 * @category store
 */
export class StoreCorrupt extends Schema.TaggedError<StoreCorrupt>()("StoreCorrupt", {
  jobId: Schema.String,
  column: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `Job ${this.jobId} is corrupt in the store (column ${this.column}: ${this.reason}). Inspect or delete that row; the others are unaffected.`
  }
}

/**
 * Any error an HTTP call to Xquik can end with.
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * const advice = (error: XquikError.XquikError): string =>
 *   XquikError.mayHaveDispatched(error) ? "poll or verify on X; never resend with a new key" : error.message
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type XquikError =
  | Unauthenticated
  | PaymentRequired
  | Forbidden
  | NotFound
  | InvalidRequest
  | IdempotencyConflict
  | RateLimited
  | Unprocessable
  | ServerError
  | Transport
  | Timeout
  | MalformedResponse
  | ResponseTooLarge
  | CrossOriginStatusUrl
  | InvalidWriteActionId

/**
 * The tags of {@link XquikError}.
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * const isXquikTag = (tag: string): boolean => XquikError.xquikErrorTags.some((known) => known === tag)
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const xquikErrorTags: ReadonlyArray<XquikError["_tag"]> = [
  "Unauthenticated",
  "PaymentRequired",
  "Forbidden",
  "NotFound",
  "InvalidRequest",
  "IdempotencyConflict",
  "RateLimited",
  "Unprocessable",
  "ServerError",
  "Transport",
  "Timeout",
  "MalformedResponse",
  "ResponseTooLarge",
  "CrossOriginStatusUrl",
  "InvalidWriteActionId"
]

const tagSet: ReadonlySet<string> = new Set(xquikErrorTags)

/**
 * Whether a value is one of the {@link XquikError} errors (by its `_tag`).
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * const describe = (u: unknown): string => (XquikError.isXquikError(u) ? u._tag : "not an Xquik error")
 * ```
 *
 * @since 0.1.0
 * @category refinements
 */
export const isXquikError = (u: unknown): u is XquikError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tagSet.has(u._tag)

/**
 * Whether a failed write may have reached X. Errors that never touched the network (a bad id, a
 * refused URL) say `false`.
 *
 * @example
 * ```ts
 * import { XquikError } from "xquik-write-queue"
 *
 * const error = new XquikError.Transport({
 *   method: "POST", path: "/api/v1/x/tweets", stage: "body", reason: "socket hang up", mayHaveDispatched: true
 * })
 * XquikError.mayHaveDispatched(error) // true: poll, never resend with a new key
 * ```
 *
 * @since 0.1.0
 * @category refinements
 */
export const mayHaveDispatched = (error: XquikError): boolean =>
  "mayHaveDispatched" in error ? error.mayHaveDispatched : false

/**
 * The write action status record, as the API returns it from `GET /x/write-actions/{id}` and
 * from every write, in both of its contracts:
 *
 * - Contract A, the seed page: `writeActionId`, `status` (`success | failed |
 *   pending_confirmation`), `media`, `createdAt`, no `terminal` flag.
 * - Contract B, the live `XWriteAction` (`object: "x_write_action"`): `terminal`, `safeToRetry`,
 *   `statusUrl`, `pollAfterMs`, `billing`, `result`, `nextAction`, …
 *
 * One schema, {@link WriteAction}, decodes both. Enums are open (an unknown status or action is
 * kept as a string), unknown fields are ignored, and credit amounts stay exact digit strings.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { segmentProblem } from "./internal/segment.js"

// ---------------------------------------------------------------------------------------------
// building blocks
// ---------------------------------------------------------------------------------------------

/** Longest open-enum value (status, action, error code, kinds) this client accepts. */
const MAX_ENUM = 128
/** Longest id of an X resource, account or request this client accepts. */
const MAX_ID = 256
/** Longest free text (messages) this client accepts; a longer one is a malformed body. */
const MAX_TEXT = 64 * 1024
/** Longest URL path (statusUrl, nextAction.url, media URL) this client accepts. */
const MAX_URL = 4096

const bounded = (max: number, what: string) =>
  Schema.String.pipe(Schema.maxLength(max, { message: () => `${what} longer than ${max} characters` }))

/**
 * An open enum value: any string up to 128 characters. Known values are listed beside each
 * field; an unknown one is kept, never rejected.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OpenEnum = bounded(MAX_ENUM, "enum value")

const Id = bounded(MAX_ID, "id")
const Text = bounded(MAX_TEXT, "text")
const Url = bounded(MAX_URL, "URL")
const Timestamp = bounded(64, "timestamp")
const NonNegativeInt = Schema.Number.pipe(
  Schema.int({ message: () => "expected an integer" }),
  Schema.nonNegative({ message: () => "expected a non-negative integer" })
)

/**
 * Why a text is not a write action id, or `undefined` when it is one.
 *
 * @since 0.1.0
 * @category ids
 */
export const writeActionIdProblem: (input: string) => string | undefined = segmentProblem

/**
 * A write action id: 1 to 128 characters, no `/ ? #`, no control characters. It is opaque (the
 * API's examples are digits) and sent as one encoded path segment.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteActionId } from "xquik-write-queue/WriteAction"
 *
 * const id = Schema.decodeUnknownSync(WriteActionId)("42")
 * ```
 *
 * @since 0.1.0
 * @category ids
 */
export const WriteActionId = Schema.String.pipe(
  Schema.filter((s) => writeActionIdProblem(s) ?? true, { identifier: "WriteActionId" }),
  Schema.brand("WriteActionId")
)

/**
 * @since 0.1.0
 * @category ids
 */
export type WriteActionId = typeof WriteActionId.Type

/**
 * An exact, non-negative amount as a digit string (`"32"`). Credits and byte counts are never
 * floats; convert with `BigInt(amount)` when you need arithmetic.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Credits = Schema.String.pipe(
  Schema.maxLength(40, { message: () => "expected a digit string of at most 40 digits" }),
  Schema.pattern(/^\d+$/, { message: () => 'expected a digit string such as "32"' }),
  Schema.brand("Credits")
)

/**
 * @since 0.1.0
 * @category schemas
 */
export type Credits = typeof Credits.Type

/**
 * The zero amount.
 *
 * @since 0.1.0
 * @category constructors
 */
export const zeroCredits: Credits = Credits.make("0")

/**
 * Known statuses. `accepted`, `dispatching` and `pending_confirmation` are pending; `success`,
 * `failed` and `expired` are terminal. Any other string is kept and treated as pending unless
 * the record's `terminal` flag says otherwise.
 *
 * @since 0.1.0
 * @category models
 */
export const knownStatuses = [
  "accepted",
  "dispatching",
  "pending_confirmation",
  "success",
  "failed",
  "expired"
] as const

/**
 * Known write actions (the API adds more; unknown ones are kept).
 *
 * @since 0.1.0
 * @category models
 */
export const knownActions = [
  "create_tweet",
  "delete_tweet",
  "like",
  "unlike",
  "retweet",
  "unretweet",
  "follow",
  "unfollow",
  "remove_follower",
  "send_dm",
  "upload_media",
  "update_profile",
  "update_avatar",
  "update_banner",
  "create_community",
  "delete_community",
  "join_community",
  "leave_community"
] as const

// ---------------------------------------------------------------------------------------------
// nested objects
// ---------------------------------------------------------------------------------------------

/**
 * Media billing of a create-tweet. Contract A always sends all four fields; contract B sends a
 * free object, so each field is optional there, but a credit or byte count that is present must
 * still be a digit string. `kind` is `none | image | video` (open).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Media = Schema.Struct({
  count: Schema.optionalWith(NonNegativeInt, { exact: true }),
  credits: Schema.optionalWith(Credits, { exact: true }),
  kind: Schema.optionalWith(OpenEnum, { exact: true }),
  totalBytes: Schema.optionalWith(Credits, { exact: true })
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type Media = typeof Media.Type

const SeedMedia = Schema.Struct({
  count: NonNegativeInt,
  credits: Credits,
  kind: OpenEnum,
  totalBytes: Credits
})

/**
 * Billing of a contract B record. `status` is `not_charged | pending | charged | charge_failed |
 * refunded` (open). `plannedCredits` is the approved maximum; `chargedCredits` what was settled.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Billing = Schema.Struct({
  status: OpenEnum,
  charged: Schema.Boolean,
  plannedCredits: Credits,
  chargedCredits: Credits
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type Billing = typeof Billing.Type

/**
 * A JSON object of unknown shape (never an array).
 *
 * @since 0.1.0
 * @category schemas
 */
export const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown }).pipe(
  Schema.filter((u) => !Array.isArray(u) || "expected an object, not an array")
)

/**
 * The stable fingerprint and sanitized payload of the request behind a record.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RequestFingerprint = Schema.Struct({
  hash: Schema.NullOr(bounded(128, "hash")),
  payload: Schema.NullOr(JsonObject)
})

/**
 * The connected X account that made the write.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Account = Schema.Struct({ id: Id, username: Id })

/**
 * The X resource a write targets. `type` is `tweet | user | community` (open).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Target = Schema.Struct({ type: OpenEnum, id: Id })

/**
 * What a confirmed write produced. `type` is `tweet | direct_message | media | community |
 * state_change` (open).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Result = Schema.Struct({
  type: Schema.optionalWith(OpenEnum, { exact: true }),
  id: Schema.optionalWith(Id, { exact: true }),
  state: Schema.optionalWith(OpenEnum, { exact: true })
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type Result = typeof Result.Type

/**
 * The follow-up the API asks for. `type` is `poll | retry | verify_result | fix_request` (open).
 *
 * @since 0.1.0
 * @category schemas
 */
export const NextAction = Schema.Struct({
  type: OpenEnum,
  url: Schema.optionalWith(Url, { exact: true }),
  afterMs: Schema.optionalWith(NonNegativeInt, { exact: true }),
  requiresNewIdempotencyKey: Schema.optionalWith(Schema.Boolean, { exact: true })
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type NextAction = typeof NextAction.Type

// ---------------------------------------------------------------------------------------------
// the two records
// ---------------------------------------------------------------------------------------------

const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** Fields both contracts share; the optional ones are optional in both. */
const commonFields = {
  writeActionId: WriteActionId,
  action: OpenEnum,
  status: OpenEnum,
  charged: Schema.Boolean,
  chargedCredits: Credits,
  sendDispatched: Schema.Boolean,
  retryable: Schema.Boolean,
  tweetId: optional(Id),
  messageId: optional(Id),
  resultId: optional(Id),
  confirmationAttempts: optional(NonNegativeInt),
  sendDispatchedAt: optional(Timestamp),
  confirmationCheckedAt: optional(Timestamp),
  confirmedAt: optional(Timestamp),
  message: optional(Text),
  error: optional(OpenEnum)
}

/**
 * Contract A, the seed page's record.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SeedWriteAction = Schema.Struct({
  ...commonFields,
  media: SeedMedia,
  createdAt: Timestamp,
  targetId: optional(Schema.NullOr(Id)),
  confirmationSource: optional(Schema.NullOr(OpenEnum))
}).annotations({ identifier: "SeedWriteAction" })

/**
 * @since 0.1.0
 * @category schemas
 */
export interface SeedWriteAction extends Schema.Schema.Type<typeof SeedWriteAction> {}

/**
 * Contract B, the live API's `XWriteAction`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const XWriteAction = Schema.Struct({
  object: Schema.Literal("x_write_action"),
  id: WriteActionId,
  ...commonFields,
  terminal: Schema.Boolean,
  safeToRetry: Schema.Boolean,
  statusUrl: Url,
  pollAfterMs: Schema.NullOr(NonNegativeInt),
  billing: Billing,
  request: RequestFingerprint,
  account: Schema.NullOr(Account),
  target: Schema.NullOr(Target),
  targetId: Schema.NullOr(Id),
  result: Schema.NullOr(Result),
  nextAction: Schema.NullOr(NextAction),
  success: Schema.Boolean,
  requestHash: optional(bounded(128, "hash")),
  requestId: optional(Id),
  idempotent: optional(Schema.Boolean),
  createdAt: optional(Timestamp),
  updatedAt: optional(Timestamp),
  completedAt: optional(Timestamp),
  expiresAt: optional(Timestamp),
  mediaId: optional(Id),
  mediaUrl: optional(Url),
  communityId: optional(Id),
  communityName: optional(Text),
  media: optional(Media),
  details: optional(JsonObject)
}).annotations({ identifier: "XWriteAction" })

/**
 * @since 0.1.0
 * @category schemas
 */
export interface XWriteAction extends Schema.Schema.Type<typeof XWriteAction> {}

/**
 * A status record of either contract. Narrow with {@link isLive}.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const record = Schema.decodeUnknownSync(WriteAction.WriteAction)({
 *   writeActionId: "42", action: "create_tweet", status: "pending_confirmation",
 *   charged: false, chargedCredits: "0", sendDispatched: true, retryable: false,
 *   media: { count: 0, credits: "0", kind: "none", totalBytes: "0" },
 *   createdAt: "2026-05-08T20:00:00.000Z"
 * })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const WriteAction: Schema.Schema<
  WriteAction,
  Schema.Schema.Encoded<typeof XWriteAction> | Schema.Schema.Encoded<typeof SeedWriteAction>
> = Schema.Union(XWriteAction, SeedWriteAction)

/**
 * @since 0.1.0
 * @category schemas
 */
export type WriteAction = XWriteAction | SeedWriteAction

/**
 * Whether the record is a contract B (`XWriteAction`) record.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isLive = (record: WriteAction): record is XWriteAction => "object" in record

// ---------------------------------------------------------------------------------------------
// observation
// ---------------------------------------------------------------------------------------------

/**
 * One answer to a status read (or a write): the record, and what the HTTP answer said around it.
 *
 * - `httpStatus`: 200 (terminal) or 202 (active) for reads; a write's answer may also be 402 or
 *   503 with a record.
 * - `retryAfter`: the `Retry-After` header, clamped to [0 s, 24 h].
 * - `location`: the `Location` header (relative, origin-based).
 * - `requestId`: the `X-Request-Id` header.
 * - `receivedAt`: when the answer was received, in UTC milliseconds from effect's `Clock`.
 *
 * @since 0.1.0
 * @category observation
 */
export const Observation = Schema.Struct({
  record: Schema.typeSchema(WriteAction),
  httpStatus: Schema.Number,
  retryAfter: Schema.OptionFromSelf(Schema.DurationFromSelf),
  location: Schema.OptionFromSelf(Schema.String),
  requestId: Schema.OptionFromSelf(Schema.String),
  receivedAt: Schema.Number
})

/**
 * @since 0.1.0
 * @category observation
 */
export interface Observation extends Schema.Schema.Type<typeof Observation> {}

// ---------------------------------------------------------------------------------------------
// decoding
// ---------------------------------------------------------------------------------------------

/**
 * Why a body is not a record: the path of the first bad field (`$` for the body itself, then
 * `$.billing.chargedCredits` and so on) and what is wrong with it.
 *
 * @since 0.1.0
 * @category decoding
 */
export class DecodeFailure extends Data.TaggedClass("DecodeFailure")<{
  readonly fieldPath: string
  readonly reason: string
}> {}

const decodeLive = Schema.decodeUnknownEither(XWriteAction, { onExcessProperty: "ignore" })
const decodeSeed = Schema.decodeUnknownEither(SeedWriteAction, { onExcessProperty: "ignore" })

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (acc, key) =>
      typeof key === "number"
        ? `${acc}[${key}]`
        : /^[A-Za-z_$][\w$]*$/.test(String(key))
          ? `${acc}.${String(key)}`
          : `${acc}[${JSON.stringify(String(key))}]`,
    "$"
  )

/**
 * Turns a schema parse error into a {@link DecodeFailure} naming the first bad field.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeFailure = (error: ParseResult.ParseError): DecodeFailure => {
  const [first] = ParseResult.ArrayFormatter.formatErrorSync(error)
  if (first === undefined) return new DecodeFailure({ fieldPath: "$", reason: "invalid body" })
  return new DecodeFailure({ fieldPath: formatPath(first.path), reason: shorten(first.message, 200) })
}

const shorten = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max)}…`)

/**
 * Decodes a parsed JSON body into a record of either contract. A body whose `object` is
 * `"x_write_action"` must be a contract B record; any other object must be a contract A record.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (body: unknown): Either.Either<WriteAction, DecodeFailure> => {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return Either.left(
      new DecodeFailure({
        fieldPath: "$",
        reason: `expected a JSON object, got ${body === null ? "null" : Array.isArray(body) ? "an array" : typeof body}`
      })
    )
  }
  const result: Either.Either<WriteAction, ParseResult.ParseError> =
    "object" in body && body.object === "x_write_action" ? decodeLive(body) : decodeSeed(body)
  return Either.mapLeft(result, decodeFailure)
}

// ---------------------------------------------------------------------------------------------
// reading a record
// ---------------------------------------------------------------------------------------------

/**
 * Whether the record is terminal. The `terminal` flag decides when present; otherwise
 * `success`, `failed` and `expired` are terminal and every other status is pending.
 *
 * @since 0.1.0
 * @category getters
 */
export const isTerminal = (record: WriteAction): boolean =>
  isLive(record)
    ? record.terminal
    : record.status === "success" || record.status === "failed" || record.status === "expired"

/**
 * The id of what the write produced: `result.id`, then `tweetId`, `messageId`, `mediaId`,
 * `communityId`, `resultId`.
 *
 * @since 0.1.0
 * @category getters
 */
export const resultId = (record: WriteAction): Option.Option<string> => {
  if (isLive(record)) {
    return Option.fromNullable(
      record.result?.id ?? record.tweetId ?? record.messageId ?? record.mediaId ?? record.communityId ?? record.resultId
    )
  }
  return Option.fromNullable(record.tweetId ?? record.messageId ?? record.resultId)
}

/**
 * The type of what the write produced (`tweet`, `direct_message`, …), from `result.type` or,
 * failing that, from which compatibility field carries the id.
 *
 * @since 0.1.0
 * @category getters
 */
export const resultType = (record: WriteAction): Option.Option<string> => {
  if (isLive(record) && record.result?.type !== undefined) return Option.some(record.result.type)
  if (record.tweetId !== undefined) return Option.some("tweet")
  if (record.messageId !== undefined) return Option.some("direct_message")
  if (isLive(record)) {
    if (record.mediaId !== undefined) return Option.some("media")
    if (record.communityId !== undefined) return Option.some("community")
  }
  return Option.none()
}

/**
 * The target id (`targetId`, then `target.id`).
 *
 * @since 0.1.0
 * @category getters
 */
export const targetId = (record: WriteAction): Option.Option<string> =>
  Option.fromNullable(record.targetId ?? (isLive(record) ? record.target?.id : undefined))

/**
 * The record's media summary, when it has one.
 *
 * @since 0.1.0
 * @category getters
 */
export const media = (record: WriteAction): Option.Option<Media> => Option.fromNullable(record.media)

/**
 * `safeToRetry` (contract B). Contract A records have no such flag; they are never safe to
 * retry automatically.
 *
 * @since 0.1.0
 * @category getters
 */
export const safeToRetry = (record: WriteAction): boolean => (isLive(record) ? record.safeToRetry : false)

/**
 * The next action the API asks for (contract B), when there is one.
 *
 * @since 0.1.0
 * @category getters
 */
export const nextAction = (record: WriteAction): Option.Option<NextAction> =>
  isLive(record) ? Option.fromNullable(record.nextAction) : Option.none()

/**
 * `pollAfterMs` (contract B), when present.
 *
 * @since 0.1.0
 * @category getters
 */
export const pollAfterMs = (record: WriteAction): Option.Option<number> =>
  isLive(record) ? Option.fromNullable(record.pollAfterMs) : Option.none()

/**
 * `expiresAt` as UTC milliseconds (contract B), when present and a valid date.
 *
 * @since 0.1.0
 * @category getters
 */
export const expiresAt = (record: WriteAction): Option.Option<number> => {
  if (!isLive(record) || record.expiresAt === undefined) return Option.none()
  const ms = Date.parse(record.expiresAt)
  return Number.isFinite(ms) ? Option.some(ms) : Option.none()
}

/**
 * The relative path to poll: `statusUrl` when the record has one, otherwise
 * `/api/v1/x/write-actions/{id}`.
 *
 * @since 0.1.0
 * @category getters
 */
export const pollEndpoint = (record: WriteAction): string =>
  isLive(record) && record.statusUrl !== ""
    ? record.statusUrl
    : `/api/v1/x/write-actions/${encodeURIComponent(record.writeActionId)}`

/**
 * The server's pacing hint in an observation, in milliseconds, in priority order: the
 * `Retry-After` header, then `nextAction.afterMs` when the next action is `poll`, then
 * `pollAfterMs`.
 *
 * @since 0.1.0
 * @category observation
 */
export const serverHint = (observation: Observation): Option.Option<number> => {
  if (Option.isSome(observation.retryAfter)) return Option.some(Duration.toMillis(observation.retryAfter.value))
  const next = nextAction(observation.record)
  if (Option.isSome(next) && next.value.type === "poll" && next.value.afterMs !== undefined) {
    return Option.some(next.value.afterMs)
  }
  return pollAfterMs(observation.record)
}

// ---------------------------------------------------------------------------------------------
// outcome
// ---------------------------------------------------------------------------------------------

/**
 * What a record means for the caller.
 *
 * | record | outcome |
 * | --- | --- |
 * | `terminal: false` (any status) | `Pending` |
 * | `terminal: true`, status `success` (or an unknown status with `success: true`) | `Succeeded` |
 * | `terminal: true`, status `expired` | `Expired` |
 * | `terminal: true`, any other status | `Failed` |
 * | no `terminal` (contract A): `success` / `failed` / `expired` | `Succeeded` / `Failed` / `Expired` |
 * | no `terminal`, any other status | `Pending` |
 *
 * `Expired` means the write may be on X: verify it there and never resend it automatically.
 *
 * @since 0.1.0
 * @category outcome
 */
export type Outcome = Data.TaggedEnum<{
  Succeeded: {
    readonly record: WriteAction
    readonly resultId: Option.Option<string>
    readonly resultType: Option.Option<string>
    readonly chargedCredits: Credits
    readonly billing: Option.Option<Billing>
  }
  Pending: {
    readonly record: WriteAction
    readonly status: string
    readonly pollAfterMs: Option.Option<number>
    readonly nextAction: Option.Option<NextAction>
  }
  Failed: {
    readonly record: WriteAction
    readonly message: Option.Option<string>
    readonly errorCode: Option.Option<string>
    readonly safeToRetry: boolean
    readonly nextAction: Option.Option<NextAction>
  }
  Expired: {
    readonly record: WriteAction
    readonly message: Option.Option<string>
    readonly errorCode: Option.Option<string>
  }
}>

/**
 * Constructors and matchers of {@link Outcome}.
 *
 * @since 0.1.0
 * @category outcome
 */
export const Outcome = Data.taggedEnum<Outcome>()

/**
 * @since 0.1.0
 * @category outcome
 */
export type Succeeded = Data.TaggedEnum.Value<Outcome, "Succeeded">
/**
 * @since 0.1.0
 * @category outcome
 */
export type Pending = Data.TaggedEnum.Value<Outcome, "Pending">
/**
 * @since 0.1.0
 * @category outcome
 */
export type Failed = Data.TaggedEnum.Value<Outcome, "Failed">
/**
 * @since 0.1.0
 * @category outcome
 */
export type Expired = Data.TaggedEnum.Value<Outcome, "Expired">

const succeeded = (record: WriteAction): Outcome =>
  Outcome.Succeeded({
    record,
    resultId: resultId(record),
    resultType: resultType(record),
    chargedCredits: record.chargedCredits,
    billing: isLive(record) ? Option.some(record.billing) : Option.none()
  })

const failed = (record: WriteAction): Outcome =>
  Outcome.Failed({
    record,
    message: Option.fromNullable(record.message),
    errorCode: Option.fromNullable(record.error),
    safeToRetry: safeToRetry(record),
    nextAction: nextAction(record)
  })

/**
 * The outcome of a record; see {@link Outcome} for the mapping.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * declare const record: WriteAction.WriteAction
 * const text = WriteAction.Outcome.$match(WriteAction.outcome(record), {
 *   Succeeded: (o) => `done: ${o.resultId}`,
 *   Pending: (o) => `still ${o.status}`,
 *   Failed: (o) => `failed, safe to retry: ${o.safeToRetry}`,
 *   Expired: () => "expired: verify on X"
 * })
 * ```
 *
 * @since 0.1.0
 * @category outcome
 */
export const outcome = (record: WriteAction): Outcome => {
  if (!isTerminal(record)) {
    return Outcome.Pending({
      record,
      status: record.status,
      pollAfterMs: pollAfterMs(record),
      nextAction: nextAction(record)
    })
  }
  switch (record.status) {
    case "success":
      return succeeded(record)
    case "expired":
      return Outcome.Expired({
        record,
        message: Option.fromNullable(record.message),
        errorCode: Option.fromNullable(record.error)
      })
    case "failed":
      return failed(record)
    default:
      return isLive(record) && record.success ? succeeded(record) : failed(record)
  }
}

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
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * // A status this client does not know yet is kept as it is.
 * const status = Schema.decodeUnknownSync(WriteAction.OpenEnum)("queued_for_review")
 * ```
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
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const fine = WriteAction.writeActionIdProblem("42") // undefined
 * const problem = WriteAction.writeActionIdProblem("42/like") // says why the "/" is refused
 * ```
 *
 * @since 0.1.0
 * @category ids
 */
export const writeActionIdProblem: (input: string) => string | undefined = segmentProblem

/**
 * A write action id: 1 to 128 characters, no `/ ? #`, no control characters, no surrounding
 * whitespace, not `.` or `..`, no lone UTF-16 surrogate. It is opaque (the API's examples are
 * digits) and sent as one encoded path segment.
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
 * A checked write action id: a string branded `WriteActionId`.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const id: WriteAction.WriteActionId = WriteAction.WriteActionId.make("42")
 * ```
 *
 * @since 0.1.0
 * @category ids
 */
export type WriteActionId = typeof WriteActionId.Type

/**
 * An exact, non-negative amount as a digit string (`"32"`). Credits and byte counts are never
 * floats; convert with `BigInt(amount)` when you need arithmetic.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const planned = WriteAction.Credits.make("30")
 * const charged = WriteAction.Credits.make("32")
 * const total = BigInt(planned) + BigInt(charged) // 62n, exact
 * ```
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
 * An exact, non-negative amount: a digit string branded `Credits`.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const add = (a: WriteAction.Credits, b: WriteAction.Credits): WriteAction.Credits =>
 *   WriteAction.Credits.make(String(BigInt(a) + BigInt(b)))
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export type Credits = typeof Credits.Type

/**
 * The zero amount.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const isFree = (credits: WriteAction.Credits) => credits === WriteAction.zeroCredits
 * ```
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
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const isKnownStatus = (status: string) => WriteAction.knownStatuses.some((known) => known === status)
 * ```
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
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const isKnownAction = (action: string) => WriteAction.knownActions.some((known) => known === action)
 * ```
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
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const media = Schema.decodeUnknownSync(WriteAction.Media)({
 *   count: 1, credits: "10", kind: "image", totalBytes: "48213"
 * })
 * ```
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
 * A decoded media summary; every field is optional.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const mediaCount = (media: WriteAction.Media): number => media.count ?? 0
 * ```
 *
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
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const billing = Schema.decodeUnknownSync(WriteAction.Billing)({
 *   status: "charged", charged: true, plannedCredits: "30", chargedCredits: "30"
 * })
 * ```
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
 * A decoded contract B billing object.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const describe = (billing: WriteAction.Billing): string =>
 *   billing.charged ? `charged ${billing.chargedCredits} credits` : `not charged (${billing.status})`
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export type Billing = typeof Billing.Type

/**
 * A JSON object of unknown shape (never an array).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const isJsonObject = Schema.is(WriteAction.JsonObject)
 * isJsonObject({ campaign: "launch" }) // true
 * isJsonObject(["launch"]) // false: an array is not an object here
 * ```
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
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const fingerprint = Schema.decodeUnknownSync(WriteAction.RequestFingerprint)({
 *   hash: "sha256:9f2c41", payload: { text: "Hello" }
 * })
 * ```
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
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const account = Schema.decodeUnknownSync(WriteAction.Account)({ id: "1500000000000000000", username: "acme" })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Account = Schema.Struct({ id: Id, username: Id })

/**
 * The X resource a write targets. `type` is `tweet | user | community` (open).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const target = Schema.decodeUnknownSync(WriteAction.Target)({ type: "tweet", id: "1900000000000000001" })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Target = Schema.Struct({ type: OpenEnum, id: Id })

/**
 * What a confirmed write produced. `type` is `tweet | direct_message | media | community |
 * state_change` (open).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const result = Schema.decodeUnknownSync(WriteAction.Result)({ type: "tweet", id: "1900000000000000002" })
 * ```
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
 * A decoded `result`: what a confirmed write produced.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const tweetId = (result: WriteAction.Result): string | undefined =>
 *   result.type === "tweet" ? result.id : undefined
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export type Result = typeof Result.Type

/**
 * The follow-up the API asks for. `type` is `poll | retry | verify_result | fix_request` (open).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const next = Schema.decodeUnknownSync(WriteAction.NextAction)({ type: "poll", afterMs: 2000 })
 * ```
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
 * A decoded `nextAction`: the follow-up the API asks for.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const needsNewKey = (next: WriteAction.NextAction): boolean => next.requiresNewIdempotencyKey === true
 * ```
 *
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
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const record = Schema.decodeUnknownSync(WriteAction.SeedWriteAction)({
 *   writeActionId: "42", action: "create_tweet", status: "success", charged: true,
 *   chargedCredits: "30", sendDispatched: true, retryable: false, tweetId: "1900000000000000001",
 *   media: { count: 0, credits: "0", kind: "none", totalBytes: "0" },
 *   createdAt: "2026-05-08T20:00:00.000Z"
 * })
 * ```
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
 * A decoded contract A record.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const publishedTweet = (record: WriteAction.SeedWriteAction): string | null => record.tweetId ?? null
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export interface SeedWriteAction extends Schema.Schema.Type<typeof SeedWriteAction> {}

/**
 * Contract B, the live API's `XWriteAction`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * // Unknown fields are ignored, as the client does.
 * const decodeLive = Schema.decodeUnknownEither(WriteAction.XWriteAction, { onExcessProperty: "ignore" })
 * ```
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
 * A decoded contract B record.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const settled = (record: WriteAction.XWriteAction): string =>
 *   `${record.billing.chargedCredits} of ${record.billing.plannedCredits} credits`
 * ```
 *
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
 * A decoded status record of either contract.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const describe = (record: WriteAction.WriteAction): string =>
 *   `${record.action} ${record.writeActionId}: ${record.status}`
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export type WriteAction = XWriteAction | SeedWriteAction

/**
 * Whether the record is a contract B (`XWriteAction`) record.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const statusUrl = (record: WriteAction.WriteAction): string | undefined =>
 *   WriteAction.isLive(record) ? record.statusUrl : undefined
 * ```
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
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * // Observations hold Options and Durations, so the schema checks values already in memory.
 * const isObservation = Schema.is(WriteAction.Observation)
 * ```
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
 * One answer to a status read, as a value: the record plus the HTTP details around it.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const observe = (record: WriteAction.WriteAction, receivedAt: number): WriteAction.Observation => ({
 *   record, httpStatus: 202, retryAfter: Option.none(), location: Option.none(),
 *   requestId: Option.none(), receivedAt
 * })
 * ```
 *
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
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const failure = new WriteAction.DecodeFailure({
 *   fieldPath: "$.billing.chargedCredits",
 *   reason: "expected a digit string"
 * })
 * const text = `${failure.fieldPath}: ${failure.reason}`
 * ```
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
 * @example
 * ```ts
 * import { Either, Schema } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const billing = Schema.decodeUnknownEither(WriteAction.Billing)({ status: "charged" })
 * const failure = Either.mapLeft(billing, WriteAction.decodeFailure) // names the first missing field
 * ```
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
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const message = Either.match(WriteAction.decode({ writeActionId: "42" }), {
 *   onLeft: (failure) => `bad body at ${failure.fieldPath}: ${failure.reason}`,
 *   onRight: (record) => `status ${record.status}`
 * })
 * ```
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
  // The schema builds the record key by key, which leaves a live record (some twenty keys) in
  // V8's slow dictionary mode; a spread copy is a fast object at a third of the size, and pollers
  // keep thousands of these.
  return Either.match(result, {
    onLeft: (error) => Either.left(decodeFailure(error)),
    onRight: (record) => Either.right({ ...record })
  })
}

// ---------------------------------------------------------------------------------------------
// reading a record
// ---------------------------------------------------------------------------------------------

/**
 * Whether the record is terminal. The `terminal` flag decides when present; otherwise
 * `success`, `failed` and `expired` are terminal and every other status is pending.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const shouldPollAgain = (record: WriteAction.WriteAction): boolean => !WriteAction.isTerminal(record)
 * ```
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
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const tweetUrl = (record: WriteAction.WriteAction) =>
 *   Option.map(WriteAction.resultId(record), (id) => `https://x.com/i/status/${id}`)
 * ```
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
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const producedTweet = (record: WriteAction.WriteAction): boolean =>
 *   Option.contains(WriteAction.resultType(record), "tweet")
 * ```
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
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const target = (record: WriteAction.WriteAction): string =>
 *   Option.getOrElse(WriteAction.targetId(record), () => "no target")
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const targetId = (record: WriteAction): Option.Option<string> =>
  Option.fromNullable(record.targetId ?? (isLive(record) ? record.target?.id : undefined))

/**
 * The record's media summary, when it has one.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const mediaCount = (record: WriteAction.WriteAction): number =>
 *   Option.match(WriteAction.media(record), { onNone: () => 0, onSome: (m) => m.count ?? 0 })
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const media = (record: WriteAction): Option.Option<Media> => Option.fromNullable(record.media)

/**
 * `safeToRetry` (contract B). Contract A records have no such flag; they are never safe to
 * retry automatically.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const mayUseNewKey = (record: WriteAction.WriteAction): boolean =>
 *   WriteAction.isTerminal(record) && WriteAction.safeToRetry(record)
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const safeToRetry = (record: WriteAction): boolean => (isLive(record) ? record.safeToRetry : false)

/**
 * The next action the API asks for (contract B), when there is one.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const mustFixRequest = (record: WriteAction.WriteAction): boolean =>
 *   Option.exists(WriteAction.nextAction(record), (next) => next.type === "fix_request")
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const nextAction = (record: WriteAction): Option.Option<NextAction> =>
  isLive(record) ? Option.fromNullable(record.nextAction) : Option.none()

/**
 * `pollAfterMs` (contract B), when present.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const delayMs = (record: WriteAction.WriteAction): number =>
 *   Option.getOrElse(WriteAction.pollAfterMs(record), () => 1000)
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const pollAfterMs = (record: WriteAction): Option.Option<number> =>
  isLive(record) ? Option.fromNullable(record.pollAfterMs) : Option.none()

/**
 * `expiresAt` as UTC milliseconds (contract B), when present and a valid date.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const hasExpired = (record: WriteAction.WriteAction, now: number): boolean =>
 *   Option.exists(WriteAction.expiresAt(record), (at) => at <= now)
 * ```
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
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const statusUrl = (origin: string, record: WriteAction.WriteAction): string =>
 *   new URL(WriteAction.pollEndpoint(record), origin).href // https://xquik.com/api/v1/x/write-actions/42
 * ```
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
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const waitMs = (observation: WriteAction.Observation): number =>
 *   Option.getOrElse(WriteAction.serverHint(observation), () => 1000)
 * ```
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
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const isSettled = (outcome: WriteAction.Outcome): boolean => outcome._tag !== "Pending"
 * ```
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
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const isSucceeded = WriteAction.Outcome.$is("Succeeded")
 * const resultOf = (outcome: WriteAction.Outcome): Option.Option<string> =>
 *   isSucceeded(outcome) ? outcome.resultId : Option.none()
 * ```
 *
 * @since 0.1.0
 * @category outcome
 */
export const Outcome = Data.taggedEnum<Outcome>()

/**
 * The `Succeeded` case of {@link Outcome}: the write is confirmed, with its result and charge.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const link = (succeeded: WriteAction.Succeeded) =>
 *   Option.map(succeeded.resultId, (id) => `https://x.com/i/status/${id}`)
 * ```
 *
 * @since 0.1.0
 * @category outcome
 */
export type Succeeded = Data.TaggedEnum.Value<Outcome, "Succeeded">
/**
 * The `Pending` case of {@link Outcome}: the write is not settled yet; poll again.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const progress = (pending: WriteAction.Pending): string =>
 *   `${pending.status}, next poll in ${Option.getOrElse(pending.pollAfterMs, () => 1000)} ms`
 * ```
 *
 * @since 0.1.0
 * @category outcome
 */
export type Pending = Data.TaggedEnum.Value<Outcome, "Pending">
/**
 * The `Failed` case of {@link Outcome}: the write ended failed; `safeToRetry` says whether a new key may be used.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { WriteAction } from "xquik-write-queue"
 *
 * const reason = (failed: WriteAction.Failed): string =>
 *   `${Option.getOrElse(failed.errorCode, () => "failed")}${failed.safeToRetry ? " (safe to retry)" : ""}`
 * ```
 *
 * @since 0.1.0
 * @category outcome
 */
export type Failed = Data.TaggedEnum.Value<Outcome, "Failed">
/**
 * The `Expired` case of {@link Outcome}: the write may be on X; verify it there, never resend it.
 *
 * @example
 * ```ts
 * import { WriteAction } from "xquik-write-queue"
 *
 * const note = (expired: WriteAction.Expired): string =>
 *   `write action ${expired.record.writeActionId} expired: verify it on X`
 * ```
 *
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
 * const describe = (record: WriteAction.WriteAction): string =>
 *   WriteAction.Outcome.$match(WriteAction.outcome(record), {
 *     Succeeded: (o) => `done: ${o.resultId}`,
 *     Pending: (o) => `still ${o.status}`,
 *     Failed: (o) => `failed, safe to retry: ${o.safeToRetry}`,
 *     Expired: () => "expired: verify on X"
 *   })
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

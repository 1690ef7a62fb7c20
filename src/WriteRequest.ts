/**
 * The writes this library sends (tweets, replies, DMs, likes, follows, …) and the
 * `IdempotencyKey` each is sent with.
 *
 * A request is plain, serializable data: the outbox stores it in the queue row before any network
 * call, and replays exactly the same bytes with the same key when a send may have arrived.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { hasControlCharacter, segmentProblem } from "./internal/segment.js"
import { InvalidRequest } from "./XquikError.js"

// ---------------------------------------------------------------------------------------------
// idempotency key
// ---------------------------------------------------------------------------------------------

const IdempotencyKeySchema = Schema.String.pipe(
  Schema.pattern(/^[!-~]{1,255}$/, { message: () => "expected 1 to 255 printable ASCII characters without spaces" }),
  Schema.brand("IdempotencyKey")
).annotations({ identifier: "IdempotencyKey" })

/**
 * The `Idempotency-Key` of a write: 1 to 255 printable ASCII characters. One key stands for one
 * intended write; replaying it with the same request returns the original record.
 *
 * `IdempotencyKey.make()` returns a fresh UUID v4; `IdempotencyKey.make(text)` checks and brands
 * a key of your own (and throws on a bad one; decode with the schema to get an error instead).
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const key = WriteRequest.IdempotencyKey.make()
 * ```
 *
 * @since 0.1.0
 * @category idempotency
 */
export const IdempotencyKey: typeof IdempotencyKeySchema & {
  readonly make: (value?: string) => IdempotencyKey
} = Object.assign(IdempotencyKeySchema.annotations({}), {
  make: (value?: string): IdempotencyKey =>
    value === undefined
      ? IdempotencyKeySchema.make(globalThis.crypto.randomUUID(), { disableValidation: true })
      : IdempotencyKeySchema.make(value)
})

/**
 * A checked `Idempotency-Key`: a string branded `IdempotencyKey`.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const keyFor = (orderId: string): WriteRequest.IdempotencyKey =>
 *   WriteRequest.IdempotencyKey.make(`order-${orderId}`)
 * ```
 *
 * @since 0.1.0
 * @category idempotency
 */
export type IdempotencyKey = typeof IdempotencyKeySchema.Type

// ---------------------------------------------------------------------------------------------
// field schemas
// ---------------------------------------------------------------------------------------------

const noControl = (what: string) =>
  Schema.filter<Schema.Schema<string>>((s) => !hasControlCharacter(s) || `${what} contains a control character`)

/**
 * The X account that makes the write: `@username` or an account id.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const account = Schema.decodeUnknownSync(WriteRequest.AccountRef)("@acme")
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccountRef = Schema.String.pipe(
  Schema.minLength(1, { message: () => "account is empty" }),
  Schema.maxLength(256, { message: () => "account is longer than 256 characters" }),
  noControl("account")
)

/**
 * The id of an X tweet or user in a write's path: one path segment, 1 to 128 characters, no
 * `/ ? #`, no control characters.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const isResourceId = Schema.is(WriteRequest.ResourceId)
 * isResourceId("1900000000000000001") // true
 * isResourceId("1900000000000000001/like") // false
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResourceId = Schema.String.pipe(
  Schema.filter((s) => {
    const problem = segmentProblem(s)
    return problem === undefined || `id: ${problem}`
  })
)

const TweetText = Schema.String.pipe(
  Schema.maxLength(25_000, { message: () => "text is longer than 25,000 characters" })
)
const DmText = Schema.String.pipe(
  Schema.minLength(1, { message: () => "a DM needs text" }),
  Schema.maxLength(10_000, { message: () => "text is longer than 10,000 characters" })
)
const MediaUrl = Schema.String.pipe(
  Schema.maxLength(4096),
  Schema.filter((s) => {
    try {
      const url = new URL(s)
      return url.protocol === "https:" || url.protocol === "http:" || "media must be an http(s) URL"
    } catch {
      return "media must be a URL"
    }
  })
)

const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

// ---------------------------------------------------------------------------------------------
// the requests
// ---------------------------------------------------------------------------------------------

/**
 * `POST /x/tweets`: a tweet, a reply (`replyToTweetId`), a note tweet (`isNoteTweet`), a
 * community post (`communityId`), with up to 4 media URLs. Needs text, media, or both.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = Schema.decodeUnknownSync(WriteRequest.CreateTweet)({
 *   _tag: "CreateTweet", account: "@acme", text: "Thanks!", replyToTweetId: "1900000000000000001"
 * })
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export const CreateTweet = Schema.TaggedStruct("CreateTweet", {
  account: AccountRef,
  text: optional(TweetText),
  replyToTweetId: optional(ResourceId),
  communityId: optional(ResourceId),
  isNoteTweet: optional(Schema.Boolean),
  media: optional(Schema.Array(MediaUrl).pipe(Schema.maxItems(4, { message: () => "at most 4 media URLs" })))
}).pipe(
  Schema.filter((r) =>
    (r.text !== undefined && r.text.length > 0) || (r.media !== undefined && r.media.length > 0)
      ? true
      : { path: ["text"], message: "a tweet needs text, media, or both" }
  )
)

/**
 * A decoded `POST /x/tweets` request.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const isReply = (request: WriteRequest.CreateTweet): boolean => request.replyToTweetId !== undefined
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export interface CreateTweet extends Schema.Schema.Type<typeof CreateTweet> {}

const tweetTarget = <Tag extends string>(tag: Tag) =>
  Schema.TaggedStruct(tag, { account: AccountRef, tweetId: ResourceId })
const userTarget = <Tag extends string>(tag: Tag) =>
  Schema.TaggedStruct(tag, { account: AccountRef, userId: ResourceId })

/**
 * `DELETE /x/tweets/{id}`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = Schema.decodeUnknownSync(WriteRequest.DeleteTweet)({
 *   _tag: "DeleteTweet", account: "@acme", tweetId: "1900000000000000001"
 * })
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export const DeleteTweet = tweetTarget("DeleteTweet")
/**
 * `POST /x/tweets/{id}/like`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = Schema.decodeUnknownSync(WriteRequest.LikeTweet)({
 *   _tag: "LikeTweet", account: "@acme", tweetId: "1900000000000000001"
 * })
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export const LikeTweet = tweetTarget("LikeTweet")
/**
 * `DELETE /x/tweets/{id}/like`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = Schema.decodeUnknownSync(WriteRequest.UnlikeTweet)({
 *   _tag: "UnlikeTweet", account: "@acme", tweetId: "1900000000000000001"
 * })
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export const UnlikeTweet = tweetTarget("UnlikeTweet")
/**
 * `POST /x/tweets/{id}/retweet`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = Schema.decodeUnknownSync(WriteRequest.Retweet)({
 *   _tag: "Retweet", account: "@acme", tweetId: "1900000000000000001"
 * })
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export const Retweet = tweetTarget("Retweet")
/**
 * `DELETE /x/tweets/{id}/retweet`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = Schema.decodeUnknownSync(WriteRequest.Unretweet)({
 *   _tag: "Unretweet", account: "@acme", tweetId: "1900000000000000001"
 * })
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export const Unretweet = tweetTarget("Unretweet")
/**
 * `POST /x/users/{id}/follow`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = Schema.decodeUnknownSync(WriteRequest.FollowUser)({
 *   _tag: "FollowUser", account: "@acme", userId: "44196397"
 * })
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export const FollowUser = userTarget("FollowUser")
/**
 * `DELETE /x/users/{id}/follow`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = Schema.decodeUnknownSync(WriteRequest.UnfollowUser)({
 *   _tag: "UnfollowUser", account: "@acme", userId: "44196397"
 * })
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export const UnfollowUser = userTarget("UnfollowUser")
/**
 * `POST /x/users/{id}/remove-follower`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = Schema.decodeUnknownSync(WriteRequest.RemoveFollower)({
 *   _tag: "RemoveFollower", account: "@acme", userId: "44196397"
 * })
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export const RemoveFollower = userTarget("RemoveFollower")

/**
 * `POST /x/dm/{userId}`: a direct message, with at most one uploaded media id.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = Schema.decodeUnknownSync(WriteRequest.SendDm)({
 *   _tag: "SendDm", account: "@acme", userId: "44196397", text: "Thanks for following!"
 * })
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export const SendDm = Schema.TaggedStruct("SendDm", {
  account: AccountRef,
  userId: ResourceId,
  text: DmText,
  mediaId: optional(ResourceId)
})

/**
 * Any write this library sends.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * // e.g. a payload read back from storage
 * const stored: unknown = { _tag: "LikeTweet", account: "@acme", tweetId: "1900000000000000001" }
 * const request = Schema.decodeUnknownSync(WriteRequest.WriteRequest)(stored)
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export const WriteRequest = Schema.Union(
  CreateTweet,
  DeleteTweet,
  LikeTweet,
  UnlikeTweet,
  Retweet,
  Unretweet,
  FollowUser,
  UnfollowUser,
  RemoveFollower,
  SendDm
)

/**
 * Any write this library sends, as plain data.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const batch: ReadonlyArray<WriteRequest.WriteRequest> = [
 *   WriteRequest.tweet({ account: "@acme", text: "We are live!" }),
 *   WriteRequest.like("@acme", "1900000000000000001")
 * ]
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export type WriteRequest = typeof WriteRequest.Type

// ---------------------------------------------------------------------------------------------
// constructors (plain data; checked by `validate`, which `submit` and the outbox call)
// ---------------------------------------------------------------------------------------------

/**
 * A tweet.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.tweet({ account: "@acme", text: "Hello" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const tweet = (options: {
  readonly account: string
  readonly text?: string
  readonly media?: ReadonlyArray<string>
  readonly communityId?: string
}): WriteRequest => ({ _tag: "CreateTweet", ...options })

/**
 * A reply to `replyTo`.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.reply({ account: "@acme", replyTo: "1900000000000000001", text: "Thanks!" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const reply = (options: {
  readonly account: string
  readonly replyTo: string
  readonly text: string
  readonly media?: ReadonlyArray<string>
}): WriteRequest => {
  const { replyTo, ...rest } = options
  return { _tag: "CreateTweet", ...rest, replyToTweetId: replyTo }
}

/**
 * A long-form note tweet.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.noteTweet({ account: "@acme", text: "Release notes for 2.0: ..." })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const noteTweet = (options: { readonly account: string; readonly text: string }): WriteRequest => ({
  _tag: "CreateTweet",
  ...options,
  isNoteTweet: true
})

/**
 * A tweet with up to 4 public media URLs (or one MP4).
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.tweetWithMedia({
 *   account: "@acme",
 *   media: ["https://cdn.example.com/launch.png"],
 *   text: "Launch day"
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const tweetWithMedia = (options: {
  readonly account: string
  readonly media: ReadonlyArray<string>
  readonly text?: string
}): WriteRequest => ({ _tag: "CreateTweet", ...options })

/**
 * Deletes a tweet of `account`.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.deleteTweet("@acme", "1900000000000000001")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const deleteTweet = (account: string, tweetId: string): WriteRequest => ({
  _tag: "DeleteTweet",
  account,
  tweetId
})
/**
 * Likes a tweet as `account`.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.like("@acme", "1900000000000000001")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const like = (account: string, tweetId: string): WriteRequest => ({ _tag: "LikeTweet", account, tweetId })
/**
 * Removes `account`'s like from a tweet.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.unlike("@acme", "1900000000000000001")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const unlike = (account: string, tweetId: string): WriteRequest => ({ _tag: "UnlikeTweet", account, tweetId })
/**
 * Retweets a tweet as `account`.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.retweet("@acme", "1900000000000000001")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const retweet = (account: string, tweetId: string): WriteRequest => ({ _tag: "Retweet", account, tweetId })
/**
 * Undoes `account`'s retweet of a tweet.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.unretweet("@acme", "1900000000000000001")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const unretweet = (account: string, tweetId: string): WriteRequest => ({ _tag: "Unretweet", account, tweetId })
/**
 * Follows a user (by user id) as `account`.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.follow("@acme", "44196397")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const follow = (account: string, userId: string): WriteRequest => ({ _tag: "FollowUser", account, userId })
/**
 * Unfollows a user (by user id) as `account`.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.unfollow("@acme", "44196397")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const unfollow = (account: string, userId: string): WriteRequest => ({ _tag: "UnfollowUser", account, userId })
/**
 * Removes a follower (by user id) from `account`.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.removeFollower("@acme", "44196397")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const removeFollower = (account: string, userId: string): WriteRequest => ({
  _tag: "RemoveFollower",
  account,
  userId
})

/**
 * A direct message to `to` (a user id).
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.sendDm({ account: "@acme", to: "44196397", text: "Thanks for following!" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const sendDm = (options: {
  readonly account: string
  readonly to: string
  readonly text: string
  readonly mediaId?: string
}): WriteRequest => {
  const { to, ...rest } = options
  return { _tag: "SendDm", ...rest, userId: to }
}

// ---------------------------------------------------------------------------------------------
// validation and HTTP mapping
// ---------------------------------------------------------------------------------------------

const validateUnknown = Schema.decodeUnknownEither(WriteRequest, { errors: "all", onExcessProperty: "error" })

/**
 * Checks a request (or any unknown value, e.g. a stored payload) before anything is sent. A bad
 * one is an `InvalidRequest` with one field error per problem and `mayHaveDispatched: false`.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const checked = WriteRequest.validate({ _tag: "CreateTweet", account: "@acme" })
 * const problem = Either.isLeft(checked) ? checked.left.message : "ok" // a tweet needs text, media, or both
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (input: unknown): Either.Either<WriteRequest, InvalidRequest> =>
  Either.mapLeft(validateUnknown(input), (error) => {
    const fieldErrors = ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => ({
      path: issue.path.map(String).join(".") || "$",
      code: "invalid_input",
      message: issue.message
    }))
    return new InvalidRequest({
      method: "-",
      path: "-",
      status: 0,
      code: "invalid_input",
      fieldErrors,
      mayHaveDispatched: false
    })
  })

/**
 * The API action name of a request (`create_tweet`, `send_dm`, …).
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const action = WriteRequest.action(WriteRequest.like("@acme", "1900000000000000001")) // "like"
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const action = (request: WriteRequest): string => {
  switch (request._tag) {
    case "CreateTweet":
      return "create_tweet"
    case "DeleteTweet":
      return "delete_tweet"
    case "LikeTweet":
      return "like"
    case "UnlikeTweet":
      return "unlike"
    case "Retweet":
      return "retweet"
    case "Unretweet":
      return "unretweet"
    case "FollowUser":
      return "follow"
    case "UnfollowUser":
      return "unfollow"
    case "RemoveFollower":
      return "remove_follower"
    case "SendDm":
      return "send_dm"
  }
}

/**
 * The HTTP form of a request: method, path under the API base (`/x/tweets`) and JSON body.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const form: WriteRequest.HttpForm = WriteRequest.toHttp(WriteRequest.follow("@acme", "44196397"))
 * const line = `${form.method} ${form.path}` // "POST /x/users/44196397/follow"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpForm {
  readonly method: "POST" | "DELETE"
  readonly path: string
  readonly body: Readonly<Record<string, unknown>>
}

const segment = encodeURIComponent

/**
 * The method, path and body a request is sent with.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const { method, path, body } = WriteRequest.toHttp(WriteRequest.unlike("@acme", "1900000000000000001"))
 * // "DELETE", "/x/tweets/1900000000000000001/like", { account: "@acme" }
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const toHttp = (request: WriteRequest): HttpForm => {
  switch (request._tag) {
    case "CreateTweet": {
      const body: Record<string, unknown> = { account: request.account }
      if (request.text !== undefined) body.text = request.text
      if (request.replyToTweetId !== undefined) body.reply_to_tweet_id = request.replyToTweetId
      if (request.communityId !== undefined) body.community_id = request.communityId
      if (request.isNoteTweet !== undefined) body.is_note_tweet = request.isNoteTweet
      if (request.media !== undefined) body.media = request.media
      return { method: "POST", path: "/x/tweets", body }
    }
    case "DeleteTweet":
      return { method: "DELETE", path: `/x/tweets/${segment(request.tweetId)}`, body: { account: request.account } }
    case "LikeTweet":
      return { method: "POST", path: `/x/tweets/${segment(request.tweetId)}/like`, body: { account: request.account } }
    case "UnlikeTweet":
      return {
        method: "DELETE",
        path: `/x/tweets/${segment(request.tweetId)}/like`,
        body: { account: request.account }
      }
    case "Retweet":
      return {
        method: "POST",
        path: `/x/tweets/${segment(request.tweetId)}/retweet`,
        body: { account: request.account }
      }
    case "Unretweet":
      return {
        method: "DELETE",
        path: `/x/tweets/${segment(request.tweetId)}/retweet`,
        body: { account: request.account }
      }
    case "FollowUser":
      return { method: "POST", path: `/x/users/${segment(request.userId)}/follow`, body: { account: request.account } }
    case "UnfollowUser":
      return {
        method: "DELETE",
        path: `/x/users/${segment(request.userId)}/follow`,
        body: { account: request.account }
      }
    case "RemoveFollower":
      return {
        method: "POST",
        path: `/x/users/${segment(request.userId)}/remove-follower`,
        body: { account: request.account }
      }
    case "SendDm": {
      const body: Record<string, unknown> = { account: request.account, text: request.text }
      if (request.mediaId !== undefined) body.media_ids = [request.mediaId]
      return { method: "POST", path: `/x/dm/${segment(request.userId)}`, body }
    }
  }
}

/**
 * The id of what the request targets (the tweet, user or DM recipient), when it has one.
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const request = WriteRequest.reply({ account: "@acme", replyTo: "1900000000000000001", text: "Thanks!" })
 * const target = WriteRequest.targetId(request) // "1900000000000000001"
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const targetId = (request: WriteRequest): string | undefined => {
  switch (request._tag) {
    case "CreateTweet":
      return request.replyToTweetId
    case "DeleteTweet":
    case "LikeTweet":
    case "UnlikeTweet":
    case "Retweet":
    case "Unretweet":
      return request.tweetId
    case "FollowUser":
    case "UnfollowUser":
    case "RemoveFollower":
    case "SendDm":
      return request.userId
  }
}

/**
 * Whether the request is rate-limited as a DELETE (15/min) rather than as a write (30/min).
 *
 * @example
 * ```ts
 * import { WriteRequest } from "xquik-write-queue"
 *
 * const isDelete = WriteRequest.isDelete(WriteRequest.deleteTweet("@acme", "1900000000000000001")) // true
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const isDelete = (request: WriteRequest): boolean => toHttp(request).method === "DELETE"

/**
 * The Xquik API client, as a service on `@effect/platform`'s `HttpClient`.
 *
 * - `getWriteAction(id)` reads a write action's status record and returns an {@link Observation}.
 *   Reads retry transient failures on a bounded, jittered schedule and honour `Retry-After`.
 * - `getWriteActionAt(statusUrl)` follows a `statusUrl` or `Location`, but only on the
 *   configured origin and API path: the credential never goes anywhere else.
 * - `submit(request, key)` sends a write with its `Idempotency-Key`. A write is never sent again
 *   with another key or without one; the only automatic resend is a replay with the SAME key
 *   after a transport failure before any answer arrived (at most twice), which the API answers
 *   with the original record.
 *
 * Every response body is read under a size cap, enforced while it is read.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { errorFromAnswer, parseRetryAfter, readErrorBody } from "./internal/answer.js"
import { errorCode } from "./internal/cause.js"
import { escapeControlCharacters } from "./internal/segment.js"
import * as WriteAction from "./WriteAction.js"
import * as WriteRequest from "./WriteRequest.js"
import { credentialHeader, XquikConfig, type XquikConfigShape } from "./XquikConfig.js"
import * as XquikError from "./XquikError.js"

// ---------------------------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------------------------

/**
 * One answer to a status read: the record and the HTTP answer around it. See
 * {@link WriteAction.Observation}.
 *
 * @example
 * ```ts
 * import { XquikClient } from "xquik-write-queue"
 *
 * const line = (observation: XquikClient.Observation): string =>
 *   `${observation.httpStatus} ${observation.record.status}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Observation = WriteAction.Observation

/**
 * What a write's answer was.
 *
 * - `Recorded`: a durable write action record (contract B, or a contract A record). Poll it
 *   until terminal when it is not.
 * - `Unconfirmed`: contract A's `202 x_write_unconfirmed`: the write may be on X; poll
 *   `writeActionId`, never resend.
 * - `Confirmed`: contract A's `200` success body without a record (`{tweetId, success, charged,
 *   chargedCredits}`).
 *
 * `replays` counts the same-key replays the send needed after transport failures.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { XquikClient } from "xquik-write-queue"
 *
 * const writeActionId = (submitted: XquikClient.Submitted): Option.Option<string> =>
 *   submitted._tag === "Recorded" ? Option.some(submitted.observation.record.writeActionId)
 *   : submitted._tag === "Unconfirmed" ? Option.some(submitted.writeActionId)
 *   : Option.none()
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Submitted = Data.TaggedEnum<{
  Recorded: {
    readonly observation: Observation
    /** The API returned an existing record for this key (`idempotent: true`). */
    readonly idempotentReplay: boolean
    readonly replays: number
  }
  Unconfirmed: {
    readonly writeActionId: WriteAction.WriteActionId
    readonly status: string
    readonly message: Option.Option<string>
    readonly httpStatus: number
    readonly retryAfter: Option.Option<Duration.Duration>
    readonly location: Option.Option<string>
    readonly requestId: Option.Option<string>
    readonly receivedAt: number
    readonly replays: number
  }
  Confirmed: {
    readonly resultId: Option.Option<string>
    readonly resultType: Option.Option<string>
    readonly charged: boolean
    readonly chargedCredits: WriteAction.Credits
    readonly httpStatus: number
    readonly requestId: Option.Option<string>
    readonly receivedAt: number
    readonly replays: number
  }
}>

/**
 * Constructors and matchers of {@link Submitted}.
 *
 * @example
 * ```ts
 * import { XquikClient } from "xquik-write-queue"
 *
 * const describe = (submitted: XquikClient.Submitted): string =>
 *   XquikClient.Submitted.$match(submitted, {
 *     Recorded: ({ observation }) => `recorded ${observation.record.writeActionId}: ${observation.record.status}`,
 *     Unconfirmed: ({ writeActionId }) => `unconfirmed: poll ${writeActionId}, never resend`,
 *     Confirmed: ({ chargedCredits }) => `confirmed, ${chargedCredits} credits`
 *   })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const Submitted = Data.taggedEnum<Submitted>()

/**
 * Errors a status read can end with.
 *
 * @example
 * ```ts
 * import { XquikClient } from "xquik-write-queue"
 *
 * const isNetwork = (error: XquikClient.ReadError): boolean => error._tag === "Transport" || error._tag === "Timeout"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type ReadError = XquikError.XquikError

/**
 * Errors a write can end with. Each says `mayHaveDispatched`.
 *
 * @example
 * ```ts
 * import { XquikClient, XquikError } from "xquik-write-queue"
 *
 * const neverResendWithNewKey = (error: XquikClient.WriteError): boolean => XquikError.mayHaveDispatched(error)
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type WriteError = XquikError.XquikError

/**
 * The client's interface.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { XquikClient } from "xquik-write-queue"
 *
 * const statusOf = (client: XquikClient.XquikClientShape, id: string) =>
 *   Effect.map(client.getWriteAction(id), (observation) => observation.record.status)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface XquikClientShape {
  readonly config: XquikConfigShape
  /** `GET /x/write-actions/{id}`. A bad id fails with `InvalidWriteActionId` before any request. */
  readonly getWriteAction: (id: string) => Effect.Effect<Observation, ReadError>
  /** Follows a `statusUrl` or `Location` on the configured origin and API path only. */
  readonly getWriteActionAt: (statusUrl: string) => Effect.Effect<Observation, ReadError>
  /** Sends a write with its Idempotency-Key. */
  readonly submit: (
    request: WriteRequest.WriteRequest,
    key: WriteRequest.IdempotencyKey
  ) => Effect.Effect<Submitted, WriteError>
}

/**
 * The client service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { XquikClient } from "xquik-write-queue"
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* XquikClient.XquikClient
 *   const observation = yield* client.getWriteAction("42")
 *   return observation.record.status
 * })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class XquikClient extends Context.Tag("xquik-write-queue/XquikClient")<XquikClient, XquikClientShape>() {}

// ---------------------------------------------------------------------------------------------
// ids and status URLs
// ---------------------------------------------------------------------------------------------

const describeInput = (input: string): string => {
  const shown = input.length > 80 ? `${input.slice(0, 80)}…` : input
  // JSON escapes C0 controls; DEL and C1 (a terminal reads U+009B as CSI) are escaped too.
  return escapeControlCharacters(JSON.stringify(shown))
}

/**
 * Checks a write action id; a bad one fails with `InvalidWriteActionId`.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { XquikClient } from "xquik-write-queue"
 *
 * const id = XquikClient.parseWriteActionId("42") // Either.right("42")
 * const bad = Either.isLeft(XquikClient.parseWriteActionId("")) // true
 * ```
 *
 * @since 0.1.0
 * @category ids
 */
export const parseWriteActionId = (
  input: string
): Either.Either<WriteAction.WriteActionId, XquikError.InvalidWriteActionId> => {
  const problem = typeof input === "string" ? WriteAction.writeActionIdProblem(input) : "it is not a string"
  return problem === undefined
    ? Either.right(WriteAction.WriteActionId.make(input, { disableValidation: true }))
    : Either.left(new XquikError.InvalidWriteActionId({ input: describeInput(String(input)), reason: problem }))
}

/**
 * Resolves a `statusUrl` / `Location` to a write action id, or refuses it. It must resolve (against
 * the configured origin) to `<origin><basePath>/x/write-actions/<one segment>`, with no query,
 * fragment or credentials in it.
 *
 * @example
 * ```ts
 * import { XquikClient } from "xquik-write-queue"
 *
 * const config = { origin: "https://xquik.com", basePath: "/api/v1" }
 * const id = XquikClient.resolveStatusUrl(config, "/api/v1/x/write-actions/42") // Either.right("42")
 * ```
 *
 * @since 0.1.0
 * @category ids
 */
export const resolveStatusUrl = (
  config: Pick<XquikConfigShape, "origin" | "basePath">,
  statusUrl: string
): Either.Either<WriteAction.WriteActionId, XquikError.CrossOriginStatusUrl | XquikError.InvalidWriteActionId> => {
  const prefix = `${config.basePath}/x/write-actions/`
  const refuse = () =>
    Either.left(
      new XquikError.CrossOriginStatusUrl({
        url: describeInput(statusUrl).slice(1, -1),
        allowedPrefix: `${config.origin}${prefix}`
      })
    )
  if (typeof statusUrl !== "string" || statusUrl.length === 0 || statusUrl.length > 4096) return refuse()
  let url: URL
  try {
    url = new URL(statusUrl, config.origin)
  } catch {
    return refuse()
  }
  if (
    url.origin !== config.origin ||
    url.username !== "" ||
    url.password !== "" ||
    url.search !== "" ||
    url.hash !== ""
  ) {
    return refuse()
  }
  if (!url.pathname.startsWith(prefix)) return refuse()
  const rest = url.pathname.slice(prefix.length)
  if (rest.length === 0 || rest.includes("/")) return refuse()
  let id: string
  try {
    id = decodeURIComponent(rest)
  } catch {
    return refuse()
  }
  return parseWriteActionId(id)
}

// ---------------------------------------------------------------------------------------------
// the client
// ---------------------------------------------------------------------------------------------

interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
  readonly receivedAt: number
}

interface Call {
  readonly method: string
  readonly path: string
  readonly write: boolean
}

// Failures that mean the connection was never made: the request surely did not arrive.
const neverConnected = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"])

const causeText = (cause: unknown): string => {
  const code = errorCode(cause)
  const message = cause instanceof Error ? cause.message : typeof cause === "string" ? cause : "transport failure"
  const text = code !== undefined && !message.includes(code) ? `${code}: ${message}` : message
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

const isJsonObject = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const isTransientRead = (error: XquikError.XquikError): boolean => {
  switch (error._tag) {
    case "Transport":
    case "Timeout":
    case "RateLimited":
    case "MalformedResponse":
      return true
    case "ServerError":
      return error.retryable
    default:
      return false
  }
}

const serverDelay = (error: XquikError.XquikError): Option.Option<Duration.Duration> =>
  error._tag === "RateLimited" || error._tag === "ServerError" ? Option.fromNullable(error.retryAfter) : Option.none()

/**
 * Builds the client from a configuration and an `HttpClient`.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { XquikClient, XquikConfig } from "xquik-write-queue"
 *
 * const client = XquikClient.make.pipe(
 *   Effect.provide(FetchHttpClient.layer),
 *   Effect.provide(XquikConfig.layer({ apiKey: "xq_example" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<XquikClientShape, never, XquikConfig | HttpClient.HttpClient> = Effect.gen(
  function* () {
    const config = yield* XquikConfig
    const [authName, authValue] = credentialHeader(config.credential)
    const secret = Redacted.value(config.credential.value)
    // The client's own spans (XquikClient.getWriteAction / submit) carry what matters; the
    // platform's per-request span and trace header would only add work to the hot path.
    const http = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerDisabledWhen(() => true))
    // Every request carries the same headers: built once, not merged per request.
    const headers = { [authName]: authValue, "user-agent": config.userAgent, accept: "application/json" }
    const buildRequest = (method: "GET" | "POST" | "DELETE", path: string) =>
      HttpClientRequest.make(method)(`${config.baseUrl}${path}`, { headers })
    const cap = config.maxResponseBytes

    // Defence in depth: no text this client builds from a foreign answer may carry the secret.
    const scrub = (text: string): string =>
      secret.length >= 4 && text.includes(secret) ? text.split(secret).join("<redacted>") : text

    const tooLarge = (call: Call, status: number) =>
      new XquikError.ResponseTooLarge({
        method: call.method,
        path: call.path,
        status,
        limitBytes: cap,
        mayHaveDispatched: call.write
      })

    const bodyFailure = (call: Call, error: HttpClientError.ResponseError) =>
      new XquikError.Transport({
        method: call.method,
        path: call.path,
        stage: "body",
        reason: scrub(causeText(error.cause)),
        mayHaveDispatched: call.write
      })

    // Reads the body under the cap. A declared length over the cap fails at once; otherwise the
    // stream is cut as soon as the running total passes the cap, which aborts the connection.
    const readBody = (call: Call, response: HttpClientResponse.HttpClientResponse, declared: string | undefined) => {
      if (declared !== undefined && /^\d+$/.test(declared)) {
        if (Number(declared) > cap) {
          return Stream.runDrain(Stream.take(response.stream, 1)).pipe(
            Effect.ignore,
            Effect.zipRight(Effect.fail(tooLarge(call, response.status)))
          )
        }
        return Effect.mapError(response.text, (e) => bodyFailure(call, e))
      }
      return response.stream.pipe(
        Stream.mapError((e) => bodyFailure(call, e)),
        Stream.mapAccumEffect(0, (total, chunk) => {
          const next = total + chunk.length
          return next > cap ? Effect.fail(tooLarge(call, response.status)) : Effect.succeed([next, chunk] as const)
        }),
        Stream.runCollect,
        // Decoded as undici decodes a body with a declared length: a leading BOM is dropped.
        Effect.map((chunks) => new TextDecoder().decode(Buffer.concat(Chunk.toReadonlyArray(chunks))))
      )
    }

    const exchange = (
      call: Call,
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<Answer, XquikError.XquikError> =>
      http.execute(request).pipe(
        Effect.catchTag("RequestError", (error) =>
          Effect.fail(
            new XquikError.Transport({
              method: call.method,
              path: call.path,
              stage: "request",
              reason: scrub(causeText(error.cause)),
              mayHaveDispatched: call.write && !neverConnected.has(errorCode(error.cause) ?? "")
            })
          )
        ),
        Effect.flatMap((response) => {
          const headers = response.headers
          return readBody(call, response, headers["content-length"]).pipe(
            Effect.zipWith(Clock.currentTimeMillis, (text, receivedAt) => ({
              status: response.status,
              headers,
              text,
              receivedAt
            }))
          )
        }),
        Effect.catchTag("ResponseError", (error) => Effect.fail(bodyFailure(call, error))),
        Effect.timeoutFail({
          duration: config.timeout,
          onTimeout: () =>
            new XquikError.Timeout({
              method: call.method,
              path: call.path,
              timeout: config.timeout,
              mayHaveDispatched: call.write
            })
        })
      )

    const malformed = (call: Call, answer: Answer, fieldPath: string, reason: string) =>
      new XquikError.MalformedResponse({
        method: call.method,
        path: call.path,
        status: answer.status,
        fieldPath,
        reason: scrub(reason),
        mayHaveDispatched: call.write,
        ...(answer.headers["x-request-id"] !== undefined ? { requestId: answer.headers["x-request-id"] } : {})
      })

    const parseJson = (call: Call, answer: Answer): Effect.Effect<unknown, XquikError.MalformedResponse> => {
      try {
        return Effect.succeed(JSON.parse(answer.text))
      } catch {
        const head = answer.text.slice(0, 40).replace(/\s+/g, " ")
        return Effect.fail(malformed(call, answer, "$", `not JSON (starts with ${JSON.stringify(head)})`))
      }
    }

    const answerError = (call: Call, answer: Answer): XquikError.XquikError => {
      let json: unknown
      try {
        json = JSON.parse(answer.text)
      } catch {
        json = undefined
      }
      return errorFromAnswer(
        {
          method: call.method,
          path: call.path,
          status: answer.status,
          requestId: answer.headers["x-request-id"],
          retryAfter: parseRetryAfter(answer.headers["retry-after"], answer.receivedAt),
          write: call.write
        },
        readErrorBody(json)
      )
    }

    const observe = (
      call: Call,
      answer: Answer,
      json: unknown
    ): Effect.Effect<Observation, XquikError.MalformedResponse> =>
      Either.match(WriteAction.decode(json), {
        onLeft: (failure) => Effect.fail(malformed(call, answer, failure.fieldPath, failure.reason)),
        onRight: (record) =>
          Effect.succeed({
            record,
            httpStatus: answer.status,
            retryAfter: parseRetryAfter(answer.headers["retry-after"], answer.receivedAt),
            location: Option.fromNullable(answer.headers.location),
            requestId: Option.fromNullable(answer.headers["x-request-id"]),
            receivedAt: answer.receivedAt
          })
      })

    const backoff = (attempt: number) =>
      Effect.map(Random.next, (r) => {
        const base = Duration.toMillis(config.readRetry.base) * 2 ** attempt
        const capped = Math.min(base, Duration.toMillis(config.readRetry.cap))
        return Duration.millis(Math.round(capped * (0.5 + r * 0.5)))
      })

    // Reads are safe to repeat: retry transient failures, waiting what the server asked for
    // when it did, else the jittered backoff.
    const withReadRetries = <A>(
      effect: Effect.Effect<A, XquikError.XquikError>
    ): Effect.Effect<A, XquikError.XquikError> => {
      const loop = (attempt: number): Effect.Effect<A, XquikError.XquikError> =>
        Effect.catchIf(effect, isTransientRead, (error) =>
          attempt >= config.readRetry.times
            ? Effect.fail(error)
            : Option.match(serverDelay(error), {
                onNone: () => backoff(attempt),
                onSome: Effect.succeed
              }).pipe(
                Effect.tap((delay) =>
                  Effect.logDebug("XquikClient: retrying a read").pipe(
                    Effect.annotateLogs({
                      error: error._tag,
                      reason: error.message,
                      attempt: attempt + 1,
                      delay: Duration.format(delay)
                    })
                  )
                ),
                Effect.flatMap((delay) => Effect.sleep(delay)),
                Effect.zipRight(Effect.suspend(() => loop(attempt + 1)))
              )
        )
      return loop(0)
    }

    const readOnce = (id: WriteAction.WriteActionId): Effect.Effect<Observation, XquikError.XquikError> => {
      const relative = `/x/write-actions/${encodeURIComponent(id)}`
      const call: Call = { method: "GET", path: `${config.basePath}${relative}`, write: false }
      return exchange(call, buildRequest("GET", relative)).pipe(
        Effect.flatMap((answer) =>
          answer.status === 200 || answer.status === 202
            ? Effect.flatMap(parseJson(call, answer), (json) => observe(call, answer, json))
            : Effect.fail(answerError(call, answer))
        )
      )
    }

    const read = (id: WriteAction.WriteActionId) =>
      withReadRetries(readOnce(id)).pipe(
        Effect.tap((observation) => Effect.annotateCurrentSpan("http.response.status_code", observation.httpStatus)),
        Effect.withSpan("XquikClient.getWriteAction", {
          captureStackTrace: false,
          kind: "client",
          attributes: { "xquik.write_action_id": id }
        })
      )

    const getWriteAction = (input: string) =>
      Either.match(parseWriteActionId(input), { onLeft: Effect.fail, onRight: read })

    // A statusUrl comes from an answer: the refusal echoes it, so it is scrubbed like any answer.
    const getWriteActionAt = (statusUrl: string) =>
      Either.match(resolveStatusUrl(config, statusUrl), {
        onLeft: (error) =>
          Effect.fail(
            error._tag === "CrossOriginStatusUrl"
              ? new XquikError.CrossOriginStatusUrl({ url: scrub(error.url), allowedPrefix: error.allowedPrefix })
              : new XquikError.InvalidWriteActionId({ input: scrub(error.input), reason: error.reason })
          ),
        onRight: read
      })

    // ---- writes ----

    const interpretWrite = (
      call: Call,
      answer: Answer,
      replays: number
    ): Effect.Effect<Submitted, XquikError.XquikError> => {
      let json: unknown
      try {
        json = JSON.parse(answer.text)
      } catch {
        return Effect.fail(
          answer.status === 200 || answer.status === 202
            ? malformed(call, answer, "$", "not JSON")
            : answerError(call, answer)
        )
      }
      const body: Readonly<Record<string, unknown>> = isJsonObject(json) ? json : {}
      // A durable record is data whatever the status (200, 202, and also 402 or 503 with a record).
      if (body.object === "x_write_action") {
        return Effect.map(observe(call, answer, json), (observation) =>
          Submitted.Recorded({
            observation,
            idempotentReplay: WriteAction.isLive(observation.record) && observation.record.idempotent === true,
            replays
          })
        )
      }
      if (answer.status !== 200 && answer.status !== 202) return Effect.fail(answerError(call, answer))
      const location = Option.fromNullable(answer.headers.location)
      const requestId = Option.fromNullable(answer.headers["x-request-id"])
      const retryAfter = parseRetryAfter(answer.headers["retry-after"], answer.receivedAt)
      if (body.error === "x_write_unconfirmed") {
        const id = typeof body.writeActionId === "string" ? parseWriteActionId(body.writeActionId) : undefined
        if (id === undefined || Either.isLeft(id)) {
          return Effect.fail(malformed(call, answer, "$.writeActionId", "expected a write action id"))
        }
        return Effect.succeed(
          Submitted.Unconfirmed({
            writeActionId: id.right,
            status: typeof body.status === "string" ? body.status.slice(0, 128) : "pending_confirmation",
            message: Option.fromNullable(typeof body.message === "string" ? body.message.slice(0, 1000) : undefined),
            httpStatus: answer.status,
            retryAfter,
            location,
            requestId,
            receivedAt: answer.receivedAt,
            replays
          })
        )
      }
      if ("writeActionId" in body) {
        return Effect.map(observe(call, answer, json), (observation) =>
          Submitted.Recorded({ observation, idempotentReplay: false, replays })
        )
      }
      if (body.success === true) {
        const credits = body.chargedCredits ?? "0"
        if (typeof credits !== "string" || !/^\d{1,40}$/.test(credits)) {
          return Effect.fail(malformed(call, answer, "$.chargedCredits", 'expected a digit string such as "32"'))
        }
        const str = (u: unknown) => (typeof u === "string" && u.length > 0 && u.length <= 256 ? u : undefined)
        const tweetId = str(body.tweetId)
        const messageId = str(body.messageId)
        return Effect.succeed(
          Submitted.Confirmed({
            resultId: Option.fromNullable(tweetId ?? messageId ?? str(body.resultId)),
            resultType: Option.fromNullable(tweetId ? "tweet" : messageId ? "direct_message" : undefined),
            charged: body.charged === true,
            chargedCredits: WriteAction.Credits.make(credits, { disableValidation: true }),
            httpStatus: answer.status,
            requestId,
            receivedAt: answer.receivedAt,
            replays
          })
        )
      }
      return Effect.fail(malformed(call, answer, "$", "expected a write action record"))
    }

    const submit = (request: WriteRequest.WriteRequest, key: WriteRequest.IdempotencyKey) =>
      Effect.suspend(() => {
        const valid = WriteRequest.validate(request)
        if (Either.isLeft(valid)) return Effect.fail(valid.left)
        if (!/^[!-~]{1,255}$/.test(key)) {
          return Effect.fail(
            new XquikError.InvalidRequest({
              method: "-",
              path: "-",
              status: 0,
              code: "invalid_idempotency_key",
              fieldErrors: [
                {
                  path: "Idempotency-Key",
                  code: "invalid_idempotency_key",
                  message: "expected 1 to 255 printable ASCII characters"
                }
              ],
              mayHaveDispatched: false
            })
          )
        }
        const form = WriteRequest.toHttp(valid.right)
        const call: Call = { method: form.method, path: `${config.basePath}${form.path}`, write: true }
        // Built once: every replay sends exactly these bytes with exactly this key.
        const httpRequest = buildRequest(form.method, form.path).pipe(
          HttpClientRequest.setHeader("idempotency-key", key),
          HttpClientRequest.bodyUnsafeJson(form.body)
        )
        // The one automatic resend: a transport failure before any answer arrived, replayed with
        // the SAME key. The API returns the original record for a known key, so this can never
        // double-post; a new key (or none) could.
        // Once an attempt may have arrived, a later refusal of a replay proves nothing about it:
        // the error says the write may have been dispatched, whatever the replay was told.
        const settle = (error: XquikError.XquikError, ambiguous: string | undefined) =>
          ambiguous === undefined || XquikError.mayHaveDispatched(error)
            ? error
            : new XquikError.Transport({
                method: call.method,
                path: call.path,
                stage: "request",
                reason: `an earlier attempt may have arrived (${ambiguous}); the replay with the same key got: ${error.message}`,
                mayHaveDispatched: true
              })
        const send = (
          replays: number,
          ambiguous: string | undefined
        ): Effect.Effect<Submitted, XquikError.XquikError> =>
          exchange(call, httpRequest).pipe(
            Effect.matchEffect({
              onFailure: (error) =>
                error._tag === "Transport" && error.stage === "request" && replays < config.sendReplays
                  ? backoff(replays).pipe(
                      Effect.tap((delay) =>
                        Effect.logWarning("XquikClient: replaying a write with the same Idempotency-Key").pipe(
                          Effect.annotateLogs({
                            reason: error.reason,
                            replay: replays + 1,
                            delay: Duration.format(delay)
                          })
                        )
                      ),
                      Effect.flatMap((delay) => Effect.sleep(delay)),
                      Effect.zipRight(
                        Effect.suspend(() =>
                          send(replays + 1, ambiguous ?? (error.mayHaveDispatched ? error.reason : undefined))
                        )
                      )
                    )
                  : Effect.fail(settle(error, ambiguous)),
              onSuccess: (answer) =>
                ambiguous === undefined
                  ? interpretWrite(call, answer, replays)
                  : Effect.mapError(interpretWrite(call, answer, replays), (error) => settle(error, ambiguous))
            })
          )
        return send(0, undefined).pipe(
          Effect.tap((submitted) =>
            Effect.annotateCurrentSpan({
              "http.response.status_code":
                submitted._tag === "Recorded" ? submitted.observation.httpStatus : submitted.httpStatus,
              "xquik.replays": submitted.replays,
              ...(submitted._tag === "Recorded"
                ? { "xquik.write_action_id": submitted.observation.record.writeActionId }
                : {}),
              ...(submitted._tag === "Unconfirmed" ? { "xquik.write_action_id": submitted.writeActionId } : {})
            })
          ),
          Effect.withSpan("XquikClient.submit", {
            captureStackTrace: false,
            kind: "client",
            attributes: { "xquik.action": WriteRequest.action(valid.right), "http.request.method": form.method }
          })
        )
      })

    return { config, getWriteAction, getWriteActionAt, submit } satisfies XquikClientShape
  }
)

/**
 * The client, needing an `HttpClient` and an {@link XquikConfig}.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { XquikClient, XquikConfig } from "xquik-write-queue"
 *
 * const ClientLive = XquikClient.layer.pipe(
 *   Layer.provide(FetchHttpClient.layer),
 *   Layer.provide(XquikConfig.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<XquikClient, never, XquikConfig | HttpClient.HttpClient> = Layer.effect(
  XquikClient,
  make
)

/**
 * The client on Node's undici `HttpClient`, with its own connection pool of at most
 * `maxConnections` sockets to the API (default 64); requests beyond that wait in the pool. A
 * pool without a bound opens one socket per concurrent request, and keeps them: ten thousand
 * waiters whose first polls go out together would hold ten thousand idle sockets.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { XquikClient, XquikConfig } from "xquik-write-queue"
 *
 * const live = XquikClient.layerNodeWith({ maxConnections: 16 }).pipe(Layer.provide(XquikConfig.layerConfig()))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNodeWith = (options: {
  readonly maxConnections?: number | undefined
}): Layer.Layer<XquikClient, never, XquikConfig> =>
  layer.pipe(
    Layer.provide(NodeHttpClient.layerUndiciWithoutDispatcher),
    Layer.provide(
      Layer.scoped(
        NodeHttpClient.Dispatcher,
        Effect.acquireRelease(
          Effect.sync(
            () =>
              new Undici.Agent({
                connections: Math.max(1, Math.floor(options.maxConnections ?? 64)),
                keepAliveTimeout: 30_000
              })
          ),
          (agent) => Effect.promise(() => agent.destroy())
        )
      )
    )
  )

/**
 * The client on Node's undici `HttpClient` with at most 64 sockets to the API (see
 * {@link layerNodeWith}), needing only an {@link XquikConfig}.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { XquikClient, XquikConfig } from "xquik-write-queue"
 *
 * const live = XquikClient.layerNode.pipe(Layer.provide(XquikConfig.layerConfig()))
 * const program = Effect.flatMap(XquikClient.XquikClient, (client) => client.getWriteAction("42"))
 * // Effect.provide(program, live)
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNode: Layer.Layer<XquikClient, never, XquikConfig> = layerNodeWith({})

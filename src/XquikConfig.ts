/**
 * Where the API is, how to authenticate, and how patient to be.
 *
 * Exactly one credential is configured, held as `Redacted` from the moment it is read: an API
 * key (`x-api-key`), a bearer token (`Authorization: Bearer`) or a session cookie
 * (`__Host-xquik_session`). It never appears in logs, errors, rows or output.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { parseDurationText } from "./internal/durationText.js"
import { version } from "./internal/version.js"
import { ConfigError } from "./XquikError.js"

/**
 * The one credential requests are sent with.
 *
 * @example
 * ```ts
 * import { XquikConfig } from "xquik-write-queue"
 *
 * const kind = (credential: XquikConfig.Credential): string => credential._tag // "ApiKey", ...
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Credential = Data.TaggedEnum<{
  ApiKey: { readonly value: Redacted.Redacted<string> }
  BearerToken: { readonly value: Redacted.Redacted<string> }
  SessionCookie: { readonly value: Redacted.Redacted<string> }
}>

/**
 * Constructors and matchers of {@link Credential}.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { XquikConfig } from "xquik-write-queue"
 *
 * const credential = XquikConfig.Credential.ApiKey({ value: Redacted.make("xq_example") })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const Credential = Data.taggedEnum<Credential>()

/**
 * How reads are retried after a transient failure (transport error, timeout, 5xx, 429, an
 * unreadable body): at most `times` more attempts, `base` doubling up to `cap`, jittered. A
 * `Retry-After` from the server replaces the computed delay.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { XquikConfig } from "xquik-write-queue"
 *
 * const patient: XquikConfig.RetryPolicy = { times: 5, base: Duration.millis(500), cap: Duration.seconds(10) }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryPolicy {
  readonly times: number
  readonly base: Duration.Duration
  readonly cap: Duration.Duration
}

/**
 * The default API base URL.
 *
 * @example
 * ```ts
 * import { XquikConfig } from "xquik-write-queue"
 *
 * const config = XquikConfig.make({ apiKey: "xq_example", baseUrl: XquikConfig.defaultBaseUrl })
 * ```
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultBaseUrl = "https://xquik.com/api/v1"

/**
 * The default user agent, `xquik-write-queue/<version>`.
 *
 * @example
 * ```ts
 * import { XquikConfig } from "xquik-write-queue"
 *
 * const config = XquikConfig.make({ apiKey: "xq_example", userAgent: `acme-bot/1.0 ${XquikConfig.defaultUserAgent}` })
 * ```
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultUserAgent = `xquik-write-queue/${version}`

/**
 * The settled configuration.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { XquikConfig } from "xquik-write-queue"
 *
 * const describe = (config: XquikConfig.XquikConfigShape): string =>
 *   `${config.baseUrl}, timeout ${Duration.format(config.timeout)}, ${config.readRetry.times} read retries`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface XquikConfigShape {
  /** The API base, without a trailing slash: `https://xquik.com/api/v1`. */
  readonly baseUrl: string
  /** `https://xquik.com`: the only origin the credential is sent to. */
  readonly origin: string
  /** `/api/v1`: every request path starts with it. */
  readonly basePath: string
  readonly credential: Credential
  /** Per request, including reading the body. Default 30 s. */
  readonly timeout: Duration.Duration
  /** Largest response body read; a larger one is cut off while it is read. Default 1 MiB. */
  readonly maxResponseBytes: number
  readonly userAgent: string
  readonly readRetry: RetryPolicy
  /**
   * How many times a write is replayed, with the SAME key, after a transport failure before
   * any answer arrived. At most 2.
   */
  readonly sendReplays: number
}

/**
 * The configuration service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { XquikConfig } from "xquik-write-queue"
 *
 * const baseUrl = Effect.map(XquikConfig.XquikConfig, (config) => config.baseUrl)
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class XquikConfig extends Context.Tag("xquik-write-queue/XquikConfig")<XquikConfig, XquikConfigShape>() {}

/**
 * What {@link make} and {@link layer} accept. Give exactly one of `apiKey`, `bearerToken` and
 * `sessionCookie`; plain strings are wrapped in `Redacted` at once.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { XquikConfig } from "xquik-write-queue"
 *
 * const options: XquikConfig.Options = {
 *   apiKey: Redacted.make("xq_example"),
 *   timeout: "10 seconds",
 *   readRetry: { times: 5 }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly baseUrl?: string | URL | undefined
  readonly apiKey?: string | Redacted.Redacted<string> | undefined
  readonly bearerToken?: string | Redacted.Redacted<string> | undefined
  readonly sessionCookie?: string | Redacted.Redacted<string> | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly maxResponseBytes?: number | undefined
  readonly userAgent?: string | undefined
  readonly readRetry?: Partial<RetryPolicy> | undefined
  readonly sendReplays?: number | undefined
}

/** The names a caller knows each setting by, for error messages. */
interface Names {
  readonly baseUrl: string
  readonly apiKey: string
  readonly bearerToken: string
  readonly sessionCookie: string
  readonly timeout: string
}

const optionNames: Names = {
  baseUrl: "baseUrl",
  apiKey: "apiKey",
  bearerToken: "bearerToken",
  sessionCookie: "sessionCookie",
  timeout: "timeout"
}

const envNames: Names = {
  baseUrl: "XQUIK_BASE_URL",
  apiKey: "XQUIK_API_KEY",
  bearerToken: "XQUIK_BEARER_TOKEN",
  sessionCookie: "XQUIK_SESSION_COOKIE",
  timeout: "XQUIK_TIMEOUT"
}

const toRedacted = (value: string | Redacted.Redacted<string>): Redacted.Redacted<string> =>
  Redacted.isRedacted(value) ? value : Redacted.make(value)

// Printable ASCII without spaces: anything else could split a header or a cookie.
const credentialShape = /^[!-~]{1,4096}$/

const settle = (options: Options, names: Names): Effect.Effect<XquikConfigShape, ConfigError> =>
  Effect.suspend(() => {
    const given = (
      [
        ["apiKey", options.apiKey],
        ["bearerToken", options.bearerToken],
        ["sessionCookie", options.sessionCookie]
      ] as const
    ).flatMap(([kind, value]) => (value === undefined ? [] : [{ kind, value: toRedacted(value) }]))
    const credentialNames = [names.apiKey, names.bearerToken, names.sessionCookie]
    const [first, second] = given
    if (first === undefined) {
      return Effect.fail(
        new ConfigError({
          variables: credentialNames,
          reason: `no credential is set. Set exactly one of ${credentialNames.join(", ")}.`
        })
      )
    }
    if (second !== undefined) {
      const set = given.map((g) => names[g.kind])
      return Effect.fail(
        new ConfigError({
          variables: set,
          reason: `${set.join(" and ")} are all set. Set exactly one credential.`
        })
      )
    }
    if (!credentialShape.test(Redacted.value(first.value))) {
      return Effect.fail(
        new ConfigError({
          variables: [names[first.kind]],
          reason: "the credential must be 1 to 4096 printable ASCII characters without spaces or line breaks."
        })
      )
    }
    const credential =
      first.kind === "apiKey"
        ? Credential.ApiKey({ value: first.value })
        : first.kind === "bearerToken"
          ? Credential.BearerToken({ value: first.value })
          : Credential.SessionCookie({ value: first.value })

    const rawBase = String(options.baseUrl ?? defaultBaseUrl)
    let url: URL
    try {
      url = new URL(rawBase)
    } catch {
      return Effect.fail(
        new ConfigError({
          variables: [names.baseUrl],
          reason: `${JSON.stringify(rawBase.slice(0, 200))} is not a URL. Use e.g. ${defaultBaseUrl}.`
        })
      )
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      return Effect.fail(
        new ConfigError({
          variables: [names.baseUrl],
          reason: `the base URL must be http(s), not ${url.protocol.replace(/:$/, "")}. Use e.g. ${defaultBaseUrl}.`
        })
      )
    }
    if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
      return Effect.fail(
        new ConfigError({
          variables: [names.baseUrl],
          reason: "the base URL must not carry a user, password, query or fragment."
        })
      )
    }
    const basePath = url.pathname.replace(/\/+$/, "")

    const timeout = Duration.decode(options.timeout ?? Duration.seconds(30))
    if (!Duration.isFinite(timeout) || Duration.lessThanOrEqualTo(timeout, Duration.zero)) {
      return Effect.fail(
        new ConfigError({ variables: [names.timeout], reason: "the timeout must be a positive, finite duration." })
      )
    }
    const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024
    if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1024) {
      return Effect.fail(
        new ConfigError({
          variables: ["maxResponseBytes"],
          reason: "maxResponseBytes must be an integer of at least 1024."
        })
      )
    }
    const sendReplays = options.sendReplays ?? 2
    if (!Number.isInteger(sendReplays) || sendReplays < 0 || sendReplays > 2) {
      return Effect.fail(new ConfigError({ variables: ["sendReplays"], reason: "sendReplays must be 0, 1 or 2." }))
    }
    const readRetry: RetryPolicy = {
      times: options.readRetry?.times ?? 3,
      base: options.readRetry?.base ?? Duration.millis(250),
      cap: options.readRetry?.cap ?? Duration.seconds(5)
    }
    if (!Number.isInteger(readRetry.times) || readRetry.times < 0 || readRetry.times > 20) {
      return Effect.fail(
        new ConfigError({ variables: ["readRetry.times"], reason: "readRetry.times must be an integer from 0 to 20." })
      )
    }
    const userAgent = options.userAgent ?? defaultUserAgent
    if (!/^[ -~]{1,256}$/.test(userAgent)) {
      return Effect.fail(
        new ConfigError({
          variables: ["userAgent"],
          reason: "the user agent must be 1 to 256 printable ASCII characters."
        })
      )
    }
    return Effect.succeed({
      baseUrl: `${url.origin}${basePath}`,
      origin: url.origin,
      basePath,
      credential,
      timeout,
      maxResponseBytes,
      userAgent,
      readRetry,
      sendReplays
    })
  })

/**
 * Checks options and settles a configuration.
 *
 * @example
 * ```ts
 * import { XquikConfig } from "xquik-write-queue"
 *
 * const config = XquikConfig.make({ apiKey: "xq_example", timeout: "10 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<XquikConfigShape, ConfigError> => settle(options, optionNames)

/**
 * A layer from options.
 *
 * @example
 * ```ts
 * import { XquikConfig } from "xquik-write-queue"
 *
 * const ConfigLive = XquikConfig.layer({ apiKey: "xq_example", baseUrl: "http://127.0.0.1:8080/api/v1" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<XquikConfig, ConfigError> =>
  Layer.effect(XquikConfig, make(options))

const env = Config.all({
  apiKey: Config.option(Config.redacted("XQUIK_API_KEY")),
  bearerToken: Config.option(Config.redacted("XQUIK_BEARER_TOKEN")),
  sessionCookie: Config.option(Config.redacted("XQUIK_SESSION_COOKIE")),
  baseUrl: Config.option(Config.string("XQUIK_BASE_URL")),
  timeout: Config.option(Config.string("XQUIK_TIMEOUT"))
})

/**
 * Reads the configuration from `XQUIK_API_KEY`, `XQUIK_BEARER_TOKEN`, `XQUIK_SESSION_COOKIE`,
 * `XQUIK_BASE_URL` and `XQUIK_TIMEOUT` (`30s`, `2m`, `1500ms`, or a number of seconds) through
 * effect's `Config`, so any `ConfigProvider` works. `overrides` win over the environment.
 *
 * @example
 * ```ts
 * import { ConfigProvider, Effect } from "effect"
 * import { XquikConfig } from "xquik-write-queue"
 *
 * const config = XquikConfig.fromEnv({ timeout: "10 seconds" }).pipe(
 *   Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["XQUIK_API_KEY", "xq_example"]])))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEnv = (overrides: Options = {}): Effect.Effect<XquikConfigShape, ConfigError> =>
  Effect.gen(function* () {
    const read = yield* Effect.mapError(
      env,
      (error) => new ConfigError({ variables: Object.values(envNames), reason: String(error) })
    )
    const blank = (o: Option.Option<string>) => Option.filter(o, (s) => s.trim() !== "")
    const blankRedacted = (o: Option.Option<Redacted.Redacted<string>>) =>
      Option.filter(o, (s) => Redacted.value(s).trim() !== "")
    let timeout: Duration.Duration | undefined
    const timeoutText = Option.getOrUndefined(blank(read.timeout))
    if (timeoutText !== undefined) {
      const parsed = parseDurationText(timeoutText)
      if (Option.isNone(parsed) || Duration.lessThanOrEqualTo(parsed.value, Duration.zero)) {
        return yield* new ConfigError({
          variables: [envNames.timeout],
          reason: `${JSON.stringify(timeoutText.slice(0, 64))} is not a duration. Use e.g. 30s, 2m or 1500ms.`
        })
      }
      timeout = parsed.value
    }
    const hasOwnCredential =
      overrides.apiKey !== undefined || overrides.bearerToken !== undefined || overrides.sessionCookie !== undefined
    return yield* settle(
      {
        ...overrides,
        baseUrl: overrides.baseUrl ?? Option.getOrUndefined(blank(read.baseUrl)),
        timeout: overrides.timeout ?? timeout,
        apiKey: hasOwnCredential ? overrides.apiKey : Option.getOrUndefined(blankRedacted(read.apiKey)),
        bearerToken: hasOwnCredential ? overrides.bearerToken : Option.getOrUndefined(blankRedacted(read.bearerToken)),
        sessionCookie: hasOwnCredential
          ? overrides.sessionCookie
          : Option.getOrUndefined(blankRedacted(read.sessionCookie))
      },
      hasOwnCredential ? optionNames : envNames
    )
  })

/**
 * A layer reading the environment; see {@link fromEnv}.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { XquikClient, XquikConfig } from "xquik-write-queue"
 *
 * // XQUIK_API_KEY (or another credential) from the environment; the timeout from code.
 * const ClientLive = XquikClient.layerNode.pipe(Layer.provide(XquikConfig.layerConfig({ timeout: "10 seconds" })))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (overrides: Options = {}): Layer.Layer<XquikConfig, ConfigError> =>
  Layer.effect(XquikConfig, fromEnv(overrides))

/**
 * The header a credential is sent in, as `[name, value]`. Internal to the client; exported for
 * the simulator and tests.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { XquikConfig } from "xquik-write-queue"
 *
 * const credential = XquikConfig.Credential.BearerToken({ value: Redacted.make("token-123") })
 * const [name, value] = XquikConfig.credentialHeader(credential) // "authorization", "Bearer token-123"
 * ```
 *
 * @since 0.1.0
 * @category credentials
 */
export const credentialHeader = (credential: Credential): readonly [string, string] =>
  Credential.$match(credential, {
    ApiKey: ({ value }) => ["x-api-key", Redacted.value(value)] as const,
    BearerToken: ({ value }) => ["authorization", `Bearer ${Redacted.value(value)}`] as const,
    SessionCookie: ({ value }) => ["cookie", `__Host-xquik_session=${Redacted.value(value)}`] as const
  })

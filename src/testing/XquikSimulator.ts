/**
 * An HTTP server that behaves like the Xquik write API, for tests, demos and benchmarks: the
 * status endpoint and every write of the table in API-FACTS, in contract B (default) or
 * contract A, with credentials and `Idempotency-Key` checks, a per-action script of answers
 * (statuses, HTTP errors, 429s, garbage, slow answers, connection resets, oversized bodies), and
 * statistics that prove the client's promises: polls after a terminal answer, overlapping polls,
 * Retry-After violations, sends per key and duplicate dispatches.
 *
 * Time comes from effect's `Clock`: run it inside a test with `TestClock` and every recorded
 * time is virtual and exact.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import * as Http from "node:http"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as XquikClient from "../XquikClient.js"
import * as XquikConfig from "../XquikConfig.js"
import type { ConfigError } from "../XquikError.js"

// ---------------------------------------------------------------------------------------------
// scripts
// ---------------------------------------------------------------------------------------------

const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/**
 * Answer with the action in `status`. `terminal` defaults to whether the status is `success`,
 * `failed` or `expired`. `retryAfter` (seconds; 0 for none) and `pollAfterMs` override the
 * simulator's pacing for this answer; `httpStatus` overrides 200/202 (e.g. 402 with a failed
 * record); `headers` adds raw headers.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { StatusStep } from "xquik-write-queue/testing"
 *
 * const step = Schema.decodeUnknownSync(StatusStep)({
 *   _tag: "Status", status: "failed", error: "x_write_failed", safeToRetry: true
 * })
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export const StatusStep = Schema.TaggedStruct("Status", {
  status: Schema.String,
  terminal: optional(Schema.Boolean),
  error: optional(Schema.String),
  message: optional(Schema.String),
  safeToRetry: optional(Schema.Boolean),
  resultId: optional(Schema.String),
  chargedCredits: optional(Schema.String),
  retryAfter: optional(Schema.Number),
  pollAfterMs: optional(Schema.NullOr(Schema.Number)),
  expiresInMs: optional(Schema.Number),
  nextAction: optional(
    Schema.NullOr(
      Schema.Struct({
        type: Schema.String,
        url: optional(Schema.String),
        afterMs: optional(Schema.Number),
        requiresNewIdempotencyKey: optional(Schema.Boolean)
      })
    )
  ),
  httpStatus: optional(Schema.Number),
  headers: optional(Schema.Record({ key: Schema.String, value: Schema.String }))
})

/**
 * Answer with an HTTP error and an error body. On a write, `dispatched: true` means the action
 * was created anyway (e.g. `500 x_write_ambiguous`), and the body carries its id.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { HttpErrorStep } from "xquik-write-queue/testing"
 *
 * // The write was created although the answer is a 500.
 * const ambiguous = Schema.decodeUnknownSync(HttpErrorStep)({
 *   _tag: "HttpError", status: 500, code: "x_write_ambiguous", dispatched: true
 * })
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export const HttpErrorStep = Schema.TaggedStruct("HttpError", {
  status: Schema.Number,
  code: Schema.String,
  message: optional(Schema.String),
  retryAfter: optional(Schema.String),
  safeToRetry: optional(Schema.Boolean),
  dispatched: optional(Schema.Boolean)
})

/**
 * Answer with a body that is not a record (HTML from a proxy by default).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { GarbageStep } from "xquik-write-queue/testing"
 *
 * const proxyPage = Schema.decodeUnknownSync(GarbageStep)({
 *   _tag: "Garbage",
 *   status: 502,
 *   body: "<html>Bad gateway</html>"
 * })
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export const GarbageStep = Schema.TaggedStruct("Garbage", {
  status: optional(Schema.Number),
  body: optional(Schema.String),
  contentType: optional(Schema.String)
})

/**
 * Answer exactly this: status, headers and body text.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { RawStep } from "xquik-write-queue/testing"
 *
 * const raw = Schema.decodeUnknownSync(RawStep)({
 *   _tag: "Raw", status: 200, headers: { "content-type": "application/json" }, body: "{}"
 * })
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export const RawStep = Schema.TaggedStruct("Raw", {
  status: Schema.Number,
  headers: optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  body: Schema.String
})

/**
 * Destroy the connection without answering (after the request arrived).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ResetStep } from "xquik-write-queue/testing"
 *
 * const reset = Schema.decodeUnknownSync(ResetStep)({ _tag: "Reset" })
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export const ResetStep = Schema.TaggedStruct("Reset", {})

/**
 * Answer with a body of `bytes` bytes, declared in `Content-Length` or sent chunked.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { OversizedStep } from "xquik-write-queue/testing"
 *
 * // 2 MiB sent chunked, without a Content-Length.
 * const huge = Schema.decodeUnknownSync(OversizedStep)({
 *   _tag: "Oversized",
 *   bytes: 2 * 1024 * 1024,
 *   declareLength: false
 * })
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export const OversizedStep = Schema.TaggedStruct("Oversized", {
  bytes: Schema.Number,
  declareLength: Schema.Boolean
})

/**
 * One answer of a script.
 *
 * @example
 * ```ts
 * import { type Step, Steps } from "xquik-write-queue/testing"
 *
 * const script: ReadonlyArray<Step> = [Steps.accepted(), Steps.rateLimited(2), Steps.pending(), Steps.success()]
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export type Step =
  | typeof StatusStep.Type
  | typeof HttpErrorStep.Type
  | typeof GarbageStep.Type
  | typeof RawStep.Type
  | typeof ResetStep.Type
  | typeof OversizedStep.Type
  | SlowStep

/**
 * Wait `delayMs` (effect's `Clock`), then play `step`.
 *
 * @example
 * ```ts
 * import { type SlowStep, Steps } from "xquik-write-queue/testing"
 *
 * const slow: SlowStep = { _tag: "Slow", delayMs: 5000, step: Steps.pending() }
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export interface SlowStep {
  readonly _tag: "Slow"
  readonly delayMs: number
  readonly step: Step
}

/**
 * The schema of a step, for scripts read from JSON files.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Step } from "xquik-write-queue/testing"
 *
 * // e.g. a script read from a JSON file
 * const script = Schema.decodeUnknownSync(Schema.Array(Step))([
 *   { _tag: "Status", status: "accepted" },
 *   { _tag: "Reset" },
 *   { _tag: "Status", status: "success", resultId: "1900000000000000001" }
 * ])
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export const Step: Schema.Schema<Step> = Schema.Union(
  StatusStep,
  HttpErrorStep,
  GarbageStep,
  RawStep,
  ResetStep,
  OversizedStep,
  Schema.TaggedStruct("Slow", {
    delayMs: Schema.Number,
    step: Schema.suspend((): Schema.Schema<Step> => Step)
  })
)

/**
 * Step constructors.
 *
 * @example
 * ```ts
 * import { Steps } from "xquik-write-queue/testing"
 *
 * const script = [Steps.accepted(), Steps.pending(), Steps.success({ resultId: "1900000000000000001" })]
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export const Steps = {
  status: (status: string, extra: Omit<typeof StatusStep.Type, "_tag" | "status"> = {}): Step => ({
    _tag: "Status",
    status,
    ...extra
  }),
  accepted: (extra: Omit<typeof StatusStep.Type, "_tag" | "status"> = {}): Step => Steps.status("accepted", extra),
  dispatching: (extra: Omit<typeof StatusStep.Type, "_tag" | "status"> = {}): Step =>
    Steps.status("dispatching", extra),
  pending: (extra: Omit<typeof StatusStep.Type, "_tag" | "status"> = {}): Step =>
    Steps.status("pending_confirmation", extra),
  success: (extra: Omit<typeof StatusStep.Type, "_tag" | "status"> = {}): Step => Steps.status("success", extra),
  failed: (extra: Omit<typeof StatusStep.Type, "_tag" | "status"> = {}): Step =>
    Steps.status("failed", { error: "x_write_failed", message: "X did not accept the write.", ...extra }),
  expired: (extra: Omit<typeof StatusStep.Type, "_tag" | "status"> = {}): Step =>
    Steps.status("expired", { error: "expired", message: "Confirmation window closed; verify on X.", ...extra }),
  httpError: (
    status: number,
    code: string,
    extra: Omit<typeof HttpErrorStep.Type, "_tag" | "status" | "code"> = {}
  ): Step => ({
    _tag: "HttpError",
    status,
    code,
    ...extra
  }),
  rateLimited: (retryAfterSeconds: number, code = "rate_limit_exceeded"): Step => ({
    _tag: "HttpError",
    status: 429,
    code,
    retryAfter: String(retryAfterSeconds)
  }),
  garbage: (extra: Omit<typeof GarbageStep.Type, "_tag"> = {}): Step => ({ _tag: "Garbage", ...extra }),
  raw: (status: number, body: string, headers: Record<string, string> = {}): Step => ({
    _tag: "Raw",
    status,
    body,
    headers
  }),
  slow: (delayMs: number, step: Step): Step => ({ _tag: "Slow", delayMs, step }),
  reset: (): Step => ({ _tag: "Reset" }),
  oversized: (bytes: number, declareLength = true): Step => ({ _tag: "Oversized", bytes, declareLength })
} as const

/**
 * A write as the simulator received it, for choosing its script.
 *
 * @example
 * ```ts
 * import { defaultScript, type ReceivedWrite, type Step, Steps } from "xquik-write-queue/testing"
 *
 * const scriptFor = (write: ReceivedWrite): ReadonlyArray<Step> =>
 *   write.action === "send_dm" ? [Steps.accepted(), Steps.pending(), Steps.expired()] : defaultScript
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export interface ReceivedWrite {
  readonly action: string
  readonly account: string
  readonly targetId: string | null
  readonly body: Readonly<Record<string, unknown>>
  readonly idempotencyKey: string | null
}

/**
 * The script of a new write: step 0 answers the write itself, the rest answer the status reads in
 * order, and the last step repeats. Fault steps (errors, garbage, resets, slow answers) do not
 * change the action's status.
 *
 * @example
 * ```ts
 * import { type ScriptFor, Steps } from "xquik-write-queue/testing"
 *
 * // Every write from @flaky fails safely; the others succeed.
 * const script: ScriptFor = (write) =>
 *   write.account === "@flaky"
 *     ? [Steps.accepted(), Steps.failed({ safeToRetry: true })]
 *     : [Steps.accepted(), Steps.success()]
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export type ScriptFor = (write: ReceivedWrite) => ReadonlyArray<Step>

/**
 * The default script: accepted, then pending, then success.
 *
 * @example
 * ```ts
 * import { defaultScript, layer, Steps } from "xquik-write-queue/testing"
 *
 * // The default script, but the write's own answer is a 429 first.
 * const SimulatorLive = layer({ script: [Steps.rateLimited(1), ...defaultScript] })
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export const defaultScript: ReadonlyArray<Step> = [Steps.accepted(), Steps.pending(), Steps.success()]

// ---------------------------------------------------------------------------------------------
// options, stats, service
// ---------------------------------------------------------------------------------------------

/**
 * The API key the simulator accepts unless told otherwise. It looks like a real key
 * (`xq_` and 64 hex digits) so leak checks can search for it.
 *
 * @example
 * ```ts
 * import { defaultApiKey } from "xquik-write-queue/testing"
 * import { XquikConfig } from "xquik-write-queue"
 *
 * const ConfigLive = XquikConfig.layer({ apiKey: defaultApiKey, baseUrl: "http://127.0.0.1:8080/api/v1" })
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export const defaultApiKey = `xq_${"5e1f".repeat(16)}`

/**
 * Faults injected at random, each a share of requests (0 to 1), drawn once per request from a
 * seeded generator so that a run can be repeated. On a write, `serverError`, `badGateway` and
 * `tooManyRequests` answer before anything is created (nothing is dispatched), while `reset`,
 * `garbage` and `slow` strike after the write was made: the answer is lost, garbled or late, the
 * hard case for exactly once. On a status read a fault replaces the answer and the action does
 * not move on. `expired` is the share of new writes whose script ends `expired`.
 *
 * @example
 * ```ts
 * import type { Faults } from "xquik-write-queue/testing"
 *
 * // The soak's mix.
 * const faults: Faults = {
 *   seed: 7, serverError: 0.05, badGateway: 0.02, tooManyRequests: 0.02, reset: 0.01,
 *   garbage: 0.01, slow: 0.01, slowMs: 2000, expired: 0.01
 * }
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export interface Faults {
  /** Seed of the generator (default 1). */
  readonly seed?: number
  /** 500 `internal_error`. */
  readonly serverError?: number
  /** 502 with an HTML body, as a proxy answers. */
  readonly badGateway?: number
  /** 429 with `Retry-After: 1`. */
  readonly tooManyRequests?: number
  /** The connection is reset before the answer. */
  readonly reset?: number
  /** A 200 whose body is not JSON. */
  readonly garbage?: number
  /** The right answer, `slowMs` late. */
  readonly slow?: number
  /** Default 2000. */
  readonly slowMs?: number
  /** New writes whose script ends `expired` instead. */
  readonly expired?: number
}

/** The fault kinds, in the order their shares are laid out on [0, 1). */
const faultKinds = ["serverError", "badGateway", "tooManyRequests", "reset", "garbage", "slow"] as const
type FaultKind = (typeof faultKinds)[number]

/** mulberry32: a small seeded generator, good enough to spread faults. */
const seeded = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * How the simulator behaves: the contract it speaks, the credentials it accepts, the scripts of
 * new writes, its pacing and its port.
 *
 * @example
 * ```ts
 * import { type Options, Steps } from "xquik-write-queue/testing"
 *
 * const options: Options = {
 *   contract: "a",
 *   retryAfterSeconds: 0,
 *   pollAfterMs: null,
 *   script: [Steps.accepted(), Steps.success()]
 * }
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** `b` (the live `XWriteAction`, default) or `a` (the seed's records and write bodies). */
  readonly contract?: "a" | "b"
  /** Accepted credentials; by default only {@link defaultApiKey} as `x-api-key`. */
  readonly apiKey?: string
  readonly bearerToken?: string
  readonly sessionCookie?: string
  /** The script of each new write (or one script for all). Default {@link defaultScript}. */
  readonly script?: ScriptFor | ReadonlyArray<Step>
  /** `Retry-After` (seconds) on every 202; 0 omits it. Default 1. */
  readonly retryAfterSeconds?: number
  /** `pollAfterMs` on every pending record (null: none). Default 1000. */
  readonly pollAfterMs?: number | null
  /** How early a poll may arrive before a Retry-After ends without counting as a violation. */
  readonly retryAfterToleranceMs?: number
  /** Keep a log of every request (default true). */
  readonly keepLog?: boolean
  readonly port?: number
  /** The API base path. Default `/api/v1`. */
  readonly basePath?: string
  /** The first write action id handed out (then counting up). Default 1000. */
  readonly firstWriteActionId?: number
  /** Faults injected at random on every request; none by default. */
  readonly faults?: Faults
}

/**
 * One request the simulator received.
 *
 * @example
 * ```ts
 * import type { LoggedRequest } from "xquik-write-queue/testing"
 *
 * const statusReads = (log: ReadonlyArray<LoggedRequest>): number =>
 *   log.filter((request) => request.method === "GET" && request.writeActionId !== null).length
 * ```
 *
 * @since 0.1.0
 * @category stats
 */
export interface LoggedRequest {
  /** Arrival, in ms from effect's `Clock`. */
  readonly at: number
  readonly method: string
  readonly path: string
  writeActionId: string | null
  readonly idempotencyKey: string | null
  /** What was answered: `202 pending_confirmation`, `reset`, `429`, `aborted`, … */
  answer: string
}

/**
 * What the simulator saw.
 *
 * @example
 * ```ts
 * import type { Stats } from "xquik-write-queue/testing"
 *
 * const keptPromises = (stats: Stats): boolean =>
 *   stats.pollsAfterTerminal === 0 && stats.duplicateDispatches === 0 && stats.retryAfterViolations === 0
 * ```
 *
 * @since 0.1.0
 * @category stats
 */
export interface Stats {
  readonly requests: number
  /** Status reads per write action id. */
  readonly pollsById: Readonly<Record<string, number>>
  /** Status reads of an action after it was answered terminal. Must stay 0. */
  readonly pollsAfterTerminal: number
  /** Status reads of an id that arrived while another read of the same id was in flight. */
  readonly overlappingPolls: number
  /** Requests for an id that came before the Retry-After the simulator gave for it. */
  readonly retryAfterViolations: number
  /** Write requests per Idempotency-Key, replays included. */
  readonly sendsByKey: Readonly<Record<string, number>>
  /** Writes that created an action (one per key in contract B). */
  readonly dispatches: number
  /** Same-key, same-body writes answered with the existing record. */
  readonly replays: number
  /** Same-key, different-body writes (409). */
  readonly conflicts: number
  /** Extra dispatches of the same account and body under another key (or none). Must stay 0. */
  readonly duplicateDispatches: number
  /** Requests refused for a missing or wrong credential. */
  readonly unauthorized: number
  /** Requests whose client went away before the answer. */
  readonly aborted: number
  /** Faults injected at random (see {@link Faults}), by kind; `expired` counts scripts. */
  readonly faults: Readonly<Record<string, number>>
}

/**
 * Seeds an action the status endpoint knows, without a write.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type SeedOptions, Steps, XquikSimulator } from "xquik-write-queue/testing"
 *
 * const options: SeedOptions = { id: "42", action: "send_dm", steps: [Steps.pending(), Steps.success()] }
 * const seeded = Effect.flatMap(XquikSimulator, (simulator) => simulator.seed(options))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SeedOptions {
  /** Default: the next numeric id. */
  readonly id?: string
  readonly action?: string
  readonly account?: string
  /** The answers to the status reads, in order; the last repeats. */
  readonly steps: ReadonlyArray<Step>
}

/**
 * The simulator's interface: its URLs and API key, seeding actions, changing the script,
 * its statistics and its request log.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { XquikSimulatorShape } from "xquik-write-queue/testing"
 *
 * const pollsOf = (simulator: XquikSimulatorShape, id: string) =>
 *   Effect.map(simulator.stats, (stats) => stats.pollsById[id] ?? 0)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface XquikSimulatorShape {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** `http://127.0.0.1:<port>/api/v1`: the base URL a client is configured with. */
  readonly baseUrl: string
  readonly apiKey: string
  readonly seed: (options: SeedOptions) => Effect.Effect<string>
  readonly setScript: (script: ScriptFor | ReadonlyArray<Step>) => Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
  readonly log: Effect.Effect<ReadonlyArray<LoggedRequest>>
  /** Waits until at least `n` requests have arrived in all. */
  readonly awaitRequests: (n: number) => Effect.Effect<void>
}

/**
 * The simulator service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { layer, Steps, XquikSimulator } from "xquik-write-queue/testing"
 *
 * const baseUrl = Effect.gen(function* () {
 *   const simulator = yield* XquikSimulator
 *   yield* simulator.setScript([Steps.accepted(), Steps.failed()])
 *   return simulator.baseUrl
 * }).pipe(Effect.provide(layer()))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class XquikSimulator extends Context.Tag("xquik-write-queue/testing/XquikSimulator")<
  XquikSimulator,
  XquikSimulatorShape
>() {}

// ---------------------------------------------------------------------------------------------
// internals
// ---------------------------------------------------------------------------------------------

interface SimAction {
  readonly id: string
  readonly action: string
  readonly account: string
  readonly targetId: string | null
  readonly targetType: string | null
  readonly payload: Readonly<Record<string, unknown>> | null
  readonly hash: string
  readonly key: string | null
  readonly createdAt: number
  readonly script: ReadonlyArray<Step>
  cursor: number
  current: typeof StatusStep.Type
  terminalAnswered: boolean
  confirmationAttempts: number
  resultId: string | null
  inFlight: number
  notBefore: number
  expiresAt: number | null
}

const isTerminalStatus = (s: string) => s === "success" || s === "failed" || s === "expired"

const creditsFor = (action: string): string =>
  action === "create_tweet" ? "30" : action === "send_dm" ? "20" : action === "delete_tweet" ? "5" : "10"

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v
  )

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")

interface Route {
  readonly kind: "status" | "write"
  readonly action: string
  readonly id: string | null
  readonly targetType: string | null
}

const decodeSegment = (s: string): string | null => {
  try {
    return decodeURIComponent(s)
  } catch {
    return null
  }
}

const route = (method: string, segments: ReadonlyArray<string>): Route | undefined => {
  const [a, b, c, d, ...rest] = segments
  if (rest.length > 0 || a !== "x") return undefined
  const id = c === undefined ? null : decodeSegment(c)
  if (c !== undefined && id === null) return undefined
  if (b === "write-actions" && c !== undefined && d === undefined && method === "GET") {
    return { kind: "status", action: "", id, targetType: null }
  }
  const write = (action: string, targetType: string | null): Route => ({ kind: "write", action, id, targetType })
  if (b === "tweets") {
    if (c === undefined && method === "POST") return write("create_tweet", null)
    if (c !== undefined && d === undefined && method === "DELETE") return write("delete_tweet", "tweet")
    if (d === "like")
      return method === "POST" ? write("like", "tweet") : method === "DELETE" ? write("unlike", "tweet") : undefined
    if (d === "retweet") {
      return method === "POST"
        ? write("retweet", "tweet")
        : method === "DELETE"
          ? write("unretweet", "tweet")
          : undefined
    }
    return undefined
  }
  if (b === "users" && c !== undefined) {
    if (d === "follow")
      return method === "POST" ? write("follow", "user") : method === "DELETE" ? write("unfollow", "user") : undefined
    if (d === "remove-follower" && method === "POST") return write("remove_follower", "user")
    return undefined
  }
  if (b === "dm" && c !== undefined && d === undefined && method === "POST") return write("send_dm", "user")
  return undefined
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(body, { status, headers })

// ---------------------------------------------------------------------------------------------
// the server
// ---------------------------------------------------------------------------------------------

/**
 * Starts the simulator on 127.0.0.1 (port 0 unless told) for the life of the scope.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { make } from "xquik-write-queue/testing"
 *
 * // The server stops when the scope closes.
 * const requests = Effect.scoped(
 *   Effect.gen(function* () {
 *     const simulator = yield* make({ contract: "a" })
 *     return (yield* simulator.stats).requests
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<XquikSimulatorShape, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function* () {
    const contract = options.contract ?? "b"
    const basePath = (options.basePath ?? "/api/v1").replace(/\/+$/, "")
    const apiKey = options.apiKey ?? defaultApiKey
    const retryAfterSeconds = options.retryAfterSeconds ?? 1
    const pollAfterMs = options.pollAfterMs === undefined ? 1000 : options.pollAfterMs
    const tolerance = options.retryAfterToleranceMs ?? 5
    const keepLog = options.keepLog ?? true
    let scriptFor: ScriptFor = toScriptFor(options.script ?? defaultScript)

    const actions = new Map<string, SimAction>()
    const byKey = new Map<string, SimAction>()
    const keysByHash = new Map<string, number>()
    const pollsById: Record<string, number> = {}
    const sendsByKey: Record<string, number> = {}
    const log: Array<LoggedRequest> = []
    const counters = {
      requests: 0,
      pollsAfterTerminal: 0,
      overlappingPolls: 0,
      retryAfterViolations: 0,
      dispatches: 0,
      replays: 0,
      conflicts: 0,
      duplicateDispatches: 0,
      unauthorized: 0,
      aborted: 0
    }
    const faultOptions = options.faults ?? {}
    const random = seeded(faultOptions.seed ?? 1)
    const injected: Record<string, number> = {}
    const count = (kind: string) => {
      injected[kind] = (injected[kind] ?? 0) + 1
    }
    // One draw per request: which fault, if any, strikes it.
    const drawFault = (): FaultKind | undefined => {
      if (options.faults === undefined) return undefined
      let r = random()
      for (const kind of faultKinds) {
        const share = faultOptions[kind] ?? 0
        if (r < share) return kind
        r -= share
      }
      return undefined
    }
    // The end of the last Retry-After given to a key, for the writes that carry it.
    const keyNotBefore = new Map<string, number>()
    let nextId = options.firstWriteActionId ?? 1000
    let nextResult = 2052816150136832166n
    const waiters: Array<{ readonly n: number; readonly deferred: Deferred.Deferred<void> }> = []

    const authorized = (headers: Readonly<Record<string, string | undefined>>): boolean => {
      const key = headers["x-api-key"] ?? headers["xquik-api-key"]
      if (key !== undefined) return key === apiKey
      const auth = headers.authorization
      if (auth !== undefined) {
        const token = auth.startsWith("Bearer ") ? auth.slice(7) : undefined
        return token !== undefined && (token === options.bearerToken || token === apiKey)
      }
      const cookie = headers.cookie
      if (cookie !== undefined && options.sessionCookie !== undefined) {
        return cookie.split(/;\s*/).some((part) => part === `__Host-xquik_session=${options.sessionCookie}`)
      }
      return false
    }

    const statusUrl = (id: string) => `${basePath}/x/write-actions/${encodeURIComponent(id)}`

    const recordOf = (a: SimAction, now: number, replay: boolean): Record<string, unknown> => {
      const step = a.current
      const status = step.status
      const terminal = step.terminal ?? isTerminalStatus(status)
      const success = status === "success"
      const planned = creditsFor(a.action)
      const charged = success
      const chargedCredits = success ? (step.chargedCredits ?? planned) : "0"
      const resultType =
        a.action === "send_dm" ? "direct_message" : a.action === "create_tweet" ? "tweet" : "state_change"
      const compat: Record<string, unknown> = {}
      if (success && a.resultId !== null) {
        if (resultType === "tweet") compat.tweetId = a.resultId
        else if (resultType === "direct_message") compat.messageId = a.resultId
        else compat.resultId = a.resultId
      }
      const mediaUrls = Array.isArray(a.payload?.media) ? a.payload.media.length : 0
      const media = {
        count: mediaUrls,
        credits: String(mediaUrls * 2),
        kind: mediaUrls > 0 ? "image" : "none",
        totalBytes: String(mediaUrls * 834921)
      }
      const message = step.message !== undefined ? { message: step.message } : {}
      if (contract === "a") {
        return {
          writeActionId: a.id,
          action: a.action,
          status: status === "accepted" || status === "dispatching" ? "pending_confirmation" : status,
          charged,
          chargedCredits,
          media,
          sendDispatched: true,
          retryable: false,
          confirmationAttempts: a.confirmationAttempts,
          confirmationSource: success ? "timeline" : null,
          targetId: a.targetId,
          createdAt: new Date(a.createdAt).toISOString(),
          confirmationCheckedAt: new Date(now).toISOString(),
          ...(success ? { confirmedAt: new Date(now).toISOString() } : {}),
          ...compat,
          ...message
        }
      }
      const poll = step.pollAfterMs !== undefined ? step.pollAfterMs : pollAfterMs
      const safeToRetry = status === "failed" ? (step.safeToRetry ?? false) : false
      return {
        object: "x_write_action",
        id: a.id,
        writeActionId: a.id,
        action: a.action,
        status,
        terminal,
        retryable: safeToRetry,
        safeToRetry,
        statusUrl: statusUrl(a.id),
        pollAfterMs: terminal ? null : poll,
        charged,
        chargedCredits,
        billing: {
          status: charged ? "charged" : terminal ? "not_charged" : "pending",
          charged,
          plannedCredits: planned,
          chargedCredits
        },
        request: { hash: a.hash, payload: a.payload },
        account: { id: sha256(a.account).slice(0, 12), username: a.account.replace(/^@/, "") },
        target: a.targetId === null || a.targetType === null ? null : { type: a.targetType, id: a.targetId },
        targetId: a.targetId,
        result: success ? { type: resultType, id: a.resultId ?? undefined } : null,
        nextAction:
          step.nextAction !== undefined
            ? step.nextAction
            : terminal
              ? status === "failed" && safeToRetry
                ? { type: "retry", requiresNewIdempotencyKey: true }
                : status === "expired"
                  ? { type: "verify_result" }
                  : null
              : { type: "poll", url: statusUrl(a.id), ...(poll === null ? {} : { afterMs: poll }) },
        sendDispatched: status !== "accepted",
        success,
        idempotent: replay,
        createdAt: new Date(a.createdAt).toISOString(),
        updatedAt: new Date(now).toISOString(),
        ...(terminal ? { completedAt: new Date(now).toISOString() } : {}),
        ...(a.expiresAt !== null ? { expiresAt: new Date(a.expiresAt).toISOString() } : {}),
        confirmationAttempts: a.confirmationAttempts,
        ...(status !== "accepted" ? { sendDispatchedAt: new Date(a.createdAt).toISOString() } : {}),
        ...(success && mediaUrls > 0 ? { media } : {}),
        ...(step.error !== undefined ? { error: step.error } : {}),
        ...compat,
        ...message
      }
    }

    /** Answers with the action's current record, and remembers what it promised the client. */
    const answerRecord = (a: SimAction, now: number, replay: boolean, entry: LoggedRequest) => {
      const step = a.current
      const terminal = step.terminal ?? isTerminalStatus(step.status)
      const headers: Record<string, string> = { "x-request-id": `req_${counters.requests}`, ...(step.headers ?? {}) }
      const wait = step.retryAfter ?? retryAfterSeconds
      if (!terminal) {
        headers.location = statusUrl(a.id)
        if (wait > 0) {
          headers["retry-after"] = String(wait)
          a.notBefore = now + wait * 1000
        }
      } else {
        a.terminalAnswered = true
      }
      const status = step.httpStatus ?? (terminal ? 200 : 202)
      entry.answer = `${status} ${step.status}`
      if (contract === "a" && entry.method !== "GET") {
        // Contract A writes answered a pending write with x_write_unconfirmed, and a success
        // with a bare result body.
        if (!terminal) {
          return json(
            202,
            {
              error: "x_write_unconfirmed",
              status: "pending_confirmation",
              writeActionId: a.id,
              charged: false,
              retryable: false,
              message: "The write was sent but is not confirmed yet. Poll its status; do not resend."
            },
            headers
          )
        }
        if (step.status === "success") {
          const id = a.resultId ?? ""
          return json(
            200,
            {
              ...(a.action === "send_dm" ? { messageId: id } : { tweetId: id }),
              success: true,
              charged: true,
              chargedCredits: step.chargedCredits ?? creditsFor(a.action)
            },
            headers
          )
        }
      }
      return json(status, recordOf(a, now, replay), headers)
    }

    const errorAnswer = (
      step: typeof HttpErrorStep.Type,
      a: SimAction | undefined,
      now: number,
      entry: LoggedRequest
    ) => {
      const headers: Record<string, string> = { "x-request-id": `req_${counters.requests}` }
      const seconds =
        step.retryAfter !== undefined && /^\d+$/.test(step.retryAfter) ? Number(step.retryAfter) : undefined
      if (step.retryAfter !== undefined) headers["retry-after"] = step.retryAfter
      if (a !== undefined && seconds !== undefined) a.notBefore = now + seconds * 1000
      if (step.status === 401) headers["www-authenticate"] = 'Bearer realm="xquik"'
      entry.answer = `${step.status} ${step.code}`
      return json(
        step.status,
        {
          error: step.code,
          message: step.message ?? `Simulated ${step.code}.`,
          success: false,
          charged: false,
          chargedCredits: "0",
          retryable: step.safeToRetry ?? false,
          safeToRetry: step.safeToRetry ?? false,
          nextAction:
            step.status === 429
              ? { type: "retry", ...(seconds !== undefined ? { afterMs: seconds * 1000 } : {}) }
              : a !== undefined
                ? { type: "poll", url: statusUrl(a.id) }
                : { type: step.safeToRetry === true ? "retry" : "fix_request" },
          ...(step.status === 429 && seconds !== undefined ? { retryAfter: seconds } : {}),
          ...(a !== undefined ? { writeActionId: a.id, statusUrl: statusUrl(a.id) } : {})
        },
        headers
      )
    }

    /** Plays one step. Fault steps leave the action as it was. */
    const play = (
      request: HttpServerRequest.HttpServerRequest,
      step: Step,
      a: SimAction | undefined,
      entry: LoggedRequest,
      replay: boolean
    ): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        switch (step._tag) {
          case "Status": {
            if (a === undefined) return json(500, { error: "internal_error" })
            a.current = step
            a.confirmationAttempts++
            if (step.status === "success" && a.resultId === null) {
              a.resultId = step.resultId ?? String(nextResult++)
            }
            if (step.expiresInMs !== undefined) a.expiresAt = now + step.expiresInMs
            return answerRecord(a, now, replay, entry)
          }
          case "HttpError":
            return errorAnswer(step, a, now, entry)
          case "Garbage":
            entry.answer = `${step.status ?? 200} garbage`
            return HttpServerResponse.text(step.body ?? "<html><body><h1>502 Bad Gateway</h1></body></html>", {
              status: step.status ?? 200,
              contentType: step.contentType ?? "text/html"
            })
          case "Raw":
            entry.answer = `${step.status} raw`
            return HttpServerResponse.text(step.body, {
              status: step.status,
              headers: step.headers ?? {},
              contentType: step.headers?.["content-type"] ?? "application/json"
            })
          case "Reset": {
            entry.answer = "reset"
            NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
            // The request is over: end the handler here (a handler left waiting would keep the
            // read counted in flight, and the server from closing).
            return yield* Effect.interrupt
          }
          case "Oversized": {
            entry.answer = `200 oversized ${step.bytes}`
            const chunk = new Uint8Array(64 * 1024).fill(0x20)
            if (step.declareLength) {
              return HttpServerResponse.uint8Array(new Uint8Array(step.bytes).fill(0x20), {
                status: 200,
                contentType: "application/json"
              })
            }
            const chunks = Math.ceil(step.bytes / chunk.length)
            return HttpServerResponse.stream(Stream.repeatValue(chunk).pipe(Stream.take(chunks)), {
              status: 200,
              contentType: "application/json"
            })
          }
          case "Slow": {
            yield* Effect.sleep(step.delayMs)
            return yield* play(request, step.step, a, entry, replay)
          }
        }
      })

    /** The answer of a fault that replaces the real one (all but `slow`). */
    const faultAnswer = (
      request: HttpServerRequest.HttpServerRequest,
      kind: Exclude<FaultKind, "slow">,
      a: SimAction | undefined,
      key: string | null,
      entry: LoggedRequest,
      now: number
    ): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
      count(kind)
      switch (kind) {
        case "serverError":
          return Effect.succeed(
            errorAnswer({ _tag: "HttpError", status: 500, code: "internal_error", safeToRetry: true }, a, now, entry)
          )
        case "badGateway":
          entry.answer = "502 bad gateway"
          return Effect.succeed(
            HttpServerResponse.text("<html><body><h1>502 Bad Gateway</h1></body></html>", {
              status: 502,
              contentType: "text/html"
            })
          )
        case "tooManyRequests": {
          if (key !== null && a === undefined) keyNotBefore.set(key, now + 1000)
          return Effect.succeed(
            errorAnswer(
              { _tag: "HttpError", status: 429, code: "rate_limited", retryAfter: "1", safeToRetry: true },
              a,
              now,
              entry
            )
          )
        }
        case "reset":
          return play(request, { _tag: "Reset" }, a, entry, false)
        case "garbage":
          entry.answer = "200 garbage"
          return Effect.succeed(
            HttpServerResponse.text('{"object":"x_write_action","id":"', {
              status: 200,
              contentType: "application/json"
            })
          )
      }
    }

    const arrive = (entry: LoggedRequest) => {
      counters.requests++
      if (keepLog) log.push(entry)
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i]
        if (w !== undefined && counters.requests >= w.n) {
          waiters.splice(i, 1)
          Deferred.unsafeDone(w.deferred, Exit.void)
        }
      }
    }

    const handleStatus = (
      request: HttpServerRequest.HttpServerRequest,
      id: string,
      entry: LoggedRequest,
      fault: FaultKind | undefined
    ) =>
      Effect.gen(function* () {
        const now = entry.at
        pollsById[id] = (pollsById[id] ?? 0) + 1
        const a = actions.get(id)
        if (a === undefined) {
          entry.answer = "404 not_found"
          return json(404, { error: "not_found", message: "Write action not found." })
        }
        if (a.terminalAnswered) counters.pollsAfterTerminal++
        if (a.inFlight > 0) counters.overlappingPolls++
        if (now < a.notBefore - tolerance) counters.retryAfterViolations++
        a.inFlight++
        const answer = Effect.suspend(() => {
          // A fault replaces the answer, and the action does not move on.
          if (fault !== undefined && fault !== "slow") return faultAnswer(request, fault, a, null, entry, now)
          // The first step answered the write; reads play the rest, and the last one repeats.
          a.cursor = Math.min(a.cursor + 1, a.script.length - 1)
          const step = a.script[a.cursor] ?? a.current
          return play(request, step, a, entry, false)
        })
        const slow =
          fault === "slow"
            ? Effect.zipRight(
                Effect.sync(() => count("slow")),
                Effect.zipRight(Effect.sleep(faultOptions.slowMs ?? 2000), answer)
              )
            : answer
        return yield* slow.pipe(Effect.ensuring(Effect.sync(() => a.inFlight--)))
      })

    const fieldError = (path: string, message: string, entry: LoggedRequest) => {
      entry.answer = "400 invalid_input"
      return json(400, {
        error: "invalid_input",
        message: "Invalid input. Check request fields.",
        charged: false,
        chargedCredits: "0",
        retryable: false,
        safeToRetry: true,
        success: false,
        nextAction: { type: "fix_request" },
        fieldErrors: [{ path, code: "invalid_input", message }]
      })
    }

    const handleWrite = (request: HttpServerRequest.HttpServerRequest, r: Route, entry: LoggedRequest) =>
      Effect.gen(function* () {
        const now = entry.at
        const text = yield* Effect.orElseSucceed(request.text, () => "")
        let body: unknown
        try {
          body = JSON.parse(text)
        } catch {
          return fieldError("$", "body must be JSON", entry)
        }
        if (typeof body !== "object" || body === null || Array.isArray(body))
          return fieldError("$", "expected an object", entry)
        const fields: Record<string, unknown> = { ...body }
        if (typeof fields.account !== "string" || fields.account === "") return fieldError("account", "required", entry)
        if (r.action === "send_dm" && (typeof fields.text !== "string" || fields.text === "")) {
          return fieldError("text", "required", entry)
        }
        if (r.action === "create_tweet" && typeof fields.text !== "string" && !Array.isArray(fields.media)) {
          return fieldError("text", "a tweet needs text or media", entry)
        }
        const key = request.headers["idempotency-key"] ?? null
        if (contract === "b") {
          if (key === null) {
            entry.answer = "400 missing_idempotency_key"
            return json(400, {
              error: "missing_idempotency_key",
              message: "Idempotency-Key header is required.",
              safeToRetry: true,
              retryable: false,
              success: false,
              charged: false,
              chargedCredits: "0",
              nextAction: { type: "fix_request" }
            })
          }
          if (!/^[!-~]{1,255}$/.test(key)) {
            entry.answer = "400 invalid_idempotency_key"
            return json(400, {
              error: "invalid_idempotency_key",
              message: "Idempotency-Key must be 1-255 printable ASCII.",
              safeToRetry: true,
              retryable: false,
              success: false,
              charged: false,
              chargedCredits: "0",
              nextAction: { type: "fix_request" }
            })
          }
          sendsByKey[key] = (sendsByKey[key] ?? 0) + 1
        }
        const targetId = r.id ?? (typeof fields.reply_to_tweet_id === "string" ? fields.reply_to_tweet_id : null)
        const { account, ...payload } = fields
        const hash = sha256(canonical({ account, action: r.action, target: targetId, payload }))
        if (contract === "b" && key !== null) {
          const existing = byKey.get(key)
          if (existing !== undefined) {
            if (existing.hash !== hash) {
              counters.conflicts++
              entry.answer = "409 idempotency_conflict"
              return json(409, {
                error: "idempotency_conflict",
                message: "Idempotency-Key was already used with a different request.",
                charged: false,
                chargedCredits: "0",
                safeToRetry: true,
                retryable: false,
                success: false,
                nextAction: { type: "retry", requiresNewIdempotencyKey: true }
              })
            }
            counters.replays++
            entry.writeActionId = existing.id
            return answerRecord(existing, now, true, entry)
          }
        }
        const scripted = scriptFor({
          action: r.action,
          account: String(account),
          targetId,
          body: fields,
          idempotencyKey: key
        })
        const expires = options.faults !== undefined && random() < (faultOptions.expired ?? 0)
        if (expires) count("expired")
        const script = expires ? [Steps.accepted(), Steps.pending(), Steps.expired()] : scripted
        const first = script[0] ?? Steps.accepted()
        const innermost = (s: Step): Step => (s._tag === "Slow" ? innermost(s.step) : s)
        const head = innermost(first)
        // A pre-dispatch error creates nothing; anything else (or an error that says it was
        // dispatched) creates the action.
        if (head._tag === "HttpError" && head.dispatched !== true)
          return yield* play(request, first, undefined, entry, false)
        const id = String(nextId++)
        const a: SimAction = {
          id,
          action: r.action,
          account: String(account),
          targetId,
          targetType: r.targetType ?? (targetId !== null ? "tweet" : null),
          payload,
          hash,
          key,
          createdAt: now,
          script: script.length > 0 ? script : [Steps.accepted()],
          cursor: 0,
          current: { _tag: "Status", status: "accepted" },
          terminalAnswered: false,
          confirmationAttempts: 0,
          resultId: null,
          inFlight: 0,
          notBefore: 0,
          expiresAt: null
        }
        actions.set(id, a)
        if (key !== null && contract === "b") byKey.set(key, a)
        counters.dispatches++
        const seen = keysByHash.get(hash) ?? 0
        if (seen > 0) counters.duplicateDispatches++
        keysByHash.set(hash, seen + 1)
        entry.writeActionId = id
        return yield* play(request, first, a, entry, false)
      })

    const app = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const at = yield* Clock.currentTimeMillis
      const url = request.url
      const q = url.indexOf("?")
      const path = q === -1 ? url : url.slice(0, q)
      const entry: LoggedRequest = {
        at,
        method: request.method,
        path,
        writeActionId: null,
        idempotencyKey: request.headers["idempotency-key"] ?? null,
        answer: "pending"
      }
      arrive(entry)
      // A client that hangs up before the whole answer was written (not our own resets).
      const response = NodeHttpServerRequest.toServerResponse(request)
      response.once("close", () => {
        if (!response.writableEnded && entry.answer !== "reset") {
          counters.aborted++
          entry.answer = `${entry.answer} (aborted)`
        }
      })
      if (!authorized(request.headers)) {
        counters.unauthorized++
        entry.answer = "401 unauthenticated"
        return json(
          401,
          { error: "unauthenticated", message: "Authentication required. Provide a valid API key or bearer token." },
          { "www-authenticate": 'Bearer realm="xquik"', "cache-control": "no-store" }
        )
      }
      const r = path.startsWith(`${basePath}/`)
        ? route(request.method, path.slice(basePath.length + 1).split("/"))
        : undefined
      if (r === undefined) {
        entry.answer = "404 not_found"
        return json(404, { error: "not_found", message: "Resource not found." })
      }
      const fault = drawFault()
      if (r.kind === "status") {
        entry.writeActionId = r.id
        return yield* handleStatus(request, r.id ?? "", entry, fault)
      }
      const key = entry.idempotencyKey
      if (key !== null && at < (keyNotBefore.get(key) ?? 0) - tolerance) counters.retryAfterViolations++
      // Faults before the write: nothing is created.
      if (fault === "serverError" || fault === "badGateway" || fault === "tooManyRequests") {
        return yield* faultAnswer(request, fault, undefined, key, entry, at)
      }
      const answer = yield* handleWrite(request, r, entry)
      // Faults after the write: it was made, and its answer is lost, garbled or late.
      if (fault === "reset" || fault === "garbage") return yield* faultAnswer(request, fault, undefined, key, entry, at)
      if (fault === "slow") {
        count("slow")
        yield* Effect.sleep(faultOptions.slowMs ?? 2000)
      }
      return answer
    })

    const nodeServer = Http.createServer()
    const server = yield* NodeHttpServer.make(() => nodeServer, { port: options.port ?? 0, host: "127.0.0.1" })
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
    yield* server.serve(app)
    const address = server.address
    const port = address._tag === "TcpAddress" ? address.port : 0
    const origin = `http://127.0.0.1:${port}`

    const shape: XquikSimulatorShape = {
      url: origin,
      baseUrl: `${origin}${basePath}`,
      apiKey,
      seed: (seed) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const id = seed.id ?? String(nextId++)
          const a: SimAction = {
            id,
            action: seed.action ?? "create_tweet",
            account: seed.account ?? "@simulated",
            targetId: null,
            targetType: null,
            payload: null,
            hash: sha256(`seed:${id}`),
            key: null,
            createdAt: now,
            // A seeded action was never written here: its reads play the script from the first step.
            script: [Steps.accepted(), ...(seed.steps.length > 0 ? seed.steps : [Steps.pending()])],
            cursor: 0,
            current: { _tag: "Status", status: "accepted" },
            terminalAnswered: false,
            confirmationAttempts: 0,
            resultId: null,
            inFlight: 0,
            notBefore: 0,
            expiresAt: null
          }
          actions.set(id, a)
          return id
        }),
      setScript: (script) =>
        Effect.sync(() => {
          scriptFor = toScriptFor(script)
        }),
      stats: Effect.sync(() => ({
        ...counters,
        pollsById: { ...pollsById },
        sendsByKey: { ...sendsByKey },
        faults: { ...injected }
      })),
      log: Effect.sync(() => log.slice()),
      awaitRequests: (n) =>
        Effect.suspend(() => {
          if (counters.requests >= n) return Effect.void
          return Effect.flatMap(Deferred.make<void>(), (deferred) => {
            waiters.push({ n, deferred })
            return Deferred.await(deferred)
          })
        })
    }
    return shape
  })

const toScriptFor = (script: ScriptFor | ReadonlyArray<Step>): ScriptFor =>
  typeof script === "function" ? script : () => script

/**
 * The simulator as a scoped layer.
 *
 * @example
 * ```ts
 * import { layer, Steps } from "xquik-write-queue/testing"
 *
 * const SimulatorLive = layer({ script: [Steps.accepted(), Steps.pending(), Steps.success()], retryAfterSeconds: 0 })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<XquikSimulator, HttpServerError.ServeError> =>
  Layer.scoped(XquikSimulator, make(options))

/**
 * The simulator plus an {@link XquikClient.XquikClient} (and its {@link XquikConfig.XquikConfig})
 * pointed at it with its API key: everything a test of the client needs.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Polling } from "xquik-write-queue"
 * import { layerWithClient, Steps, XquikSimulator } from "xquik-write-queue/testing"
 *
 * const test = Effect.gen(function* () {
 *   const simulator = yield* XquikSimulator
 *   const id = yield* simulator.seed({ steps: [Steps.pending(), Steps.success()] })
 *   yield* Polling.awaitOutcome(id).pipe(Effect.provide(Polling.layer))
 *   return (yield* simulator.stats).pollsAfterTerminal // 0
 * }).pipe(Effect.provide(layerWithClient({ retryAfterSeconds: 0 })))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithClient = (
  options: Options = {},
  config: Omit<XquikConfig.Options, "baseUrl"> = {}
): Layer.Layer<
  XquikSimulator | XquikClient.XquikClient | XquikConfig.XquikConfig,
  HttpServerError.ServeError | ConfigError
> => {
  const sim = layer(options)
  const configLayer = Layer.unwrapEffect(
    Effect.map(XquikSimulator, (s) =>
      XquikConfig.layer({
        ...(config.bearerToken === undefined && config.sessionCookie === undefined && config.apiKey === undefined
          ? { apiKey: s.apiKey }
          : {}),
        ...config,
        baseUrl: s.baseUrl
      })
    )
  )
  const withConfig = Layer.provideMerge(configLayer, sim)
  return Layer.provideMerge(XquikClient.layerNode, withConfig)
}

/**
 * A running simulator outside of Effect: its URL and a `stop` function.
 *
 * @example
 * ```ts
 * import { type Running, start } from "xquik-write-queue/testing"
 *
 * const withSimulator = async <A>(use: (running: Running) => Promise<A>): Promise<A> => {
 *   const running = await start()
 *   try {
 *     return await use(running)
 *   } finally {
 *     await running.stop()
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Running {
  readonly url: string
  readonly baseUrl: string
  readonly apiKey: string
  readonly simulator: XquikSimulatorShape
  readonly stop: () => Promise<void>
}

/**
 * Starts the simulator from plain code.
 *
 * @example
 * ```ts
 * import { start } from "xquik-write-queue/testing"
 *
 * const main = async () => {
 *   const simulator = await start({ contract: "a" })
 *   console.log(`XQUIK_BASE_URL=${simulator.baseUrl} XQUIK_API_KEY=${simulator.apiKey}`)
 *   await simulator.stop()
 * }
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = async (options: Options = {}): Promise<Running> => {
  const scope = Effect.runSync(Scope.make())
  const simulator = await Effect.runPromise(Scope.extend(make(options), scope))
  return {
    url: simulator.url,
    baseUrl: simulator.baseUrl,
    apiKey: simulator.apiKey,
    simulator,
    stop: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

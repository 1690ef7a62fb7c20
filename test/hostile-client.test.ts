/**
 * Hostile answers over real HTTP: the real client (`XquikClient.layerNode`, undici) against a
 * node:http server on 127.0.0.1 whose answer each property run sets. Whatever the server sends,
 * the client gives a value or a typed `XquikError`: never a defect, never a hang, and never a
 * request to another origin.
 */
import type * as Http from "node:http"
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { parseRetryAfter } from "../src/internal/answer.js"
import * as WriteAction from "../src/WriteAction.js"
import * as WriteRequest from "../src/WriteRequest.js"
import {
  layerNode,
  parseWriteActionId,
  resolveStatusUrl,
  XquikClient,
  type XquikClientShape
} from "../src/XquikClient.js"
import * as XquikConfig from "../src/XquikConfig.js"
import * as XquikError from "../src/XquikError.js"
import {
  answer,
  headerSafe,
  hostileId,
  hostileString,
  mutatedRecordJson,
  recordJson,
  startLoopback
} from "./hostile-support.js"
import { eventually, liveSleep } from "./support.js"

const apiKey = `xq_${"c0ffee00".repeat(8)}`
const main = await startLoopback()
/** Another origin: it must never see a request. */
const other = await startLoopback()

afterAll(async () => {
  expect(other.seen).toEqual([])
  await main.close()
  await other.close()
})

const clientLayer = (options: Omit<XquikConfig.Options, "baseUrl" | "apiKey"> = {}) =>
  Layer.provide(layerNode, XquikConfig.layer({ apiKey, baseUrl: main.baseUrl, readRetry: { times: 0 }, ...options }))

const withClient = <A>(
  f: (client: XquikClientShape) => Effect.Effect<A, XquikError.XquikError>,
  options: Omit<XquikConfig.Options, "baseUrl" | "apiKey"> = {}
) => Effect.flatMap(XquikClient, f).pipe(Effect.provide(clientLayer(options)))

/** The exit is a value or a typed `XquikError`: no defect, no interruption, no key in the message. */
const valueOrTyped = <A>(exit: Exit.Exit<A, unknown>): Either.Either<A, XquikError.XquikError> => {
  if (Exit.isSuccess(exit)) return Either.right(exit.value)
  const pretty = Cause.pretty(exit.cause)
  expect(Chunk.size(Cause.defects(exit.cause)), pretty).toBe(0)
  expect(Cause.isInterrupted(exit.cause), pretty).toBe(false)
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) throw new Error(`no failure in ${pretty}`)
  const error = failure.value
  if (!XquikError.isXquikError(error)) throw new Error(`not an XquikError: ${pretty}`)
  expect(error.message.length).toBeGreaterThan(10)
  expect(error.message).not.toContain(apiKey)
  return Either.left(error)
}

const utf8 = (text: string): Uint8Array => Buffer.from(text, "utf8")

const seedRecord = (id: string) => ({
  writeActionId: id,
  action: "create_tweet",
  status: "pending_confirmation",
  charged: false,
  chargedCredits: "0",
  sendDispatched: true,
  retryable: false,
  media: { count: 0, credits: "0", kind: "none", totalBytes: "0" },
  createdAt: "2026-05-08T20:00:00.000Z"
})

const statusPrefix = "/api/v1/x/write-actions/"

/** Answers a status read with a record for the id in its path (202), anything else with a 404. */
const recordForPath = (request: Http.IncomingMessage, response: Http.ServerResponse) => {
  const url = request.url ?? ""
  let id: string | undefined
  try {
    id = url.startsWith(statusPrefix) ? decodeURIComponent(url.slice(statusPrefix.length)) : undefined
  } catch {
    id = undefined
  }
  if (id === undefined) return answer(404, '{"error":"not_found"}')(request, response)
  answer(202, JSON.stringify(seedRecord(id)), { "content-type": "application/json" })(request, response)
}

// ---------------------------------------------------------------------------------------------
// 2. any status, any body
// ---------------------------------------------------------------------------------------------

const errorBody = fc.record(
  {
    error: fc.oneof(fc.string(), fc.jsonValue(), fc.record({ code: fc.jsonValue(), message: fc.jsonValue() })),
    message: fc.oneof(hostileString, fc.jsonValue()),
    reason: fc.jsonValue(),
    retryAfter: fc.oneof(fc.double(), fc.jsonValue()),
    retryAfterMs: fc.oneof(fc.double(), fc.jsonValue()),
    safeToRetry: fc.jsonValue(),
    nextAction: fc.oneof(
      fc.record({ type: fc.jsonValue(), url: fc.jsonValue(), afterMs: fc.double() }, { requiredKeys: [] }),
      fc.jsonValue()
    ),
    fieldErrors: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 80 }), fc.jsonValue()),
    writeActionId: fc.jsonValue()
  },
  { requiredKeys: [] }
)

const body: fc.Arbitrary<Uint8Array> = fc.oneof(
  recordJson.map((json) => utf8(JSON.stringify(json))),
  mutatedRecordJson.map((json) => utf8(JSON.stringify(json))),
  recordJson.map((json) => utf8(`\uFEFF${JSON.stringify(json)}`)),
  errorBody.map((json) => utf8(JSON.stringify(json))),
  fc.jsonValue().map((json) => utf8(JSON.stringify(json))),
  hostileString.map(utf8),
  fc.uint8Array({ maxLength: 4096 }),
  fc.integer({ min: 1, max: 200_000 }).map((depth) => utf8(`${"[".repeat(depth)}${"]".repeat(depth)}`)),
  fc.constant(new Uint8Array(0))
)

const status = fc.oneof(
  fc.constantFrom(200, 202, 400, 401, 402, 403, 404, 409, 422, 429, 500, 502, 503, 504),
  fc.integer({ min: 200, max: 599 })
)

const headerValue = hostileString.filter(headerSafe)

const statusTags: Readonly<Record<number, XquikError.XquikError["_tag"]>> = {
  400: "InvalidRequest",
  401: "Unauthenticated",
  402: "PaymentRequired",
  403: "Forbidden",
  404: "NotFound",
  409: "IdempotencyConflict",
  422: "Unprocessable",
  429: "RateLimited"
}

/** What the client must make of a read answered with this status and body. */
const expected = (
  code: number,
  bytes: Uint8Array
):
  | { readonly tag: "record"; readonly record: WriteAction.WriteAction }
  | { readonly tag: string; fieldPath?: string } => {
  if (code !== 200 && code !== 202) {
    return {
      tag: statusTags[code] ?? (code >= 500 ? "ServerError" : code >= 400 ? "InvalidRequest" : "MalformedResponse")
    }
  }
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return { tag: "MalformedResponse", fieldPath: "$" }
  }
  return Either.match(WriteAction.decode(json), {
    onLeft: (failure) => ({ tag: "MalformedResponse", fieldPath: failure.fieldPath }),
    onRight: (record) => ({ tag: "record", record })
  })
}

describe("any status and any body", () => {
  it.live.prop(
    "getWriteAction gives the record or the status's typed error, never a defect",
    {
      code: status,
      bytes: body,
      chunked: fc.boolean(),
      requestId: fc.option(headerValue, { nil: undefined }),
      contentType: fc.option(headerValue, { nil: undefined })
    },
    ({ code, bytes, chunked, requestId, contentType }) =>
      Effect.gen(function* () {
        main.handle = (_request, response) => {
          response.statusCode = code
          if (requestId !== undefined) response.setHeader("x-request-id", requestId)
          if (contentType !== undefined) response.setHeader("content-type", contentType)
          if (chunked) response.write(bytes)
          response.end(chunked ? undefined : bytes)
        }
        const before = main.seen.length
        const exit = yield* Effect.exit(withClient((client) => client.getWriteAction("42"), { timeout: "5 seconds" }))
        const result = valueOrTyped(exit)
        expect(main.seen.length - before).toBe(1)
        const want = expected(code, bytes)
        // 204 and 304 carry no body: whatever was meant to be in it, the status decides.
        if (want.tag === "record" && "record" in want) {
          expect(Either.isRight(result) && result.right.record).toEqual(want.record)
          expect(Either.isRight(result) && result.right.httpStatus).toBe(code)
          return
        }
        if (Either.isRight(result)) throw new Error(`expected ${want.tag}, got a record`)
        expect(result.left._tag).toBe(want.tag)
        if ("fieldPath" in want && want.fieldPath !== undefined) {
          expect(result.left).toMatchObject({ fieldPath: want.fieldPath })
        }
      }),
    { fastCheck: { numRuns: 200 } }
  )

  it.live("a UTF-8 byte order mark before a record is read the same with a Content-Length or chunked", () =>
    Effect.gen(function* () {
      const text = `\uFEFF${JSON.stringify(seedRecord("42"))}`
      for (const chunked of [false, true]) {
        main.handle = (_request, response) => {
          response.statusCode = 202
          if (chunked) response.write(text)
          response.end(chunked ? undefined : text)
        }
        const observation = yield* withClient((client) => client.getWriteAction("42"))
        expect(observation.record.writeActionId, chunked ? "chunked" : "content-length").toBe("42")
      }
    })
  )
})

// ---------------------------------------------------------------------------------------------
// 3. any Retry-After
// ---------------------------------------------------------------------------------------------

const day = 24 * 3600 * 1000

const retryAfter: fc.Arbitrary<string | ReadonlyArray<string>> = fc.oneof(
  fc.nat({ max: 200_000 }).map(String),
  fc.integer({ min: -1_000_000, max: -1 }).map(String),
  fc.double().map(String),
  fc.bigInt({ min: 0n, max: 10n ** 80n }).map(String),
  fc.date({ min: new Date(0), max: new Date(3 * day) }).map((d) => d.toUTCString()),
  fc.date().map((d) => (Number.isNaN(d.getTime()) ? "Invalid Date" : d.toUTCString())),
  fc.constantFrom(
    "",
    " ",
    "1.5",
    "0",
    " 7 ",
    "1,2",
    "5, 6",
    "1e3",
    "0x10",
    "soon",
    "Infinity",
    "NaN",
    "-0",
    "9".repeat(64)
  ),
  headerValue,
  fc.array(fc.nat({ max: 100 }).map(String), { minLength: 2, maxLength: 3 })
)

/** Runs the fiber to its end, moving the TestClock to each sleep of up to a day; fails on a hang. */
const drive = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, onTick: (now: number) => void) =>
  Effect.gen(function* () {
    const started = Date.now()
    for (;;) {
      const now = yield* TestClock.currentTimeMillis
      onTick(now)
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) return done.value
      const due = Chunk.toReadonlyArray(yield* TestClock.sleeps()).filter((t) => t >= now && t <= now + day + 1000)
      if (due.length > 0) yield* TestClock.adjust(Math.min(...due) - now)
      else yield* liveSleep(1)
      if (Date.now() - started > 10_000) return yield* Effect.dieMessage("the client hung")
    }
  })

describe("any Retry-After", () => {
  it.effect.prop(
    "a 429/5xx read waits what the header says (clamped to 24 h), else the backoff, then retries or fails typed",
    {
      answers: fc.array(
        fc.record({
          code: fc.constantFrom(429, 500, 502, 503, 504),
          retryAfter: fc.option(retryAfter, { nil: undefined })
        }),
        { minLength: 1, maxLength: 4 }
      ),
      thenRecord: fc.boolean(),
      times: fc.integer({ min: 1, max: 3 })
    },
    ({ answers, thenRecord, times }) =>
      Effect.gen(function* () {
        let served = 0
        main.handle = (request, response) => {
          const next = answers[Math.min(served, answers.length - 1)]
          served++
          if (next === undefined || (thenRecord && served > answers.length)) {
            return answer(202, JSON.stringify(seedRecord("42")))(request, response)
          }
          const code =
            next.code === 429 ? "rate_limit_exceeded" : next.code === 500 ? "internal_error" : "x_api_unavailable"
          answer(
            next.code,
            JSON.stringify({ error: code }),
            next.retryAfter === undefined ? {} : { "retry-after": next.retryAfter }
          )(request, response)
        }
        const before = main.seen.length
        const times_: Array<number> = []
        const base = 100
        const cap = 1000
        const fiber = yield* Effect.fork(
          Effect.exit(
            withClient((client) => client.getWriteAction("42"), {
              // Far past every wait the driver moves the clock to: a finished request's timeout
              // stays among the TestClock's sleeps, and one within a day would be mistaken for a
              // wait of the client while its next answer is still on the wire.
              timeout: "30 days",
              readRetry: { times, base: Duration.millis(base), cap: Duration.millis(cap) }
            })
          )
        )
        const exit = yield* drive(fiber, (now) => {
          while (main.seen.length - before > times_.length) times_.push(now)
        })
        const result = valueOrTyped(Exit.isSuccess(exit) ? exit.value : Exit.die("the driver failed"))
        const requests = thenRecord ? Math.min(times + 1, answers.length + 1) : times + 1
        expect(main.seen.length - before).toBe(requests)
        expect(times_).toHaveLength(requests)
        if (thenRecord && answers.length <= times) expect(Either.isRight(result)).toBe(true)
        else {
          const last = answers[Math.min(requests - 1, answers.length - 1)]
          expect(Either.isLeft(result) && result.left._tag).toBe(last?.code === 429 ? "RateLimited" : "ServerError")
        }
        // Each wait: exactly the header's delay when it has one, else the jittered backoff.
        for (let k = 0; k + 1 < requests; k++) {
          const header = answers[Math.min(k, answers.length - 1)]?.retryAfter
          const at = times_[k] ?? 0
          const waited = (times_[k + 1] ?? 0) - at
          const hinted = parseRetryAfter(
            header === undefined ? undefined : typeof header === "string" ? header : header.join(", "),
            at
          )
          if (Option.isSome(hinted)) expect(waited).toBeCloseTo(Duration.toMillis(hinted.value), 3)
          else {
            const full = Math.min(base * 2 ** k, cap)
            expect(waited).toBeGreaterThanOrEqual(Math.round(full * 0.5))
            expect(waited).toBeLessThanOrEqual(full)
          }
          expect(waited).toBeLessThanOrEqual(day)
        }
      }),
    { fastCheck: { numRuns: 150 } }
  )
})

// ---------------------------------------------------------------------------------------------
// 4. any Location / statusUrl
// ---------------------------------------------------------------------------------------------

const location: fc.Arbitrary<string> = fc.oneof(
  fc
    .record({
      scheme: fc.constantFrom("http:", "https:", "HTTP:", "ftp:", "javascript:", "file:", "data:", ""),
      slashes: fc.constantFrom("//", "/", "", "\\\\", "/\\", "///"),
      userinfo: fc.constantFrom("", "user@", "user:pw@", ":@", "@", `${apiKey}@`),
      host: fc.constantFrom(
        "127.0.0.1",
        "localhost",
        "[::1]",
        "127.1",
        "0x7f.1",
        "2130706433",
        "127.0.0.1.",
        "127.0.0.2",
        "evil.example",
        "127.0.0.1%2f",
        ""
      ),
      port: fc.constantFrom(
        `:${main.port}`,
        `:${other.port}`,
        `:${main.port + 1}`,
        `:0${main.port}`,
        "",
        ":",
        ":80",
        ":65536"
      ),
      path: fc.constantFrom(
        "/api/v1/x/write-actions/",
        "/api/v1/x/write-actions",
        "/api/v2/x/write-actions/",
        "/API/v1/x/write-actions/",
        "/api/v1/x/write-actions/../",
        "/api/v1/x/./write-actions/",
        "/api/v1//x/write-actions/",
        "/api/v1/x/write-actions/%2e%2e/",
        "/api/v1/x/write-actions/./",
        "/api/v1%2fx/write-actions/"
      ),
      segment: fc.oneof(
        hostileId,
        hostileId.map((id) => (id.length > 0 ? encodeURIComponent(id.replace(/[\uD800-\uDFFF]/g, "")) : id))
      ),
      suffix: fc.constantFrom("", "/", "?x=1", "#f", "/like", "%2F1", "?", "#", "%00", " ")
    })
    .map((p) => `${p.scheme}${p.slashes}${p.userinfo}${p.host}${p.port}${p.path}${p.segment}${p.suffix}`),
  fc
    .record({
      path: fc.constantFrom("/api/v1/x/write-actions/", "api/v1/x/write-actions/", "x/write-actions/"),
      id: hostileId
    })
    .map(({ path, id }) => `${path}${id}`),
  hostileString,
  fc.webUrl({ withQueryParameters: true, withFragments: true })
)

/** A status URL gives the record of the id it names on the configured origin, or is refused. */
const checkFollowed = (client: XquikClientShape, url: string, before: number, exit: Exit.Exit<unknown, unknown>) => {
  const result = valueOrTyped(exit as Exit.Exit<WriteAction.Observation, unknown>)
  expect(other.seen).toEqual([])
  const resolved = resolveStatusUrl(client.config, url)
  let target: URL | undefined
  try {
    target = new URL(url, client.config.origin)
  } catch {
    target = undefined
  }
  if (target === undefined || target.origin !== client.config.origin) {
    expect(Either.isLeft(resolved) && resolved.left._tag).toBe("CrossOriginStatusUrl")
  }
  if (Either.isLeft(resolved)) {
    expect(Either.isLeft(result) && result.left._tag).toBe(resolved.left._tag)
    expect(main.seen.length).toBe(before)
    return
  }
  expect(main.seen.length).toBe(before + 1)
  expect(main.seen.at(-1)?.url).toBe(`${statusPrefix}${encodeURIComponent(resolved.right)}`)
  expect(Either.isRight(result) && result.right.record.writeActionId).toBe(resolved.right)
}

describe("any Location", () => {
  it.live("a Location on another host, port or scheme is refused without a request to it", () =>
    Effect.gen(function* () {
      main.handle = recordForPath
      const before = main.seen.length
      const foreign = [
        `${other.origin}${statusPrefix}42`,
        `//127.0.0.1:${other.port}${statusPrefix}42`,
        `http://localhost:${main.port}${statusPrefix}42`,
        `https://127.0.0.1:${main.port}${statusPrefix}42`,
        `http://127.0.0.1:${main.port + 1}${statusPrefix}42`,
        `http://${apiKey}@127.0.0.1:${main.port}${statusPrefix}42`
      ]
      for (const url of foreign) {
        const exit = yield* Effect.exit(withClient((client) => client.getWriteActionAt(url)))
        const result = valueOrTyped(exit)
        expect(Either.isLeft(result) && result.left._tag, url).toBe("CrossOriginStatusUrl")
        expect(Either.isLeft(result) && result.left.message, url).not.toContain(apiKey)
      }
      expect(other.seen).toEqual([])
      expect(main.seen.length).toBe(before)
    })
  )

  it.live.prop(
    "getWriteActionAt(any URL): the record on the configured origin, or refused before any request",
    [location],
    ([url]) =>
      Effect.gen(function* () {
        main.handle = recordForPath
        const before = main.seen.length
        yield* withClient((client) =>
          Effect.map(Effect.exit(client.getWriteActionAt(url)), (exit) => checkFollowed(client, url, before, exit))
        )
      }),
    { fastCheck: { numRuns: 300 } }
  )

  it.live.prop(
    "a 202 write answer with any Location keeps it as data; following it is the record or a refusal",
    [location.filter(headerSafe)],
    ([value]) =>
      Effect.gen(function* () {
        main.handle = (request, response) =>
          request.method === "POST"
            ? answer(202, JSON.stringify(seedRecord("42")), { location: value, "retry-after": "1" })(request, response)
            : recordForPath(request, response)
        const before = main.seen.length
        yield* withClient((client) =>
          Effect.gen(function* () {
            const submitted = yield* client.submit(
              WriteRequest.tweet({ account: "@acme", text: "hello" }),
              WriteRequest.IdempotencyKey.make()
            )
            if (submitted._tag !== "Recorded") throw new Error(submitted._tag)
            expect(submitted.observation.record.writeActionId).toBe("42")
            // The client never follows a write's Location by itself.
            expect(main.seen.length).toBe(before + 1)
            const kept = submitted.observation.location
            expect(Option.isSome(kept)).toBe(true)
            // Up to the whitespace around it (the parser's business); bytes over 0x7f in a header
            // are opaque (Node sends UTF-8, undici reads Latin-1).
            if (/^[\t\u0020-\u007e]*$/.test(value)) {
              const ows = (text: string) => text.replace(/^[\t ]+|[\t ]+$/g, "")
              expect(ows(Option.getOrElse(kept, () => ""))).toBe(ows(value))
            }
            const url = Option.getOrElse(kept, () => "")
            const exit = yield* Effect.exit(client.getWriteActionAt(url))
            checkFollowed(client, url, before + 1, exit)
          })
        )
      }),
    { fastCheck: { numRuns: 150 } }
  )
})

// ---------------------------------------------------------------------------------------------
// 5. any id
// ---------------------------------------------------------------------------------------------

describe("any id", () => {
  it.live.prop(
    "a valid id reaches the server as exactly one encoded path segment; an invalid one makes no request",
    [hostileId],
    ([id]) =>
      Effect.gen(function* () {
        main.handle = recordForPath
        const before = main.seen.length
        const exit = yield* Effect.exit(withClient((client) => client.getWriteAction(id)))
        const result = valueOrTyped(exit)
        if (Either.isLeft(parseWriteActionId(id))) {
          expect(Either.isLeft(result) && result.left._tag).toBe("InvalidWriteActionId")
          expect(main.seen.length).toBe(before)
          return
        }
        expect(main.seen.length).toBe(before + 1)
        const path = main.seen.at(-1)?.url ?? ""
        expect(path.startsWith(statusPrefix)).toBe(true)
        const segment = path.slice(statusPrefix.length)
        expect(segment).not.toMatch(/[/?#]/)
        expect(decodeURIComponent(segment)).toBe(id)
        expect(Either.isRight(result) && result.right.record.writeActionId).toBe(id)
      }),
    { fastCheck: { numRuns: 300 } }
  )
})

// ---------------------------------------------------------------------------------------------
// 7. the size cap, enforced while the body is read
// ---------------------------------------------------------------------------------------------

interface Streamed {
  written: number
  closedEarly: boolean
  finished: boolean
}

const total = 50 * 1024 * 1024

/** Streams 50 MiB in 64 KiB chunks, as fast as the client reads or one chunk every `everyMs`. */
const streamHuge =
  (state: Streamed, options: { declareLength: boolean; everyMs?: number }) =>
  (_request: Http.IncomingMessage, response: Http.ServerResponse) => {
    const chunk = Buffer.alloc(64 * 1024, "x")
    response.writeHead(200, {
      "content-type": "application/json",
      ...(options.declareLength ? { "content-length": String(total) } : {})
    })
    response.on("close", () => {
      if (!state.finished) state.closedEarly = true
    })
    const pump = () => {
      while (state.written < total && !response.destroyed) {
        const ok = response.write(chunk)
        state.written += chunk.length
        if (options.everyMs !== undefined) {
          setTimeout(pump, options.everyMs)
          return
        }
        if (!ok) {
          response.once("drain", pump)
          return
        }
      }
      if (state.written >= total && !response.destroyed) {
        state.finished = true
        response.end()
      }
    }
    pump()
  }

describe("the response size cap", () => {
  const cases: Array<[string, { declareLength: boolean; everyMs?: number }]> = [
    ["a 50 MiB chunked body", { declareLength: false }],
    ["a 50 MiB body with its Content-Length", { declareLength: true }],
    ["a slowly streamed chunked body (64 KiB every 2 ms)", { declareLength: false, everyMs: 2 }]
  ]
  for (const [name, options] of cases) {
    it.live(`${name} is cut off: ResponseTooLarge, and the server saw the connection close mid-body`, () =>
      Effect.gen(function* () {
        const state: Streamed = { written: 0, closedEarly: false, finished: false }
        main.handle = streamHuge(state, options)
        const exit = yield* Effect.exit(withClient((client) => client.getWriteAction("42")))
        const result = valueOrTyped(exit)
        expect(Either.isLeft(result) && result.left).toMatchObject({
          _tag: "ResponseTooLarge",
          limitBytes: 1024 * 1024
        })
        yield* eventually(
          Effect.sync(() => state.closedEarly),
          "the server to see the connection close"
        )
        expect(state.finished).toBe(false)
        expect(state.written).toBeLessThan(total)
      })
    )
  }

  it.live.prop(
    "a body up to the cap is read; one byte more is ResponseTooLarge (chunked or with a Content-Length)",
    {
      cap: fc.integer({ min: 1024, max: 64 * 1024 }),
      over: fc.integer({ min: -2048, max: 2048 }),
      chunked: fc.boolean()
    },
    ({ cap, over, chunked }) =>
      Effect.gen(function* () {
        const json = JSON.stringify(seedRecord("42"))
        const size = Math.max(json.length, cap + over)
        // Trailing spaces keep it JSON.
        const text = json.padEnd(size, " ")
        main.handle = (_request, response) => {
          response.statusCode = 202
          if (chunked) response.write(text)
          response.end(chunked ? undefined : text)
        }
        const exit = yield* Effect.exit(withClient((client) => client.getWriteAction("42"), { maxResponseBytes: cap }))
        const result = valueOrTyped(exit)
        if (size <= cap) expect(Either.isRight(result)).toBe(true)
        else expect(Either.isLeft(result) && result.left._tag).toBe("ResponseTooLarge")
      }),
    { fastCheck: { numRuns: 100 } }
  )
})

// ---------------------------------------------------------------------------------------------
// 8. a huge response header
// ---------------------------------------------------------------------------------------------

describe("a huge response header", () => {
  const junk = "a".repeat(64 * 1024)

  it.live(
    "a 64 KiB response header is over Node's 16 KiB header limit (undici uses http.maxHeaderSize): a typed Transport error (UND_ERR_HEADERS_OVERFLOW), never a defect",
    () =>
      Effect.gen(function* () {
        main.handle = answer(202, JSON.stringify(seedRecord("42")), { "x-junk": junk })
        const before = main.seen.length
        const exit = yield* Effect.exit(
          withClient((client) => client.getWriteAction("42"), { readRetry: { times: 2, base: Duration.millis(1) } })
        )
        const result = valueOrTyped(exit)
        expect(Either.isLeft(result) && result.left).toMatchObject({
          _tag: "Transport",
          mayHaveDispatched: false,
          reason: expect.stringContaining("UND_ERR_HEADERS_OVERFLOW")
        })
        // A read is retried like any transport failure, and each retry meets the same header.
        expect(main.seen.length - before).toBe(3)
      })
  )

  it.live("a 64 KiB header on a write's answer: Transport, may have dispatched, replayed only with the same key", () =>
    Effect.gen(function* () {
      main.handle = answer(202, JSON.stringify(seedRecord("42")), { "x-junk": junk })
      const before = main.seen.length
      const key = WriteRequest.IdempotencyKey.make()
      const exit = yield* Effect.exit(
        withClient((client) => client.submit(WriteRequest.tweet({ account: "@acme", text: "hello" }), key))
      )
      const result = valueOrTyped(exit)
      expect(Either.isLeft(result) && result.left).toMatchObject({ _tag: "Transport", mayHaveDispatched: true })
      const sent = main.seen.slice(before)
      expect(sent.length).toBeGreaterThanOrEqual(1)
      for (const request of sent) expect(request.headers["idempotency-key"]).toBe(key)
    })
  )

  it.live("an 8 KiB response header is within the limit and the answer is read", () =>
    Effect.gen(function* () {
      main.handle = answer(202, JSON.stringify(seedRecord("42")), { "x-junk": "a".repeat(8 * 1024) })
      const observation = yield* withClient((client) => client.getWriteAction("42"))
      expect(observation.record.writeActionId).toBe("42")
    })
  )
})

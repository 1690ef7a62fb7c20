import * as Net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { parseRetryAfter } from "../src/internal/answer.js"
import * as Sim from "../src/testing/XquikSimulator.js"
import * as WriteAction from "../src/WriteAction.js"
import * as WriteRequest from "../src/WriteRequest.js"
import { layerNode, resolveStatusUrl, XquikClient, type XquikClientShape } from "../src/XquikClient.js"
import * as XquikConfig from "../src/XquikConfig.js"
import type * as XquikError from "../src/XquikError.js"
import { awaitSleepers, captureLogs, recordingTracer } from "./support.js"

const { Steps } = Sim

type Test<A, E> = (sim: Sim.XquikSimulatorShape, client: XquikClientShape) => Effect.Effect<A, E>

const withClient = <A, E>(test: Test<A, E>, sim: Sim.Options = {}, config: Omit<XquikConfig.Options, "baseUrl"> = {}) =>
  Effect.gen(function* () {
    return yield* test(yield* Sim.XquikSimulator, yield* XquikClient)
  }).pipe(Effect.provide(Sim.layerWithClient(sim, config)))

const noRetries = { readRetry: { times: 0 } }
const clientLayer = (options: XquikConfig.Options) => Layer.provide(layerNode, XquikConfig.layer(options))
const tweet = WriteRequest.tweet({ account: "@acme", text: "hello" })

/** A raw TCP server on a free loopback port for the test's scope, each connection given to `onSocket`. */
const tcpServer = (onSocket: (socket: Net.Socket) => void) =>
  Effect.gen(function* () {
    const server = Net.createServer(onSocket)
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.void))
      }),
      () => Effect.sync(() => server.close())
    )
    const address = server.address()
    return typeof address === "object" && address !== null ? address.port : 0
  })

describe("XquikClient.getWriteAction", () => {
  it.effect("returns observations with status, Retry-After, Location, request id and receipt time", () =>
    withClient((sim, client) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.pending({ retryAfter: 3 }), Steps.success()] })
        yield* TestClock.adjust("1500 millis")
        const pending = yield* client.getWriteAction(id)
        expect(pending.httpStatus).toBe(202)
        expect(pending.record.status).toBe("pending_confirmation")
        expect(pending.retryAfter).toEqual(Option.some(Duration.seconds(3)))
        expect(pending.location).toEqual(Option.some(`/api/v1/x/write-actions/${id}`))
        expect(Option.isSome(pending.requestId)).toBe(true)
        expect(pending.receivedAt).toBe(1500)
        const done = yield* client.getWriteAction(id)
        expect(done.httpStatus).toBe(200)
        expect(WriteAction.outcome(done.record)._tag).toBe("Succeeded")
        expect(done.retryAfter).toEqual(Option.none())
      })
    )
  )

  it.effect("keeps an unknown status as pending data", () =>
    withClient((sim, client) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.status("teleported")] })
        const observation = yield* client.getWriteAction(id)
        expect(observation.record.status).toBe("teleported")
        expect(WriteAction.outcome(observation.record)._tag).toBe("Pending")
      })
    )
  )

  it.effect("refuses a bad id before any request", () =>
    withClient((sim, client) =>
      Effect.gen(function* () {
        for (const bad of ["", "a/b", "1?x=1", "1#f", "a\u0000b", "x".repeat(129), " 42"]) {
          const error = yield* Effect.flip(client.getWriteAction(bad))
          expect(error._tag).toBe("InvalidWriteActionId")
        }
        expect((yield* sim.stats).requests).toBe(0)
      })
    )
  )

  it.effect("sends the id as one encoded path segment", () =>
    withClient((sim, client) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ id: "wa 1:ü%", steps: [Steps.pending()] })
        const observation = yield* client.getWriteAction(id)
        expect(observation.record.writeActionId).toBe("wa 1:ü%")
        const [entry] = yield* sim.log
        expect(entry?.path).toBe("/api/v1/x/write-actions/wa%201%3A%C3%BC%25")
      })
    )
  )

  describe("each HTTP status gives its typed error", () => {
    const cases: Array<[string, Sim.Step, XquikError.XquikError["_tag"], Record<string, unknown>]> = [
      ["400", Steps.httpError(400, "invalid_id"), "InvalidRequest", { status: 400, code: "invalid_id" }],
      ["401", Steps.httpError(401, "unauthenticated"), "Unauthenticated", { code: "unauthenticated" }],
      ["402", Steps.httpError(402, "no_credits"), "PaymentRequired", { code: "no_credits" }],
      ["403", Steps.httpError(403, "account_needs_reauth"), "Forbidden", { code: "account_needs_reauth" }],
      ["404", Steps.httpError(404, "not_found"), "NotFound", { code: "not_found" }],
      ["409", Steps.httpError(409, "idempotency_conflict"), "IdempotencyConflict", {}],
      ["418", Steps.httpError(418, "teapot"), "InvalidRequest", { status: 418, code: "teapot" }],
      ["422", Steps.httpError(422, "x_rejected"), "Unprocessable", { code: "x_rejected" }],
      ["429", Steps.rateLimited(7), "RateLimited", { retryAfter: Duration.seconds(7) }],
      ["500", Steps.httpError(500, "internal_error"), "ServerError", { status: 500, retryable: true }],
      ["501", Steps.httpError(501, "not_implemented"), "ServerError", { status: 501, retryable: false }],
      ["502", Steps.httpError(502, "x_api_unavailable"), "ServerError", { status: 502, retryable: true }],
      ["503", Steps.httpError(503, "write_tracking_unavailable"), "ServerError", { status: 503, retryable: true }],
      ["504", Steps.httpError(504, "gateway_timeout"), "ServerError", { status: 504, retryable: true }],
      ["302", Steps.raw(302, "", { location: "https://evil.example/x" }), "MalformedResponse", { status: 302 }],
      ["200 garbage", Steps.garbage(), "MalformedResponse", { status: 200, fieldPath: "$" }],
      [
        "200 bad field",
        Steps.raw(200, JSON.stringify({ object: "x_write_action", id: "1" }), { "x-request-id": "req_42" }),
        "MalformedResponse",
        {
          fieldPath: "$.writeActionId",
          requestId: "req_42",
          message: expect.stringContaining("report request id req_42")
        }
      ]
    ]
    for (const [name, step, tag, fields] of cases) {
      it.effect(`${name} → ${tag}`, () =>
        withClient(
          (sim, client) =>
            Effect.gen(function* () {
              const id = yield* sim.seed({ steps: [step] })
              const error = yield* Effect.flip(client.getWriteAction(id))
              expect(error._tag).toBe(tag)
              expect(error).toMatchObject(fields)
              expect(error.message.length).toBeGreaterThan(20)
              if ("mayHaveDispatched" in error) expect(error.mayHaveDispatched).toBe(false)
            }),
          {},
          noRetries
        )
      )
    }
  })

  it.effect("retries transient failures, then fails with the last error", () =>
    withClient(
      (sim, client) =>
        Effect.gen(function* () {
          const id = yield* sim.seed({ steps: [Steps.httpError(503, "x_api_unavailable")] })
          const fiber = yield* Effect.fork(client.getWriteAction(id))
          for (let n = 1; n <= 3; n++) {
            yield* sim.awaitRequests(n)
            yield* awaitSleepers()
            yield* TestClock.adjust("5 seconds")
          }
          const exit = yield* Fiber.await(fiber)
          expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject(
            Option.some({ _tag: "ServerError", status: 503 })
          )
          expect((yield* sim.stats).requests).toBe(4)
        }),
      {},
      { readRetry: { times: 3 } }
    )
  )

  it.effect("never retries a 4xx read", () =>
    withClient((sim, client) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.httpError(404, "not_found")] })
        expect((yield* Effect.flip(client.getWriteAction(id)))._tag).toBe("NotFound")
        expect((yield* sim.stats).requests).toBe(1)
      })
    )
  )

  it.live("retries a connection reset", () =>
    withClient((sim, client) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.reset(), Steps.pending()] })
        const observation = yield* client.getWriteAction(id)
        expect(observation.record.status).toBe("pending_confirmation")
        expect((yield* sim.stats).pollsById[id]).toBe(2)
      })
    )
  )

  describe("Retry-After", () => {
    it("reads seconds, HTTP dates, and clamps to [0, 24 h]; garbage is ignored", () => {
      const now = Date.parse("2026-12-04T12:00:00Z")
      expect(parseRetryAfter("5", now)).toEqual(Option.some(Duration.seconds(5)))
      expect(parseRetryAfter(" 0 ", now)).toEqual(Option.some(Duration.zero))
      expect(parseRetryAfter("1.5", now)).toEqual(Option.some(Duration.millis(1500)))
      expect(parseRetryAfter("Fri, 04 Dec 2026 12:00:30 GMT", now)).toEqual(Option.some(Duration.seconds(30)))
      expect(parseRetryAfter("Friday, 04-Dec-26 12:01:00 GMT", now)).toEqual(Option.some(Duration.seconds(60)))
      expect(parseRetryAfter("Fri Dec  4 12:00:10 2026", now)).toEqual(Option.some(Duration.seconds(10)))
      expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:00 GMT", now)).toEqual(Option.some(Duration.zero))
      expect(parseRetryAfter("99999999999", now)).toEqual(Option.some(Duration.hours(24)))
      expect(parseRetryAfter("Fri, 01 Jan 2100 00:00:00 GMT", now)).toEqual(Option.some(Duration.hours(24)))
      for (const garbage of ["soon", "-5", "", "1e3", "5s", "0x10", "Fri, 32 Dec 2026 99:00:00 GMT", "a".repeat(100)]) {
        expect(parseRetryAfter(garbage, now)).toEqual(Option.none())
      }
      expect(parseRetryAfter(undefined, now)).toEqual(Option.none())
    })

    const waitsBeforeRetry = (header: string, expectedMs: number) =>
      withClient((sim, client) =>
        Effect.gen(function* () {
          const id = yield* sim.seed({
            steps: [Steps.httpError(429, "rate_limit_exceeded", { retryAfter: header }), Steps.pending()]
          })
          const fiber = yield* Effect.fork(client.getWriteAction(id))
          yield* sim.awaitRequests(1)
          yield* awaitSleepers()
          yield* TestClock.adjust(expectedMs - 1)
          expect((yield* sim.stats).requests).toBe(1)
          yield* TestClock.adjust(1)
          const observation = yield* Fiber.join(fiber)
          expect(observation.record.status).toBe("pending_confirmation")
          const log = yield* sim.log
          expect(log.map((e) => e.at)).toEqual([0, expectedMs])
        })
      )

    it.effect("a 429 read waits exactly Retry-After seconds", () => waitsBeforeRetry("2", 2000))
    it.effect("a 429 read waits until a Retry-After date", () =>
      waitsBeforeRetry("Thu, 01 Jan 1970 00:00:03 GMT", 3000)
    )
    it.effect("a huge Retry-After is clamped to 24 h", () => waitsBeforeRetry("999999999", 24 * 3600 * 1000))

    it.effect("a garbage Retry-After falls back to the jittered backoff", () =>
      withClient(
        (sim, client) =>
          Effect.gen(function* () {
            const id = yield* sim.seed({
              steps: [Steps.httpError(429, "rate_limit_exceeded", { retryAfter: "soon" }), Steps.pending()]
            })
            const fiber = yield* Effect.fork(client.getWriteAction(id))
            yield* sim.awaitRequests(1)
            yield* awaitSleepers()
            // Base 400 ms, jitter in [0.5, 1]: the retry comes between 200 and 400 ms.
            yield* TestClock.adjust(199)
            expect((yield* sim.stats).requests).toBe(1)
            yield* TestClock.adjust(201)
            yield* Fiber.join(fiber)
            const [, second] = yield* sim.log
            expect(second?.at).toBeGreaterThanOrEqual(200)
            expect(second?.at).toBeLessThanOrEqual(400)
          }),
        {},
        { readRetry: { base: Duration.millis(400) } }
      )
    )
  })

  describe("the response size cap", () => {
    it.effect("refuses a declared body over the cap", () =>
      withClient(
        (sim, client) =>
          Effect.gen(function* () {
            const id = yield* sim.seed({ steps: [Steps.oversized(2 * 1024 * 1024, true)] })
            const error = yield* Effect.flip(client.getWriteAction(id))
            expect(error).toMatchObject({ _tag: "ResponseTooLarge", limitBytes: 1024 * 1024 })
          }),
        {},
        noRetries
      )
    )

    it.live("cuts off a chunked body while it is read", () =>
      withClient(
        (sim, client) =>
          Effect.gen(function* () {
            const id = yield* sim.seed({ steps: [Steps.oversized(64 * 1024 * 1024, false)] })
            const error = yield* Effect.flip(client.getWriteAction(id))
            expect(error).toMatchObject({ _tag: "ResponseTooLarge", limitBytes: 1024 * 1024 })
            // The server was still sending its 64 MiB when the client hung up.
            yield* Effect.sleep("100 millis")
            expect((yield* sim.stats).aborted).toBe(1)
          }),
        {},
        noRetries
      )
    )

    it.effect("reads a record just under the cap", () =>
      withClient((sim, client) =>
        Effect.gen(function* () {
          const id = yield* sim.seed({ steps: [Steps.pending()] })
          const [recorded] = yield* Effect.map(client.getWriteAction(id), (o) => [o.record])
          const big = JSON.stringify({ ...recorded, details: { blob: "x".repeat(1024 * 1024 - 4096) } })
          expect(big.length).toBeLessThan(1024 * 1024)
          const id2 = yield* sim.seed({ steps: [Steps.raw(202, big)] })
          const observation = yield* client.getWriteAction(id2)
          expect(observation.record.writeActionId).toBe(id)
        })
      )
    )
  })

  describe("getWriteActionAt", () => {
    it.effect("follows a relative Location on the configured origin", () =>
      withClient((sim, client) =>
        Effect.gen(function* () {
          const id = yield* sim.seed({ steps: [Steps.pending()] })
          const observation = yield* client.getWriteActionAt(`/api/v1/x/write-actions/${id}`)
          expect(observation.record.writeActionId).toBe(id)
          const absolute = yield* client.getWriteActionAt(`${sim.baseUrl}/x/write-actions/${id}`)
          expect(absolute.record.writeActionId).toBe(id)
        })
      )
    )

    it.effect("refuses other hosts, schemes, paths and credentials without a request", () =>
      withClient((sim, client) =>
        Effect.gen(function* () {
          const port = new URL(sim.url).port
          const refused = [
            "https://evil.example/api/v1/x/write-actions/1",
            "//evil.example/api/v1/x/write-actions/1",
            `http://localhost:${port}/api/v1/x/write-actions/1`,
            `http://127.0.0.1:${Number(port) + 1}/api/v1/x/write-actions/1`,
            `https://127.0.0.1:${port}/api/v1/x/write-actions/1`,
            `http://user:pw@127.0.0.1:${port}/api/v1/x/write-actions/1`,
            "/api/v1/x/write-actions/../../admin",
            "/api/v2/x/write-actions/1",
            "/api/v1/x/write-actions/1/cancel",
            "/api/v1/x/write-actions/1?redirect=https://evil.example",
            "/api/v1/x/write-actions/",
            "javascript:alert(1)",
            "file:///etc/passwd",
            ""
          ]
          for (const url of refused) {
            const error = yield* Effect.flip(client.getWriteActionAt(url))
            expect(error._tag, url).toBe("CrossOriginStatusUrl")
          }
          const encodedSlash = yield* Effect.flip(client.getWriteActionAt("/api/v1/x/write-actions/a%2Fb"))
          expect(encodedSlash._tag).toBe("InvalidWriteActionId")
          expect((yield* sim.stats).requests).toBe(0)
        })
      )
    )

    it("resolves only ids under the base path", () => {
      const config = { origin: "https://xquik.com", basePath: "/api/v1" }
      expect(resolveStatusUrl(config, "/api/v1/x/write-actions/42")).toEqual(Either.right("42"))
      expect(Either.isLeft(resolveStatusUrl(config, "https://xquik.com.evil.example/api/v1/x/write-actions/42"))).toBe(
        true
      )
      expect(Either.isLeft(resolveStatusUrl(config, "https://xquik.com@evil.example/api/v1/x/write-actions/42"))).toBe(
        true
      )
    })
  })
})

describe("XquikClient.submit", () => {
  it.effect("sends the write with its Idempotency-Key and returns the record", () =>
    withClient((sim, client) =>
      Effect.gen(function* () {
        const key = WriteRequest.IdempotencyKey.make()
        const submitted = yield* client.submit(tweet, key)
        if (submitted._tag !== "Recorded") throw new Error(submitted._tag)
        expect(submitted.observation.httpStatus).toBe(202)
        expect(submitted.observation.record.status).toBe("accepted")
        expect(submitted.idempotentReplay).toBe(false)
        const stats = yield* sim.stats
        expect(stats.sendsByKey).toEqual({ [key]: 1 })
        expect(stats.dispatches).toBe(1)
      })
    )
  )

  it.effect("an idempotent replay returns the same record; another body with the key is a conflict", () =>
    withClient((sim, client) =>
      Effect.gen(function* () {
        const key = WriteRequest.IdempotencyKey.make()
        const first = yield* client.submit(tweet, key)
        const again = yield* client.submit(tweet, key)
        if (first._tag !== "Recorded" || again._tag !== "Recorded") throw new Error("expected records")
        expect(again.observation.record.writeActionId).toBe(first.observation.record.writeActionId)
        expect(again.idempotentReplay).toBe(true)
        const conflict = yield* Effect.flip(client.submit(WriteRequest.tweet({ account: "@acme", text: "other" }), key))
        expect(conflict).toMatchObject({ _tag: "IdempotencyConflict", mayHaveDispatched: false })
        const stats = yield* sim.stats
        expect(stats).toMatchObject({ dispatches: 1, replays: 1, conflicts: 1, duplicateDispatches: 0 })
        expect(stats.sendsByKey[key]).toBe(3)
      })
    )
  )

  it.live("a reset POST is replayed with the SAME key only, and gets the original record", () =>
    withClient(
      (sim, client) =>
        Effect.gen(function* () {
          const key = WriteRequest.IdempotencyKey.make()
          const submitted = yield* client.submit(tweet, key)
          if (submitted._tag !== "Recorded") throw new Error(submitted._tag)
          expect(submitted.replays).toBe(1)
          expect(submitted.idempotentReplay).toBe(true)
          const stats = yield* sim.stats
          expect(stats.sendsByKey).toEqual({ [key]: 2 })
          expect(stats).toMatchObject({ dispatches: 1, replays: 1, duplicateDispatches: 0 })
        }),
      { script: [Steps.reset(), Steps.success()] }
    )
  )

  it.live("replays at most twice with the same key and body, then says the write may have arrived", () =>
    Effect.gen(function* () {
      // A server that reads each request and then drops the connection without an answer.
      const seen: Array<string> = []
      const port = yield* tcpServer((socket) => {
        socket.once("data", (data) => {
          seen.push(data.toString("utf8"))
          socket.destroy()
        })
      })
      const key = WriteRequest.IdempotencyKey.make()
      const error = yield* Effect.flip(
        Effect.flatMap(XquikClient, (client) => client.submit(tweet, key)).pipe(
          Effect.provide(clientLayer({ apiKey: Sim.defaultApiKey, baseUrl: `http://127.0.0.1:${port}/api/v1` }))
        )
      )
      expect(error).toMatchObject({ _tag: "Transport", stage: "request", mayHaveDispatched: true })
      expect(seen).toHaveLength(3)
      const keys = seen.map((request) => /idempotency-key: (.*)\r\n/i.exec(request)?.[1])
      expect(keys).toEqual([key, key, key])
      const bodies = seen.map((request) => request.slice(request.indexOf("\r\n\r\n")))
      expect(new Set(bodies).size).toBe(1)
    }).pipe(Effect.scoped)
  )

  it.live("a refusal of a replay does not clear the doubt the lost first answer left", () =>
    Effect.gen(function* () {
      // The first request is read and dropped unanswered; the replay is refused with a 500 that
      // says a new key would be safe. The first may have arrived: the error must say so.
      let requests = 0
      const port = yield* tcpServer((socket) => {
        socket.once("data", () => {
          requests++
          if (requests === 1) return socket.destroy()
          const body = JSON.stringify({ error: "internal_error", safeToRetry: true, retryable: true })
          socket.end(
            `HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`
          )
        })
      })
      const error = yield* Effect.flip(
        Effect.flatMap(XquikClient, (client) => client.submit(tweet, WriteRequest.IdempotencyKey.make())).pipe(
          Effect.provide(clientLayer({ apiKey: Sim.defaultApiKey, baseUrl: `http://127.0.0.1:${port}/api/v1` }))
        )
      )
      expect(requests).toBe(2)
      expect(error._tag === "Transport" && error.mayHaveDispatched).toBe(true)
      expect(error.message).toContain("500 internal_error")
    }).pipe(Effect.scoped)
  )

  it.live("an unreachable server is a transport error that surely did not dispatch", () =>
    Effect.gen(function* () {
      const port = yield* Effect.async<number>((resume) => {
        const probe = Net.createServer()
        probe.listen(0, "127.0.0.1", () => {
          const address = probe.address()
          probe.close(() => resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 1)))
        })
      })
      const error = yield* Effect.flip(
        Effect.flatMap(XquikClient, (client) => client.submit(tweet, WriteRequest.IdempotencyKey.make())).pipe(
          Effect.provide(clientLayer({ apiKey: Sim.defaultApiKey, baseUrl: `http://127.0.0.1:${port}/api/v1` }))
        )
      )
      expect(error).toMatchObject({ _tag: "Transport", stage: "request", mayHaveDispatched: false })
      expect(error.message).toContain("ECONNREFUSED")
    })
  )

  it.effect("a 500 x_write_ambiguous is never resent and says it may have dispatched", () =>
    withClient(
      (sim, client) =>
        Effect.gen(function* () {
          const key = WriteRequest.IdempotencyKey.make()
          const error = yield* Effect.flip(client.submit(tweet, key))
          expect(error).toMatchObject({
            _tag: "ServerError",
            status: 500,
            code: "x_write_ambiguous",
            mayHaveDispatched: true
          })
          expect(error._tag === "ServerError" && error.writeActionId).toBeTypeOf("string")
          expect((yield* sim.stats).sendsByKey).toEqual({ [key]: 1 })
        }),
      { script: [Steps.httpError(500, "x_write_ambiguous", { dispatched: true })] }
    )
  )

  it.effect("pre-dispatch errors say they did not dispatch", () =>
    withClient(
      (sim, client) =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(client.submit(tweet, WriteRequest.IdempotencyKey.make()))
          expect(error).toMatchObject({ _tag: "ServerError", status: 503, safeToRetry: true, mayHaveDispatched: false })
          expect((yield* sim.stats).dispatches).toBe(0)
        }),
      { script: [Steps.httpError(503, "write_tracking_unavailable", { safeToRetry: true })] }
    )
  )

  it.effect("a 402 with a failed durable record is data", () =>
    withClient(
      (_sim, client) =>
        Effect.gen(function* () {
          const submitted = yield* client.submit(tweet, WriteRequest.IdempotencyKey.make())
          if (submitted._tag !== "Recorded") throw new Error(submitted._tag)
          expect(submitted.observation.httpStatus).toBe(402)
          expect(WriteAction.outcome(submitted.observation.record)).toMatchObject({
            _tag: "Failed",
            errorCode: Option.some("insufficient_credits")
          })
        }),
      { script: [Steps.failed({ httpStatus: 402, error: "insufficient_credits" })] }
    )
  )

  it.effect("a timed-out write is not replayed and may have dispatched", () =>
    withClient(
      (sim, client) =>
        Effect.gen(function* () {
          const key = WriteRequest.IdempotencyKey.make()
          const fiber = yield* Effect.fork(client.submit(tweet, key))
          yield* sim.awaitRequests(1)
          yield* awaitSleepers(2)
          yield* TestClock.adjust("2 seconds")
          const error = yield* Effect.flip(Fiber.join(fiber))
          expect(error).toMatchObject({ _tag: "Timeout", mayHaveDispatched: true })
          expect((yield* sim.stats).sendsByKey).toEqual({ [key]: 1 })
        }),
      { script: [Steps.slow(60_000, Steps.accepted())] },
      { timeout: "2 seconds" }
    )
  )

  it.effect("validates the request before any network call", () =>
    withClient((sim, client) =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(
          client.submit(WriteRequest.like("@acme", "1/2"), WriteRequest.IdempotencyKey.make())
        )
        expect(error).toMatchObject({ _tag: "InvalidRequest", mayHaveDispatched: false })
        expect((yield* sim.stats).requests).toBe(0)
      })
    )
  )

  describe("contract A", () => {
    it.effect("understands the 202 x_write_unconfirmed body and polls the seed's records", () =>
      withClient(
        (_sim, client) =>
          Effect.gen(function* () {
            const submitted = yield* client.submit(tweet, WriteRequest.IdempotencyKey.make())
            if (submitted._tag !== "Unconfirmed") throw new Error(submitted._tag)
            expect(submitted.status).toBe("pending_confirmation")
            const observation = yield* client.getWriteAction(submitted.writeActionId)
            expect(WriteAction.isLive(observation.record)).toBe(false)
            expect(WriteAction.outcome(observation.record)).toMatchObject({
              _tag: "Succeeded",
              resultType: Option.some("tweet")
            })
          }),
        { contract: "a", script: [Steps.pending(), Steps.success()] }
      )
    )

    it.effect("understands a 200 success body without a record", () =>
      withClient(
        (_sim, client) =>
          Effect.gen(function* () {
            const submitted = yield* client.submit(
              WriteRequest.sendDm({ account: "@acme", to: "77", text: "hi" }),
              WriteRequest.IdempotencyKey.make()
            )
            if (submitted._tag !== "Confirmed") throw new Error(submitted._tag)
            expect(submitted).toMatchObject({
              charged: true,
              chargedCredits: "20",
              resultType: Option.some("direct_message")
            })
            expect(Option.isSome(submitted.resultId)).toBe(true)
          }),
        { contract: "a", script: [Steps.success()] }
      )
    )
  })
})

describe("secrets", () => {
  const secretCases: Array<[string, Omit<XquikConfig.Options, "baseUrl">, Sim.Options]> = [
    ["API key", { apiKey: Sim.defaultApiKey }, {}],
    ["bearer token", { bearerToken: "tok_live_SECRET_0123456789" }, { bearerToken: "tok_live_SECRET_0123456789" }],
    ["session cookie", { sessionCookie: "sess_SECRET_0123456789" }, { sessionCookie: "sess_SECRET_0123456789" }]
  ]
  for (const [name, config, simOptions] of secretCases) {
    it.live(`the ${name} never appears in logs, errors, causes or span attributes`, () =>
      Effect.gen(function* () {
        const secret = config.apiKey ?? config.bearerToken ?? config.sessionCookie ?? ""
        const { tracer, spans } = recordingTracer()
        const work = withClient(
          (sim, client) =>
            Effect.gen(function* () {
              const ok = yield* sim.seed({ steps: [Steps.pending()] })
              yield* client.getWriteAction(ok)
              yield* client.submit(tweet, WriteRequest.IdempotencyKey.make())
              const failures = [
                yield* sim.seed({ steps: [Steps.httpError(401, "unauthenticated")] }),
                yield* sim.seed({ steps: [Steps.garbage()] }),
                yield* sim.seed({ steps: [Steps.oversized(2 * 1024 * 1024)] }),
                yield* sim.seed({ steps: [Steps.httpError(500, "internal_error")] })
              ]
              const errors: Array<unknown> = []
              for (const id of failures) {
                const exit = yield* Effect.exit(client.getWriteAction(id))
                errors.push(exit)
                yield* Effect.logError("read failed", exit)
              }
              errors.push(yield* Effect.exit(client.getWriteActionAt("https://evil.example/api/v1/x/write-actions/1")))
              return errors
            }),
          simOptions,
          { ...config, readRetry: { times: 1, base: Duration.millis(1) } }
        ).pipe(Effect.withTracer(tracer))
        const { exit, lines } = yield* captureLogs(Effect.tap(work, (errors) => Effect.logDebug("all exits", errors)))
        expect(Exit.isSuccess(exit)).toBe(true)
        const exits = Exit.isSuccess(exit) ? exit.value : []
        expect(exits.filter((e) => Exit.isExit(e) && Exit.isFailure(e))).toHaveLength(5)
        const texts = [
          ...lines,
          ...exits.flatMap((e) =>
            Exit.isExit(e) && Exit.isFailure(e)
              ? [Cause.pretty(e.cause), JSON.stringify(e.cause), String(Cause.squash(e.cause))]
              : []
          ),
          ...spans.flatMap((s) => [...s.attributes.entries()].map(([k, v]) => `${k}=${String(v)}`))
        ]
        expect(lines.length).toBeGreaterThan(5)
        expect(spans.some((s) => s.name === "XquikClient.getWriteAction")).toBe(true)
        expect(
          spans.some((s) => s.name === "XquikClient.submit" && s.attributes.get("http.response.status_code") === 202)
        ).toBe(true)
        for (const text of texts) expect(text).not.toContain(secret)
      })
    )
  }
})

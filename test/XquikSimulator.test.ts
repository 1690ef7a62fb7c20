import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as Sim from "../src/testing/XquikSimulator.js"
import * as WriteRequest from "../src/WriteRequest.js"
import { XquikClient } from "../src/XquikClient.js"
import { awaitSleepers } from "./support.js"

const { Steps } = Sim

const withSim = <A, E>(
  f: (sim: Sim.XquikSimulatorShape) => Effect.Effect<A, E, XquikClient>,
  options: Sim.Options = {}
) =>
  Effect.flatMap(Sim.XquikSimulator, f).pipe(Effect.provide(Sim.layerWithClient(options, { readRetry: { times: 0 } })))

const fetchJson = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>
    }
  })

describe("XquikSimulator", () => {
  it.effect("refuses a missing or wrong credential with 401 and WWW-Authenticate", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const id = yield* sim.seed({ steps: [Steps.pending()] })
        const none = yield* fetchJson(`${sim.baseUrl}/x/write-actions/${id}`)
        expect(none.status).toBe(401)
        expect(none.headers.get("www-authenticate")).toBe('Bearer realm="xquik"')
        const wrong = yield* fetchJson(`${sim.baseUrl}/x/write-actions/${id}`, { headers: { "x-api-key": "xq_wrong" } })
        expect(wrong.status).toBe(401)
        const alias = yield* fetchJson(`${sim.baseUrl}/x/write-actions/${id}`, {
          headers: { "Xquik-Api-Key": sim.apiKey }
        })
        expect(alias.status).toBe(202)
        expect((yield* sim.stats).unauthorized).toBe(2)
      })
    )
  )

  it.effect("accepts a bearer token and a session cookie when configured", () =>
    withSim(
      (sim) =>
        Effect.gen(function* () {
          const id = yield* sim.seed({ steps: [Steps.pending()] })
          const bearer = yield* fetchJson(`${sim.baseUrl}/x/write-actions/${id}`, {
            headers: { authorization: "Bearer tok" }
          })
          expect(bearer.status).toBe(202)
          const cookie = yield* fetchJson(`${sim.baseUrl}/x/write-actions/${id}`, {
            headers: { cookie: "a=b; __Host-xquik_session=sess" }
          })
          expect(cookie.status).toBe(202)
        }),
      { bearerToken: "tok", sessionCookie: "sess" }
    )
  )

  it.effect("requires a valid Idempotency-Key on contract B writes", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const post = (headers: Record<string, string>) =>
          fetchJson(`${sim.baseUrl}/x/tweets`, {
            method: "POST",
            headers: { "x-api-key": sim.apiKey, "content-type": "application/json", ...headers },
            body: JSON.stringify({ account: "@a", text: "t" })
          })
        expect((yield* post({})).body.error).toBe("missing_idempotency_key")
        expect((yield* post({ "idempotency-key": "has space" })).body.error).toBe("invalid_idempotency_key")
        expect((yield* post({ "idempotency-key": "k1" })).status).toBe(202)
        expect((yield* sim.stats).dispatches).toBe(1)
      })
    )
  )

  it.effect("counts polls after a terminal answer", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const client = yield* XquikClient
        const id = yield* sim.seed({ steps: [Steps.success()] })
        yield* client.getWriteAction(id)
        expect((yield* sim.stats).pollsAfterTerminal).toBe(0)
        yield* client.getWriteAction(id)
        expect((yield* sim.stats).pollsAfterTerminal).toBe(1)
      })
    )
  )

  it.effect("counts overlapping polls of one id", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const client = yield* XquikClient
        const id = yield* sim.seed({ steps: [Steps.slow(1000, Steps.pending())] })
        const a = yield* Effect.fork(client.getWriteAction(id))
        const b = yield* Effect.fork(client.getWriteAction(id))
        yield* sim.awaitRequests(2)
        yield* awaitSleepers(2)
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(a)
        yield* Fiber.join(b)
        expect((yield* sim.stats).overlappingPolls).toBe(1)
      })
    )
  )

  it.effect("counts polls that come before the Retry-After it gave", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const client = yield* XquikClient
        const id = yield* sim.seed({ steps: [Steps.pending({ retryAfter: 2 })] })
        yield* client.getWriteAction(id)
        yield* TestClock.adjust("1 second")
        yield* client.getWriteAction(id)
        expect((yield* sim.stats).retryAfterViolations).toBe(1)
        yield* TestClock.adjust("2 seconds")
        yield* client.getWriteAction(id)
        expect((yield* sim.stats).retryAfterViolations).toBe(1)
      })
    )
  )

  it.effect("counts the same write dispatched under two keys as a duplicate", () =>
    withSim((sim) =>
      Effect.gen(function* () {
        const client = yield* XquikClient
        const request = WriteRequest.tweet({ account: "@a", text: "same" })
        yield* client.submit(request, WriteRequest.IdempotencyKey.make())
        yield* client.submit(request, WriteRequest.IdempotencyKey.make())
        yield* client.submit(
          WriteRequest.tweet({ account: "@a", text: "different" }),
          WriteRequest.IdempotencyKey.make()
        )
        expect(yield* sim.stats).toMatchObject({ dispatches: 3, duplicateDispatches: 1 })
      })
    )
  )

  it.effect("plays a script per write: step 0 answers the write, the rest answer reads, the last repeats", () =>
    withSim(
      (sim) =>
        Effect.gen(function* () {
          const client = yield* XquikClient
          const submitted = yield* client.submit(WriteRequest.like("@a", "1"), WriteRequest.IdempotencyKey.make())
          if (submitted._tag !== "Recorded") throw new Error(submitted._tag)
          const id = submitted.observation.record.writeActionId
          expect(submitted.observation.record.status).toBe("dispatching")
          const statuses: Array<string> = []
          for (let i = 0; i < 4; i++) statuses.push((yield* client.getWriteAction(id)).record.status)
          expect(statuses).toEqual(["pending_confirmation", "teleported", "success", "success"])
          const log = yield* sim.log
          expect(log.map((e) => e.answer)).toEqual([
            "202 dispatching",
            "202 pending_confirmation",
            "202 teleported",
            "200 success",
            "200 success"
          ])
        }),
      { script: () => [Steps.dispatching(), Steps.pending(), Steps.status("teleported"), Steps.success()] }
    )
  )

  it.effect("decodes scripts from JSON", () =>
    Effect.gen(function* () {
      const steps = yield* Schema.decodeUnknown(Schema.Array(Sim.Step))([
        { _tag: "Status", status: "pending_confirmation", retryAfter: 2 },
        { _tag: "HttpError", status: 429, code: "rate_limit_exceeded", retryAfter: "1" },
        { _tag: "Slow", delayMs: 2000, step: { _tag: "Reset" } },
        { _tag: "Garbage" }
      ])
      expect(steps).toHaveLength(4)
      expect(steps[2]).toEqual({ _tag: "Slow", delayMs: 2000, step: { _tag: "Reset" } })
    })
  )

  describe("random faults", () => {
    const get = (sim: Sim.XquikSimulatorShape, id: string) =>
      Effect.promise(async () => {
        try {
          const r = await fetch(`${sim.baseUrl}/x/write-actions/${id}`, { headers: { "x-api-key": sim.apiKey } })
          const text = await r.text()
          try {
            JSON.parse(text)
            return `${r.status} json`
          } catch {
            return `${r.status} not json`
          }
        } catch {
          return "reset"
        }
      })
    const post = (sim: Sim.XquikSimulatorShape, key: string) =>
      Effect.promise(async () => {
        try {
          const r = await fetch(`${sim.baseUrl}/x/tweets`, {
            method: "POST",
            headers: { "x-api-key": sim.apiKey, "content-type": "application/json", "idempotency-key": key },
            body: JSON.stringify({ account: "@a", text: `t ${key}` })
          })
          return { status: r.status, text: await r.text() }
        } catch {
          return { status: 0, text: "reset" }
        }
      })

    it.live("spreads each kind over its share of requests, from a seed that repeats", () =>
      Effect.gen(function* () {
        const mix = { seed: 42, serverError: 0.2, badGateway: 0.1, tooManyRequests: 0.1, garbage: 0.1 }
        const run = withSim(
          (sim) =>
            Effect.gen(function* () {
              const id = yield* sim.seed({ steps: [Steps.pending()] })
              const answers = yield* Effect.forEach(Array.from({ length: 400 }), () => get(sim, id))
              return { answers, faults: (yield* sim.stats).faults }
            }),
          { faults: mix, retryAfterToleranceMs: 1_000_000 }
        )
        const first = yield* run
        const second = yield* run
        expect(second.answers).toEqual(first.answers)
        const share = (prefix: string) => first.answers.filter((a) => a.startsWith(prefix)).length / 400
        expect(share("500")).toBeGreaterThan(0.12)
        expect(share("500")).toBeLessThan(0.28)
        expect(share("502")).toBeGreaterThan(0.04)
        expect(share("429")).toBeGreaterThan(0.04)
        expect(share("200 not json")).toBeGreaterThan(0.04)
        expect(share("202")).toBeGreaterThan(0.35)
        expect(first.faults.serverError).toBe(first.answers.filter((a) => a.startsWith("500")).length)
      })
    )

    it.live("a reset after a write: the write was made, its answer lost", () =>
      withSim(
        (sim) =>
          Effect.gen(function* () {
            const lost = yield* post(sim, "k-1")
            expect(lost).toEqual({ status: 0, text: "reset" })
            const stats = yield* sim.stats
            expect(stats).toMatchObject({ dispatches: 1, faults: { reset: 1 } })
          }),
        { faults: { reset: 1 } }
      )
    )

    it.live("a 429 on a write creates nothing and counts a resend before its Retry-After", () =>
      withSim(
        (sim) =>
          Effect.gen(function* () {
            const limited = yield* post(sim, "k-2")
            expect(limited.status).toBe(429)
            yield* post(sim, "k-2")
            const stats = yield* sim.stats
            expect(stats.dispatches).toBe(0)
            expect(stats.retryAfterViolations).toBe(1)
          }),
        { faults: { tooManyRequests: 1 } }
      )
    )

    it.live("a share of new writes ends expired", () =>
      withSim(
        (sim) =>
          Effect.gen(function* () {
            const created = yield* post(sim, "k-3")
            const id = (JSON.parse(created.text) as { id: string }).id
            const answers = yield* Effect.forEach([1, 2], () => get(sim, id))
            expect(answers).toEqual(["202 json", "200 json"])
            const record = yield* Effect.flatMap(XquikClient, (client) => client.getWriteAction(id))
            expect(record.record.status).toBe("expired")
            expect((yield* sim.stats).faults).toEqual({ expired: 1 })
          }),
        { faults: { expired: 1 }, retryAfterToleranceMs: 1_000_000 }
      )
    )
  })

  it("starts and stops from plain code", async () => {
    const running = await Sim.start()
    const response = await fetch(`${running.baseUrl}/x/write-actions/nope`, {
      headers: { "x-api-key": running.apiKey }
    })
    expect(response.status).toBe(404)
    await running.stop()
    await expect(fetch(`${running.baseUrl}/x/write-actions/nope`)).rejects.toThrow()
  })
})

import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Outbox from "../src/Outbox.js"
import type * as QueueRow from "../src/QueueRow.js"
import * as QueueStore from "../src/QueueStore.js"
import * as RateBudget from "../src/RateBudget.js"
import * as Resolver from "../src/Resolver.js"
import * as SqlQueueStore from "../src/SqlQueueStore.js"
import * as Sim from "../src/testing/XquikSimulator.js"
import * as Worker from "../src/Worker.js"
import * as WriteRequest from "../src/WriteRequest.js"
import type * as XquikConfig from "../src/XquikConfig.js"
import { eventually } from "./support.js"
import { pgCreateSchema, pgDropSchema, pgSchemaName, pgUrlFor } from "./support-pg.js"

const { Steps } = Sim

const fast = { minDelay: "10 millis", idleInterval: "20 millis" } as const

/** Marks in a write's text choose its script. */
const scripted: Sim.ScriptFor = (write) => {
  const text = String(write.body.text ?? "")
  if (text.includes("#fail")) return [Steps.accepted(), Steps.pending(), Steps.failed({ error: "x_rejected" })]
  if (text.includes("#expire")) return [Steps.accepted(), Steps.pending(), Steps.expired()]
  if (text.includes("#unknown")) return [Steps.accepted(), Steps.status("queued_at_x"), Steps.success()]
  if (text.includes("#slow")) return [Steps.slow(600, Steps.accepted()), Steps.success()]
  return [Steps.accepted(), Steps.pending(), Steps.success()]
}

const layers = (options: Sim.Options = {}, config: Omit<XquikConfig.Options, "baseUrl"> = {}) =>
  Layer.mergeAll(
    Sim.layerWithClient({ retryAfterSeconds: 0, pollAfterMs: 20, script: scripted, ...options }, config),
    QueueStore.layerMemory,
    RateBudget.unlimited
  )

const rows = Effect.flatMap(QueueStore.QueueStore, (store) =>
  Effect.map(store.list({ limit: 10_000 }), (page) => page.rows)
)

describe("Worker.drain", () => {
  it.live("drains a mixed batch to its outcomes, each write sent once, no poll after a terminal answer", () =>
    Effect.gen(function* () {
      const sim = yield* Sim.XquikSimulator
      const texts = ["a", "b", "c #fail", "d #expire", "e #unknown", "f", "g", "h #fail"]
      for (const text of texts) yield* Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text }))
      yield* Outbox.enqueue(WriteRequest.sendDm({ account: "@acme", to: "77", text: "dm" }))
      yield* Outbox.enqueue(WriteRequest.like("@acme", "1893456789012345678"))
      const summary = yield* Worker.drain({ ...fast, concurrency: 4 })
      expect(summary.complete).toBe(true)
      expect(summary.outcomes).toEqual({ succeeded: 7, failed: 2, expired: 1, pending: 0, queued: 0, send_unknown: 0 })
      expect(summary.processed).toMatchObject({ sent: 10, succeeded: 7, failed: 2, expired: 1 })
      const stats = yield* sim.stats
      expect(stats).toMatchObject({
        dispatches: 10,
        duplicateDispatches: 0,
        pollsAfterTerminal: 0,
        overlappingPolls: 0,
        retryAfterViolations: 0
      })
      expect(Object.values(stats.sendsByKey).every((n) => n === 1)).toBe(true)
      const all = yield* rows
      const expired = all.find((r) => r.status === "expired")
      expect(expired?.message).toContain("verify it there")
      expect(
        all.filter((r) => r.status === "success").every((r) => r.result_id !== null && r.charged_credits !== "0")
      ).toBe(true)
    }).pipe(Effect.provide(layers()))
  )

  it.live("a drain that outlives maxWait stops, leaving the open rows in the store", () =>
    Effect.gen(function* () {
      yield* Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text: "stuck" }))
      const summary = yield* Worker.drain({ ...fast, maxWait: "300 millis" })
      expect(summary).toMatchObject({ complete: false, open: 1 })
      expect(summary.outcomes.pending).toBe(1)
    }).pipe(Effect.provide(layers({ script: [Steps.accepted(), Steps.pending()] })))
  )

  it.live("a refused credential stops the drain; the rows stay as they were", () =>
    Effect.gen(function* () {
      yield* Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text: "x" }))
      const error = yield* Effect.flip(Worker.drain(fast))
      expect(error._tag).toBe("Unauthenticated")
      expect((yield* rows).map((r) => r.status)).toEqual(["queued"])
    }).pipe(Effect.provide(layers({}, { apiKey: "xq_revoked" })))
  )

  it.live("with autoRetrySafe, a safely failed write is sent again with a new key", () =>
    Effect.gen(function* () {
      const sim = yield* Sim.XquikSimulator
      let first = true
      yield* sim.setScript(() => {
        if (!first) return [Steps.accepted(), Steps.success()]
        first = false
        return [Steps.httpError(503, "write_tracking_unavailable", { safeToRetry: true })]
      })
      const jobId = yield* Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text: "retry me" }))
      const summary = yield* Worker.drain({ ...fast, autoRetrySafe: 1 })
      expect(summary.processed).toMatchObject({ retriedWithNewKey: 1, succeeded: 1 })
      const row = Option.getOrThrow(yield* Effect.flatMap(QueueStore.QueueStore, (s) => s.get(jobId)))
      expect(row).toMatchObject({ status: "success", attempts: 2 })
      expect(row.history.map((h) => h.error_code)).toEqual(["write_tracking_unavailable"])
      const stats = yield* sim.stats
      expect(Object.values(stats.sendsByKey)).toEqual([1, 1])
    }).pipe(Effect.provide(layers()))
  )

  it.live("resolvers see pending observations and run at least once on the outcome, again after a failure", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      let failOnce = true
      const resolver = Resolver.all(
        Resolver.onPending((o) => Effect.sync(() => seen.push(`pending ${o.status}`))),
        Resolver.onSuccess(() =>
          Effect.suspend(() => {
            seen.push("success")
            if (failOnce) {
              failOnce = false
              return Effect.fail(new Error("webhook down"))
            }
            return Effect.void
          })
        )
      )
      const jobId = yield* Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text: "r" }))
      const summary = yield* Worker.drain({ ...fast, resolver })
      expect(summary.complete).toBe(true)
      expect(seen).toEqual(["pending accepted", "pending pending_confirmation", "success", "success"])
      const row = Option.getOrThrow(yield* Effect.flatMap(QueueStore.QueueStore, (s) => s.get(jobId)))
      expect(row).toMatchObject({ status: "success", resolution_pending: false, last_record: null })
      expect((yield* Effect.flatMap(Sim.XquikSimulator, (s) => s.stats)).pollsAfterTerminal).toBe(0)
    }).pipe(Effect.provide(layers()))
  )

  it.live("two workers with leases shorter than a slow send never send a row twice", () =>
    Effect.gen(function* () {
      const sim = yield* Sim.XquikSimulator
      for (let i = 0; i < 6; i++) yield* Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text: `#slow ${i}` }))
      const options = { ...fast, leaseFor: "200 millis", concurrency: 3 } as const
      const [a, b] = yield* Effect.all(
        [
          Worker.drain<never, never>({ ...options, workerId: "a" }),
          Worker.drain<never, never>({ ...options, workerId: "b" })
        ],
        {
          concurrency: 2
        }
      )
      expect(a.complete && b.complete).toBe(true)
      expect(a.processed.sent + b.processed.sent).toBe(6)
      const stats = yield* sim.stats
      expect(Object.values(stats.sendsByKey)).toEqual([1, 1, 1, 1, 1, 1])
      expect(stats.overlappingPolls).toBe(0)
    }).pipe(Effect.provide(layers()))
  )

  it.live("a tracked write action is polled to its outcome", () =>
    Effect.gen(function* () {
      const sim = yield* Sim.XquikSimulator
      const id = yield* sim.seed({ steps: [Steps.pending(), Steps.success({ resultId: "9" })] })
      const jobId = yield* Outbox.track(id)
      yield* Worker.drain(fast)
      const row = Option.getOrThrow(yield* Effect.flatMap(QueueStore.QueueStore, (s) => s.get(jobId)))
      expect(row).toMatchObject({ status: "success", result_id: "9", polls: 2 })
      // A tracked id the API does not know fails as not_found; it is never resubmitted.
      const missing = yield* Outbox.track("999999")
      yield* Worker.drain(fast)
      expect(Option.getOrThrow(yield* Effect.flatMap(QueueStore.QueueStore, (s) => s.get(missing)))).toMatchObject({
        status: "failed",
        error_code: "not_found"
      })
    }).pipe(Effect.provide(layers()))
  )

  it.live("counts outcomes in its metrics", () =>
    Effect.gen(function* () {
      const before = yield* Metric.value(Worker.metrics.succeeded)
      yield* Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text: "m" }))
      yield* Worker.drain(fast)
      const after = yield* Metric.value(Worker.metrics.succeeded)
      expect(after.count - before.count).toBe(1)
      expect((yield* Metric.value(Worker.metrics.timeToTerminal)).count).toBeGreaterThan(0)
    }).pipe(Effect.provide(layers()))
  )
})

// The interrupt case runs on each store: a row half-written by a cut save would show there.
const storeDir = mkdtempSync(join(tmpdir(), "xquik-worker-"))
const pgSchemas: Array<string> = []
afterAll(async () => {
  rmSync(storeDir, { recursive: true, force: true })
  for (const schema of pgSchemas) await pgDropSchema(schema)
})
const storeLayers: ReadonlyArray<
  readonly [string, () => Promise<Layer.Layer<QueueStore.QueueStore, unknown> | undefined>]
> = [
  ["memory", async () => QueueStore.layerMemory],
  ["SQLite", async () => SqlQueueStore.layerFromUrl(join(storeDir, `interrupt-${Date.now()}.db`))],
  [
    "PostgreSQL",
    async () => {
      const schema = pgSchemaName("xq_worker")
      if (!(await pgCreateSchema(schema))) return undefined
      pgSchemas.push(schema)
      return SqlQueueStore.layerFromUrl(pgUrlFor(schema))
    }
  ]
]

describe("Worker.layer", () => {
  for (const [name, makeStore] of storeLayers) {
    it.live(`closing its scope mid-drain leaves every row untouched or saved, and no lease held (${name})`, () =>
      Effect.flatMap(Effect.promise(makeStore), (storeLayer) =>
        storeLayer === undefined
          ? Effect.logWarning(`PostgreSQL is not reachable; skipped`)
          : Effect.provide(
              Effect.gen(function* () {
                const store = yield* QueueStore.QueueStore
                for (let i = 0; i < 40; i++)
                  yield* Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text: `#slow ${i}` }))
                const original = new Map((yield* rows).map((r) => [r.job_id, r]))
                const scope = yield* Scope.make()
                yield* Layer.buildWithScope(Worker.layer({ ...fast, concurrency: 8 }), scope)
                yield* eventually(
                  Effect.map(rows, (all) => all.some((r) => r.status === "accepted")),
                  "the worker to save some rows"
                )
                yield* Scope.close(scope, Exit.void)
                const after = yield* rows
                expect(after).toHaveLength(40)
                const valid = (r: QueueRow.QueueRow) => {
                  const o = original.get(r.job_id)
                  if (o === undefined) return false
                  if (r.status === "queued") return JSON.stringify(r) === JSON.stringify(o)
                  if (r.status === "send_started")
                    return r.write_action_id === null && r.idempotency_key === o.idempotency_key
                  return r.write_action_id !== null && r.idempotency_key === o.idempotency_key
                }
                expect(after.filter((r) => !valid(r)).map((r) => r.status)).toEqual([])
                expect(after.some((r) => r.status !== "queued")).toBe(true)
                // Nothing is leased: another worker can claim every open row that is due. Rows
                // come due while the claim runs, so it takes at least those due before it and at
                // most those due after it; a lease still held would leave one out.
                const dueBy = (at: number) =>
                  after.filter((r) => !r.terminal && r.next_poll_at !== null && r.next_poll_at <= at).length
                const before = Date.now()
                const claimed = yield* store.claimDue({ workerId: "next", leaseFor: "1 minute", limit: 100 })
                expect(claimed.length).toBeGreaterThanOrEqual(dueBy(before))
                expect(claimed.length).toBeLessThanOrEqual(dueBy(Date.now()))
              }),
              Layer.mergeAll(
                Sim.layerWithClient({ retryAfterSeconds: 0, pollAfterMs: 20, script: scripted }),
                Layer.orDie(storeLayer),
                RateBudget.unlimited
              )
            )
      )
    )
  }
})

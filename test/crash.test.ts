/**
 * Crash safety, with real processes: worker subprocesses are SIGKILLed at random points (sends
 * included) and restarted, and several run at once on one PostgreSQL. The simulator runs here, so
 * its statistics see every request of every worker.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Outbox from "../src/Outbox.js"
import * as QueueStore from "../src/QueueStore.js"
import * as SqlQueueStore from "../src/SqlQueueStore.js"
import * as Sim from "../src/testing/XquikSimulator.js"
import * as WriteRequest from "../src/WriteRequest.js"
import { pgCreateSchema, pgDropSchema, pgSchemaName, pgUrlFor } from "./support-pg.js"
import { exitOf, spawnTs } from "./support-process.js"

const { Steps } = Sim
const dir = mkdtempSync(join(tmpdir(), "xquik-crash-"))
const schemas: Array<string> = []
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true })
  for (const schema of schemas) await pgDropSchema(schema)
})

const pgSchema = async () => {
  const schema = pgSchemaName("xq_crash")
  if (!(await pgCreateSchema(schema))) return undefined
  schemas.push(schema)
  return pgUrlFor(schema)
}

const script = [Steps.accepted(), Steps.pending(), Steps.success()]
// Slow enough that 1,000 jobs span many worker lives, so the kills land mid-send and mid-poll.
const slowScript = [Steps.slow(40, Steps.accepted()), Steps.slow(20, Steps.pending()), Steps.slow(20, Steps.success())]

/** Enqueues `n` distinct tweets into the store at `db`, from this process. */
const enqueueAll = (db: string, n: number) =>
  Effect.forEach(
    Array.from({ length: n }, (_, i) => i),
    (i) => Outbox.enqueue(WriteRequest.tweet({ account: "@crash", text: `crash test ${i}` })),
    { concurrency: 8, discard: true }
  ).pipe(Effect.provide(SqlQueueStore.layerFromUrl(db)))

const allRows = (db: string) =>
  Effect.flatMap(QueueStore.QueueStore, (store) => Effect.map(store.list({ limit: 10_000 }), (p) => p.rows)).pipe(
    Effect.provide(SqlQueueStore.layerFromUrl(db))
  )

const workerEnv = (sim: Sim.XquikSimulatorShape, db: string, extra: Record<string, string> = {}) => ({
  XQUIK_DB: db,
  XQUIK_BASE_URL: sim.baseUrl,
  XQUIK_API_KEY: sim.apiKey,
  ...extra
})

const randomBetween = (min: number, max: number) => min + Math.floor(Math.random() * (max - min))

/** Every job terminal, none lost, and each job's key dispatched once (same-key replays counted apart). */
const assertExactlyOnce = (sim: Sim.XquikSimulatorShape, db: string, jobs: number) =>
  Effect.gen(function* () {
    const rows = yield* allRows(db)
    expect(rows).toHaveLength(jobs)
    expect(rows.filter((r) => r.status !== "success")).toEqual([])
    const stats = yield* sim.stats
    const keys = new Set(rows.map((r) => r.idempotency_key))
    expect(keys.size).toBe(jobs)
    expect(stats.dispatches).toBe(jobs)
    expect(stats.duplicateDispatches).toBe(0)
    expect(Object.keys(stats.sendsByKey).length).toBe(jobs)
    expect(Object.keys(stats.sendsByKey).every((k) => keys.has(k))).toBe(true)
    const ids = new Set(rows.map((r) => r.write_action_id))
    expect(ids.size).toBe(jobs)
    return stats
  })

const crashLoop = (db: string) =>
  Effect.gen(function* () {
    const sim = yield* Sim.XquikSimulator
    yield* enqueueAll(db, 1000)
    let killedWhileWorking = 0
    for (let round = 0; round < 20; round++) {
      const child = spawnTs("test/crash/worker-main.ts", workerEnv(sim, db, { WORKER_CONCURRENCY: "4" }))
      // Kill at a random point after the worker started working: mid-send, mid-poll, mid-save.
      const before = (yield* sim.stats).requests
      const started = yield* sim.awaitRequests(before + 1).pipe(Effect.timeoutOption("15 seconds"))
      yield* Effect.sleep(randomBetween(20, 700))
      child.process.kill("SIGKILL")
      const code = yield* exitOf(child, 10_000)
      if (started._tag === "Some" && code === "SIGKILL") killedWhileWorking++
      // A run that finished before the kill is fine too.
      expect(code === "SIGKILL" || code === 0, child.stderr()).toBe(true)
    }
    const last = spawnTs("test/crash/worker-main.ts", workerEnv(sim, db))
    const code = yield* exitOf(last, 120_000)
    expect(code, last.stderr()).toBe(0)
    const stats = yield* assertExactlyOnce(sim, db, 1000)
    // The kills did land mid-work, and sends cut off by a kill were replayed with their own key.
    expect(killedWhileWorking).toBeGreaterThanOrEqual(15)
    expect(stats.replays).toBeGreaterThan(0)
    console.log(
      `crash loop: ${killedWhileWorking}/20 kills mid-work, ${stats.replays} same-key replays, ${stats.pollsAfterTerminal} polls after a terminal answer lost to a kill`
    )
    return { stats, killedWhileWorking }
  }).pipe(Effect.provide(Sim.layer({ retryAfterSeconds: 0, pollAfterMs: 10, script: slowScript, keepLog: false })))

describe("crash safety", () => {
  it.live(
    "SQLite: 1,000 jobs survive 20 SIGKILLs; every job terminal, none lost, each key dispatched once",
    () => crashLoop(join(dir, "crash.db")),
    240_000
  )

  it.live(
    "PostgreSQL: 1,000 jobs survive 20 SIGKILLs; every job terminal, none lost, each key dispatched once",
    () =>
      Effect.gen(function* () {
        const url = yield* Effect.promise(pgSchema)
        if (url === undefined) return
        yield* crashLoop(url)
      }),
    240_000
  )

  for (const workers of [2, 4]) {
    it.live(
      `PostgreSQL: ${workers} worker processes drain 2,000 jobs together, no overlapping polls, every job done once`,
      () =>
        Effect.gen(function* () {
          const url = yield* Effect.promise(pgSchema)
          if (url === undefined) return
          const sim = yield* Sim.XquikSimulator
          yield* enqueueAll(url, 2000)
          const children = Array.from({ length: workers }, (_, i) =>
            spawnTs("test/crash/worker-main.ts", workerEnv(sim, url, { WORKER_ID: `w${i}`, WORKER_LEASE_MS: "10000" }))
          )
          const codes = yield* Effect.forEach(children, (c) => exitOf(c, 180_000), { concurrency: "unbounded" })
          expect(codes, children.map((c) => c.stderr()).join("\n")).toEqual(children.map(() => 0))
          const summaries = children.map(
            (c) => JSON.parse(c.stdout().trim().split("\n").at(-1) ?? "{}") as { processed: { sent: number } }
          )
          // Every worker took a share, and together they sent each job once.
          expect(summaries.every((s) => s.processed.sent > 0)).toBe(true)
          expect(summaries.reduce((n, s) => n + s.processed.sent, 0)).toBe(2000)
          const stats = yield* assertExactlyOnce(sim, url, 2000)
          expect(stats.overlappingPolls).toBe(0)
          expect(stats.pollsAfterTerminal).toBe(0)
          expect(Object.values(stats.sendsByKey).every((n) => n === 1)).toBe(true)
        }).pipe(Effect.provide(Sim.layer({ retryAfterSeconds: 0, pollAfterMs: 10, script, keepLog: false }))),
      240_000
    )
  }
})

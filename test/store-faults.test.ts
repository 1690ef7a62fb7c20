/**
 * Store faults on the real stores, while a worker drains: a SQLite file that runs out of pages
 * (SQLITE_FULL, then space returns), two worker processes on one SQLite file with a short busy
 * timeout (SQLITE_BUSY), and a PostgreSQL whose worker connections are terminated mid-drain. In
 * each case no row is lost or half-written, and the simulator sees every key dispatched once and
 * no poll after a terminal answer.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Outbox from "../src/Outbox.js"
import * as QueueRow from "../src/QueueRow.js"
import * as QueueStore from "../src/QueueStore.js"
import * as RateBudget from "../src/RateBudget.js"
import * as SqlQueueStore from "../src/SqlQueueStore.js"
import * as Sim from "../src/testing/XquikSimulator.js"
import * as Worker from "../src/Worker.js"
import * as WriteRequest from "../src/WriteRequest.js"
import * as XquikError from "../src/XquikError.js"
import { eventually, liveSleep } from "./support.js"
import { pgAdmin, pgCreateSchema, pgDropSchema, pgSchemaName, pgUrlFor } from "./support-pg.js"
import { exitOf, spawnTs } from "./support-process.js"

const { Steps } = Sim
const dir = mkdtempSync(join(tmpdir(), "xquik-faults-"))
const schemas: Array<string> = []
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true })
  for (const schema of schemas) await pgDropSchema(schema)
})

const script = [Steps.accepted(), Steps.pending(), Steps.success()]
const table = "xquik_write_queue_jobs"

/** A tweet text of about 200 characters that differs per job (no two rows share a page's worth of bytes). */
const textOf = (i: number) => `store fault ${i} ${globalThis.crypto.randomUUID().repeat(5)}`.slice(0, 200)

const enqueueAll = (n: number, account: string) =>
  Effect.forEach(
    Array.from({ length: n }, (_, i) => i),
    (i) => Outbox.enqueue(WriteRequest.tweet({ account, text: textOf(i) })),
    { concurrency: 8, discard: true }
  )

const allRows = Effect.flatMap(QueueStore.QueueStore, (store) =>
  Effect.map(store.list({ limit: 10_000 }), (page) => page.rows)
)

/** Keeps every log line of the effect (warnings and up), as logfmt text. */
const keepLogs = (lines: Array<string>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make((options) => {
      lines.push(Logger.logfmtLogger.log(options))
    })
  )

/**
 * Afterwards: every row is there (the raw count and the decoded list agree, so none is corrupt),
 * succeeded with its write action id and result, holds no lease; and the API saw each key
 * dispatched once, no duplicate, no poll after a terminal answer and no overlapping polls.
 */
const assertIntact = (jobs: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [raw] = yield* sql<{
      n: number | string
      leased: number | string
    }>`SELECT COUNT(*) AS n, SUM(CASE WHEN lease_token IS NULL THEN 0 ELSE 1 END) AS leased FROM ${sql(table)}`
    expect(Number(raw?.n)).toBe(jobs)
    expect(Number(raw?.leased ?? 0)).toBe(0)
    const rows = yield* allRows
    expect(rows).toHaveLength(jobs)
    expect(rows.map((r) => QueueRow.outcome(r)).filter((o) => o !== "succeeded")).toEqual([])
    for (const row of rows) {
      expect(row.write_action_id).not.toBeNull()
      expect(row.result_id).not.toBeNull()
      expect(row.completed_at).not.toBeNull()
      expect(row.resolution_pending).toBe(false)
    }
    expect(new Set(rows.map((r) => r.write_action_id)).size).toBe(jobs)
    const stats = yield* Effect.flatMap(Sim.XquikSimulator, (sim) => sim.stats)
    expect(stats).toMatchObject({
      dispatches: jobs,
      duplicateDispatches: 0,
      pollsAfterTerminal: 0,
      overlappingPolls: 0
    })
    const keys = new Set(rows.map((r) => r.idempotency_key))
    expect(Object.keys(stats.sendsByKey).filter((k) => !keys.has(k))).toEqual([])
    return stats
  })

describe("store faults", () => {
  it("QueueStore.isTransient: busy, full, I/O and lost connections are retried; the rest are not", () => {
    const error = (code?: string) =>
      new XquikError.StoreError({ operation: "save", reason: "r", ...(code !== undefined ? { code } : {}) })
    for (const code of ["SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_LOCKED", "SQLITE_FULL", "SQLITE_IOERR_WRITE"])
      expect(QueueStore.isTransient(error(code)), code).toBe(true)
    for (const code of ["57P01", "08006", "40001", "40P01", "53100", "55P03", "connection_lost", "ECONNRESET"])
      expect(QueueStore.isTransient(error(code)), code).toBe(true)
    for (const code of [
      undefined,
      "unique_violation",
      "SQLITE_ERROR",
      "SQLITE_READONLY",
      "SQLITE_CORRUPT",
      "42P01",
      "28P01",
      "23502"
    ])
      expect(QueueStore.isTransient(error(code)), String(code)).toBe(false)
    expect(QueueStore.isTransient(new XquikError.StoreCorrupt({ jobId: "j", column: "media", reason: "r" }))).toBe(
      false
    )
  })

  it.live(
    "SQLite full mid-drain: a typed StoreError, the worker backs off, and drains everything once space returns",
    () => {
      const filename = join(dir, "full.db")
      const lines: Array<string> = []
      const jobs = 300
      return Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const store = yield* QueueStore.QueueStore
        yield* enqueueAll(jobs, "@full")
        const pages = yield* sql<{ page_count: number }>`PRAGMA page_count`
        const before = pages[0]?.page_count ?? 0
        // Room for a few pages more: the rows grow as they are sent and polled (write action id,
        // history, result), so the file runs out of pages a little way into the drain.
        yield* sql.unsafe(`PRAGMA max_page_count = ${before + 6}`)

        const samples: Array<{ at: number; storeErrors: number; open: number; sent: number }> = []
        const drain = yield* Effect.fork(
          Worker.drain({
            concurrency: 4,
            minDelay: "10 millis",
            idleInterval: "20 millis",
            leaseFor: "30 seconds",
            maxWait: "45 seconds",
            progressInterval: "50 millis",
            onProgress: (p) =>
              Effect.sync(() => {
                samples.push({ at: Date.now(), storeErrors: p.tally.storeErrors, open: p.open, sent: p.tally.sent })
              })
          })
        )
        const storeErrors = () => samples.at(-1)?.storeErrors ?? 0
        yield* eventually(
          Effect.sync(() => storeErrors() > 0),
          "the first SQLITE_FULL",
          20_000
        )
        const firstFull = samples.find((s) => s.storeErrors > 0)
        // Mid-drain: some writes were sent before the file ran out of pages, not all.
        expect(firstFull?.sent, "the file ran out of pages mid-drain").toBeGreaterThan(0)
        expect(firstFull?.open).toBeGreaterThan(0)

        // The store itself says so, as a typed error (20 kB of metadata need pages of their own).
        const refused = yield* Effect.flip(
          Outbox.enqueue(WriteRequest.tweet({ account: "@full", text: textOf(jobs + 1) }), {
            metadata: { note: "x".repeat(20_000) }
          })
        )
        expect(refused._tag).toBe("StoreError")
        if (refused._tag !== "StoreError") return
        expect(refused.code).toBe("SQLITE_FULL")
        expect(refused.message).toMatch(/database or its disk is full/)
        expect(QueueStore.isTransient(refused)).toBe(true)

        // While the file stays full, the worker backs off instead of hammering the store.
        const windowStart = samples.at(-1) ?? { at: Date.now(), storeErrors: storeErrors(), open: 0, sent: 0 }
        yield* liveSleep(3000)
        const windowEnd = samples.at(-1) ?? windowStart
        const failedInWindow = windowEnd.storeErrors - windowStart.storeErrors
        const seconds = (windowEnd.at - windowStart.at) / 1000
        // Without a backoff a worker would fail thousands of times a second here.
        expect(failedInWindow / seconds).toBeLessThan(20)
        expect(windowEnd.open).toBeGreaterThan(0)

        // Space returns: the worker goes on by itself and drains everything.
        yield* sql.unsafe("PRAGMA max_page_count = 1073741823")
        const summary = yield* Fiber.join(drain)
        expect(summary.complete).toBe(true)
        expect(summary.outcomes.succeeded).toBe(jobs)
        yield* assertIntact(jobs)
        // Nothing of the refused enqueue was kept.
        expect((yield* store.summary).total).toBe(jobs)
        const warnings = lines.filter((l) => l.includes("the store failed"))
        expect(warnings.some((l) => l.includes("SQLITE_FULL") && l.includes("full"))).toBe(true)
        console.log(
          `SQLite full: ${summary.processed.storeErrors} failed store operations in all, ${failedInWindow} in the ${seconds.toFixed(1)} s window while full (${(failedInWindow / seconds).toFixed(1)}/s), ${warnings.length} backoff pauses logged, ${jobs} jobs drained in ${summary.elapsedMs} ms`
        )
      }).pipe(
        Effect.provide(
          Layer.mergeAll(
            Layer.provideMerge(SqlQueueStore.layer(), SqlQueueStore.layerSqliteClient({ filename })),
            Sim.layerWithClient({ retryAfterSeconds: 0, pollAfterMs: 10, script, keepLog: false }),
            RateBudget.unlimited
          )
        ),
        Effect.provide(keepLogs(lines)),
        Logger.withMinimumLogLevel(LogLevel.Warning)
      )
    },
    60_000
  )

  it.live(
    "SQLite busy: two worker processes on one file with no busy timeout both finish; every job done once",
    () => {
      const filename = join(dir, "busy.db")
      const jobs = 400
      return Effect.gen(function* () {
        const sim = yield* Sim.XquikSimulator
        yield* enqueueAll(jobs, "@busy").pipe(Effect.provide(SqlQueueStore.layerSqlite({ filename })))
        const children = ["a", "b"].map((id) =>
          spawnTs("test/faults/sqlite-worker.ts", {
            XQUIK_DB: filename,
            XQUIK_BASE_URL: sim.baseUrl,
            XQUIK_API_KEY: sim.apiKey,
            BUSY_TIMEOUT_MS: "0",
            WORKER_ID: `busy-${id}`
          })
        )
        const codes = yield* Effect.forEach(children, (c) => exitOf(c, 55_000), { concurrency: "unbounded" })
        expect(codes, children.map((c) => c.stderr().slice(-2000)).join("\n")).toEqual([0, 0])
        const summaries = children.map(
          (c) =>
            JSON.parse(c.stdout().trim().split("\n").at(-1) ?? "{}") as {
              processed: { sent: number; storeErrors: number }
            }
        )
        // Busy did surface, in both the counters and the logs, and was waited out.
        const storeErrors = summaries.reduce((n, s) => n + s.processed.storeErrors, 0)
        const busyLogged = children.reduce(
          (n, c) =>
            n +
            c
              .stderr()
              .split("\n")
              .filter((l) => l.includes("SQLITE_BUSY")).length,
          0
        )
        expect(storeErrors).toBeGreaterThan(0)
        expect(busyLogged).toBeGreaterThan(0)
        // Both worked, and together they sent each job once.
        expect(summaries.every((s) => s.processed.sent > 0)).toBe(true)
        expect(summaries.reduce((n, s) => n + s.processed.sent, 0)).toBe(jobs)
        const stats = yield* assertIntact(jobs)
        expect(Object.values(stats.sendsByKey).every((n) => n === 1)).toBe(true)
        console.log(
          `SQLite busy: ${storeErrors} failed store operations (${busyLogged} SQLITE_BUSY log lines), sent ${summaries.map((s) => s.processed.sent).join(" + ")} = ${jobs}`
        )
      }).pipe(
        Effect.provide(
          Layer.mergeAll(
            Layer.provideMerge(SqlQueueStore.layer(), SqlQueueStore.layerSqliteClient({ filename })),
            Sim.layer({ retryAfterSeconds: 0, pollAfterMs: 10, script, keepLog: false })
          )
        )
      )
    },
    60_000
  )

  it.live("SQLite busy at start: four processes with no busy timeout open one new file at once, all migrate", () =>
    Effect.gen(function* () {
      // Before the fix, about one start in ten failed with `failed to migrate (SQLITE_BUSY)`.
      for (let round = 0; round < 3; round++) {
        const filename = join(dir, `start-${round}.db`)
        const children = Array.from({ length: 4 }, () =>
          spawnTs("test/faults/sqlite-worker.ts", { XQUIK_DB: filename, BUSY_TIMEOUT_MS: "0", OPEN_ONLY: "1" })
        )
        const codes = yield* Effect.forEach(children, (c) => exitOf(c, 30_000), { concurrency: "unbounded" })
        expect(codes, children.map((c) => c.stderr().slice(-1000)).join("\n")).toEqual([0, 0, 0, 0])
      }
    })
  )

  it.live(
    "PostgreSQL: the worker's connections are terminated mid-drain; it reconnects and finishes, every job done once",
    () =>
      Effect.gen(function* () {
        const schema = pgSchemaName("xq_faults")
        if (!(yield* Effect.promise(() => pgCreateSchema(schema)))) return
        schemas.push(schema)
        const applicationName = `xq-faults-${process.pid}`
        const jobs = 400
        const lines: Array<string> = []
        const terminate = Effect.promise(() =>
          pgAdmin(
            `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = '${applicationName}'`
          )
        )
        yield* Effect.gen(function* () {
          yield* enqueueAll(jobs, "@pg")
          const sim = yield* Sim.XquikSimulator
          const drain = yield* Effect.fork(
            Worker.drain({
              concurrency: 8,
              minDelay: "10 millis",
              idleInterval: "20 millis",
              // A claim whose answer is lost with its connection holds its rows until the lease ends.
              leaseFor: "3 seconds",
              storeBackoff: { initial: "20 millis", max: "500 millis" },
              maxWait: "45 seconds"
            })
          )
          // Kill every connection of the worker's pool at a few points through the drain.
          let terminated = 0
          let rounds = 0
          for (const fraction of [0.1, 0.25, 0.4, 0.55, 0.7, 0.85]) {
            yield* eventually(
              Effect.map(sim.stats, (s) => s.requests >= fraction * jobs * 3),
              `${fraction * 100}% of the requests`,
              30_000
            )
            const killed = yield* terminate
            terminated += killed.length
            rounds++
          }
          const summary = yield* Fiber.join(drain)
          expect(summary.complete).toBe(true)
          // The kills hit statements in flight, not only idle connections.
          expect(terminated).toBeGreaterThan(0)
          expect(summary.processed.storeErrors).toBeGreaterThan(0)
          const stats = yield* assertIntact(jobs)
          expect(Object.values(stats.sendsByKey).every((n) => n === 1)).toBe(true)
          expect(lines.some((l) => l.includes("lost a lease"))).toBe(false)
          console.log(
            `PostgreSQL: ${terminated} connections terminated in ${rounds} rounds, ${summary.processed.storeErrors} failed store operations retried, ${stats.dispatches} dispatches, ${stats.replays} same-key replays, drained ${jobs} jobs in ${summary.elapsedMs} ms`
          )
        }).pipe(
          Effect.provide(
            Layer.mergeAll(
              Layer.provideMerge(
                SqlQueueStore.layer(),
                SqlQueueStore.layerPgClient({ url: pgUrlFor(schema), applicationName, maxConnections: 8 })
              ),
              Sim.layerWithClient({ retryAfterSeconds: 0, pollAfterMs: 10, script, keepLog: false }),
              RateBudget.unlimited
            )
          ),
          Effect.provide(keepLogs(lines)),
          Logger.withMinimumLogLevel(LogLevel.Info)
        )
      }),
    60_000
  )
})

/**
 * The store's enqueue → claim → save cycle on SQLite and PostgreSQL.
 *
 *   npx tsx bench/store.ts            # 100,000 rows per backend
 *   npx tsx bench/store.ts --quick    # 10,000 rows
 *
 * Prints rows per second for each phase and the peak RSS. PostgreSQL comes from
 * XQUIK_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test), in a schema of its own.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as QueueRow from "../src/QueueRow.js"
import type { QueueStoreShape } from "../src/QueueStore.js"
import * as SqlQueueStore from "../src/SqlQueueStore.js"
import * as WriteRequest from "../src/WriteRequest.js"

const quick = process.argv.includes("--quick")
const N = quick ? 10_000 : 100_000
const pgBase = process.env.XQUIK_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"

const rows = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    QueueRow.queued({
      jobId: globalThis.crypto.randomUUID(),
      idempotencyKey: WriteRequest.IdempotencyKey.make(),
      request: WriteRequest.tweet({ account: "@bench", text: `bench ${i}` }),
      now: 0
    })
  )

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.timed(effect), ([duration]) => [Duration.toMillis(duration)] as const)

const cycle = (store: QueueStoreShape, concurrency: number) =>
  Effect.gen(function* () {
    const input = rows(N)
    const [enqueueTime] = yield* timed(Effect.forEach(input, (r) => store.enqueue(r), { concurrency, discard: true }))
    let done = 0
    const [drainTime] = yield* timed(
      Effect.forEach(
        Array.from({ length: concurrency }, (_, w) => w),
        (w) =>
          Effect.gen(function* () {
            for (;;) {
              const batch = yield* store.claimDue({ workerId: `bench-${w}`, leaseFor: "5 minutes", limit: 100 })
              if (batch.length === 0) return
              for (const { row, lease } of batch) {
                yield* store.save({ ...row, status: "success", terminal: true, next_poll_at: null }, lease, {
                  release: true
                })
                done++
              }
            }
          }),
        { concurrency, discard: true }
      )
    )
    return {
      rows: done,
      enqueuePerSecond: Math.round(N / (enqueueTime / 1000)),
      claimAndSavePerSecond: Math.round(done / (drainTime / 1000))
    }
  })

const program = Effect.gen(function* () {
  const results: Array<Record<string, string | number>> = []
  const dir = mkdtempSync(join(tmpdir(), "xquik-bench-"))
  try {
    const sqlite = yield* Effect.scoped(
      Effect.flatMap(Layer.build(SqlQueueStore.layerSqliteClient({ filename: join(dir, "bench.db") })), (ctx) =>
        Effect.flatMap(Effect.provide(SqlQueueStore.make(), ctx), (store) => cycle(store, 1))
      )
    )
    results.push({ backend: "SQLite (file, WAL)", ...sqlite })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const schema = `xq_bench_${Date.now().toString(36)}`
  const admin = (statement: string) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(
      Effect.provide(SqlQueueStore.layerPgClient({ url: pgBase, maxConnections: 1 }))
    )
  const pgReady = yield* Effect.either(admin(`CREATE SCHEMA ${schema}`))
  if (pgReady._tag === "Right") {
    const url = `${pgBase}${pgBase.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`
    const pg = yield* Effect.scoped(
      Effect.flatMap(Layer.build(SqlQueueStore.layerPgClient({ url, maxConnections: 8 })), (ctx) =>
        Effect.flatMap(Effect.provide(SqlQueueStore.make(), ctx), (store) => cycle(store, 8))
      )
    ).pipe(Effect.ensuring(Effect.ignore(admin(`DROP SCHEMA ${schema} CASCADE`))))
    results.push({ backend: "PostgreSQL (8 connections)", ...pg })
  } else {
    console.error(`PostgreSQL not reachable at ${pgBase}: skipped`)
  }
  const rssMb = Math.round(process.resourceUsage().maxRSS / 1024)
  console.table(results.map((r) => ({ ...r, peakRssMb: rssMb })))
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})

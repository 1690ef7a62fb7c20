import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as SqlQueueStore from "../../src/SqlQueueStore.js"
import { storeSuite } from "./suite.js"

/** One schema per run, dropped after. */
const baseUrl = process.env.XQUIK_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"
const schema = `xq_test_${process.pid}_${Date.now().toString(36)}`
const url = `${baseUrl}${baseUrl.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`

/** Runs one statement on the base database, outside the test schema. */
const admin = (statement: string) =>
  Effect.runPromise(
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(
      Effect.provide(SqlQueueStore.layerPgClient({ url: baseUrl, maxConnections: 1, connectTimeout: "3 seconds" }))
    )
  )

const reachable = await admin(`CREATE SCHEMA ${schema}`).then(
  () => true,
  (error: unknown) => {
    if (process.env.CI === "true") {
      throw new Error(
        `PostgreSQL at ${baseUrl.replace(/\/\/[^@/]*@/, "//")} is not reachable and CI=true: ${String(error)}`
      )
    }
    return false
  }
)

if (!reachable) {
  describe("QueueStore on PostgreSQL", () => {
    it.skip(`skipped: PostgreSQL not reachable at XQUIK_TEST_PG_URL (outside CI only)`, () => {})
  })
} else {
  afterAll(() => admin(`DROP SCHEMA ${schema} CASCADE`))

  let n = 0
  const open = (table: string) =>
    Effect.gen(function* () {
      const context = yield* Layer.build(SqlQueueStore.layerPgClient({ url, maxConnections: 8 }))
      const store = yield* Effect.provide(
        SqlQueueStore.make({ table, migrationsTable: `${table}_migrations` }),
        context
      )
      return { store, sql: Effect.provide(SqlClient.SqlClient, context) }
    })

  storeSuite({
    name: "PostgreSQL",
    fresh: Effect.gen(function* () {
      const table = `jobs_${++n}`
      const first = yield* open(table)
      const sql = yield* first.sql
      return {
        store: first.store,
        second: Effect.map(open(table), (o) => o.store),
        corrupt: (jobId: string, column: string) =>
          sql.unsafe(`UPDATE ${table} SET ${column} = '{not json' WHERE job_id = $1`, [jobId]),
        startTogether: (count: number) => {
          const together = `together_${++n}`
          return Effect.all(
            Array.from({ length: count }, () => Effect.map(open(together), (o) => o.store)),
            { concurrency: "unbounded" }
          )
        }
      }
    })
  })
}

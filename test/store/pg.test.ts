import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as SqlQueueStore from "../../src/SqlQueueStore.js"
import { pgCreateSchema, pgDropSchema, pgSchemaName, pgUrlFor } from "../support-pg.js"
import { storeSuite } from "./suite.js"

/** One schema per run, dropped after. */
const schema = pgSchemaName("xq_test")
const url = pgUrlFor(schema)
const reachable = await pgCreateSchema(schema)

if (!reachable) {
  describe("QueueStore on PostgreSQL", () => {
    it.skip(`skipped: PostgreSQL not reachable at XQUIK_TEST_PG_URL (outside CI only)`, () => {})
  })
} else {
  afterAll(() => pgDropSchema(schema))

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

/**
 * The real PostgreSQL for tests: `XQUIK_TEST_PG_URL` (default
 * postgres://postgres@127.0.0.1:5432/test), one schema per run, dropped after. When CI=true and it
 * cannot be reached, the tests fail; outside CI they are skipped.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as SqlQueueStore from "../src/SqlQueueStore.js"

export const pgBaseUrl = process.env.XQUIK_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"

/** Runs one statement on the base database, outside any test schema. */
export const pgAdmin = (statement: string) =>
  Effect.runPromise(
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(
      Effect.provide(SqlQueueStore.layerPgClient({ url: pgBaseUrl, maxConnections: 1, connectTimeout: "3 seconds" }))
    )
  )

/** A URL whose connections use `schema` as their search path. */
export const pgUrlFor = (schema: string) =>
  `${pgBaseUrl}${pgBaseUrl.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`

let n = 0
/** A fresh schema name for this process. */
export const pgSchemaName = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}_${++n}`

/** Creates a schema; false when PostgreSQL is unreachable outside CI (the caller skips), throws in CI. */
export const pgCreateSchema = (schema: string): Promise<boolean> =>
  pgAdmin(`CREATE SCHEMA ${schema}`).then(
    () => true,
    (error: unknown) => {
      if (process.env.CI === "true") {
        throw new Error(
          `PostgreSQL at ${pgBaseUrl.replace(/\/\/[^@/]*@/, "//")} is not reachable and CI=true: ${String(error)}`
        )
      }
      return false
    }
  )

export const pgDropSchema = (schema: string) => pgAdmin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)

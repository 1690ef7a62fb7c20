/**
 * PostgreSQL for the bench and the soak: one schema per run, dropped after. The URL comes from
 * XQUIK_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as SqlQueueStore from "../src/SqlQueueStore.js"

export const pgBase = process.env.XQUIK_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"

/** Runs one statement on the base database. */
export const pgAdmin = (statement: string) =>
  Effect.runPromise(
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(
      Effect.provide(SqlQueueStore.layerPgClient({ url: pgBase, maxConnections: 1 }))
    )
  )

/** Whether PostgreSQL answers. */
export const pgReachable = () =>
  pgAdmin("SELECT 1").then(
    () => true,
    () => false
  )

const schemas: Array<string> = []

/** A fresh schema, and a URL whose connections use it. */
export const pgSchema = async (prefix: string) => {
  const schema = `${prefix}_${process.pid}_${schemas.length}`
  await pgAdmin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await pgAdmin(`CREATE SCHEMA ${schema}`)
  schemas.push(schema)
  return `${pgBase}${pgBase.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`
}

/** Drops every schema made here. */
export const dropSchemas = async () => {
  for (const schema of schemas.splice(0)) await pgAdmin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
}

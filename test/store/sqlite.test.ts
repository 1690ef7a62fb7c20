import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as SqlQueueStore from "../../src/SqlQueueStore.js"
import { exitOf, spawnTs } from "../support-process.js"
import { storeSuite } from "./suite.js"

const dir = mkdtempSync(join(tmpdir(), "xquik-store-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0

/** Opens the store on a file in its own scope. */
const open = (filename: string, scope: Scope.Scope) =>
  Effect.gen(function* () {
    const context = yield* Layer.buildWithScope(SqlQueueStore.layerSqliteClient({ filename }), scope)
    const store = yield* Effect.provide(SqlQueueStore.make(), context)
    return { store, sql: Effect.provide(SqlClient.SqlClient, context) }
  })

storeSuite({
  name: "SQLite",
  fresh: Effect.gen(function* () {
    const filename = join(dir, `jobs-${++n}.db`)
    const outer = yield* Effect.scope
    const inner = yield* Scope.fork(outer, ExecutionStrategy.sequential)
    const first = yield* open(filename, inner)
    const sql = yield* first.sql
    return {
      store: first.store,
      second: Effect.map(open(filename, outer), (o) => o.store),
      corrupt: (jobId: string, column: string) =>
        sql.unsafe(`UPDATE xquik_write_queue_jobs SET ${column} = '{not json' WHERE job_id = ?`, [jobId]),
      // Separate processes, as in production: one process's synchronous busy wait would block the
      // very connection it waits for.
      startTogether: (count: number) =>
        Effect.gen(function* () {
          const together = join(dir, `together-${++n}.db`)
          const children = Array.from({ length: count }, () => spawnTs("test/store/open-sqlite.ts", {}, [together]))
          const codes = yield* Effect.forEach(children, (c) => exitOf(c, 60_000), { concurrency: "unbounded" })
          if (codes.some((c) => c !== 0)) {
            return yield* Effect.fail(new Error(children.map((c) => c.stderr()).join("\n")))
          }
          return [(yield* open(together, outer)).store]
        }),
      reopen: Effect.gen(function* () {
        yield* Scope.close(inner, Exit.void)
        return (yield* open(filename, outer)).store
      })
    }
  })
})

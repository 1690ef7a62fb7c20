/** Opens (and so migrates) the SQLite store at argv[2], then exits: for the concurrent-start test. */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as SqlQueueStore from "../../src/SqlQueueStore.js"

Effect.runPromise(Effect.scoped(Layer.build(SqlQueueStore.layerSqlite({ filename: process.argv[2] ?? "" })))).then(
  () => process.exit(0),
  (error) => {
    console.error(String(error))
    process.exit(1)
  }
)

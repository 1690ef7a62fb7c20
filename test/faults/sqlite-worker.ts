/**
 * A worker process for the store-fault tests: drains the SQLite file XQUIK_DB against the API at
 * XQUIK_BASE_URL with a busy timeout of BUSY_TIMEOUT_MS, logs its warnings (logfmt) on stderr, and
 * prints its summary as one JSON line on stdout. With OPEN_ONLY=1 it only opens (and so migrates)
 * the store, then exits.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as RateBudget from "../../src/RateBudget.js"
import * as SqlQueueStore from "../../src/SqlQueueStore.js"
import * as Worker from "../../src/Worker.js"
import * as XquikClient from "../../src/XquikClient.js"
import * as XquikConfig from "../../src/XquikConfig.js"

const filename = process.env.XQUIK_DB ?? ""
const busyTimeout = Number(process.env.BUSY_TIMEOUT_MS ?? "5000")

const store = SqlQueueStore.layerSqlite({ filename, busyTimeout })

const program = Effect.gen(function* () {
  const summary = yield* Worker.drain({
    concurrency: Number(process.env.WORKER_CONCURRENCY ?? "8"),
    minDelay: "10 millis",
    idleInterval: "20 millis",
    leaseFor: "10 seconds",
    storeBackoff: { initial: "5 millis", max: "200 millis" },
    maxWait: "50 seconds",
    ...(process.env.WORKER_ID !== undefined ? { workerId: process.env.WORKER_ID } : {})
  })
  process.stdout.write(`${JSON.stringify(summary)}\n`)
  if (!summary.complete) return yield* Effect.fail(new Error("drain incomplete"))
})

const main =
  process.env.OPEN_ONLY === "1"
    ? Effect.scoped(Layer.build(store))
    : program.pipe(
        Effect.provide(
          Layer.mergeAll(
            store,
            XquikClient.layerNode.pipe(Layer.provide(XquikConfig.layerConfig())),
            RateBudget.unlimited
          )
        )
      )

main.pipe(
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withLeveledConsole(Logger.logfmtLogger))),
  Logger.withMinimumLogLevel(LogLevel.Warning),
  NodeRuntime.runMain
)

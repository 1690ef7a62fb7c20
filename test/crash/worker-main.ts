/**
 * A worker process for the crash-safety tests: drains the queue in XQUIK_DB against the API at
 * XQUIK_BASE_URL, and prints its summary as one JSON line. The tests SIGKILL it at random points.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as RateBudget from "../../src/RateBudget.js"
import * as SqlQueueStore from "../../src/SqlQueueStore.js"
import * as Worker from "../../src/Worker.js"
import * as XquikClient from "../../src/XquikClient.js"
import * as XquikConfig from "../../src/XquikConfig.js"

const db = process.env.XQUIK_DB ?? ""
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? "16")

const program = Effect.gen(function* () {
  const summary = yield* Worker.drain({
    concurrency,
    minDelay: "10 millis",
    idleInterval: "50 millis",
    leaseFor: Duration.millis(Number(process.env.WORKER_LEASE_MS ?? "2000")),
    ...(process.env.WORKER_ID !== undefined ? { workerId: process.env.WORKER_ID } : {})
  })
  process.stdout.write(`${JSON.stringify(summary)}\n`)
  if (!summary.complete) return yield* Effect.fail(new Error("drain incomplete"))
})

program.pipe(
  Effect.provide(
    Layer.mergeAll(
      SqlQueueStore.layerFromUrl(db),
      XquikClient.layerNode.pipe(Layer.provide(XquikConfig.layerConfig())),
      RateBudget.unlimited
    )
  ),
  Logger.withMinimumLogLevel(LogLevel.Error),
  NodeRuntime.runMain
)

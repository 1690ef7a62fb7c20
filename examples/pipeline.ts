/**
 * A scripted pipeline: enqueue the writes of a JSON-lines file (one `WriteRequest` a line),
 * drain the queue, print the summary as one JSON line, and exit 0 only when every write succeeded
 * (2 when one failed or expired, 4 when some are still pending).
 * Running it again with the same file enqueues nothing new: each line's dedupe key is its content.
 *
 *   npx tsx examples/pipeline.ts [writes.jsonl] [store.db]
 */
import { readFileSync } from "node:fs"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { Outbox, RateBudget, SqlQueueStore, Worker, WriteRequest } from "../src/index.js"
import { layerWithClient } from "../src/testing/index.js"

const [file = "examples/writes.jsonl", db = "./pipeline.db"] = process.argv.slice(2)

const program = Effect.gen(function* () {
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
  for (const [n, line] of lines.entries()) {
    const request = WriteRequest.validate(JSON.parse(line))
    if (Either.isLeft(request)) {
      return yield* Effect.fail(new Error(`${file}:${n + 1}: ${request.left.message}`))
    }
    yield* Outbox.enqueue(request.right, { dedupeKey: line.trim() })
  }
  const summary = yield* Worker.drain({ concurrency: 8, maxWait: "5 minutes" })
  yield* Console.log(JSON.stringify(summary))
  // Like the CLI: 2 when a write failed, else 3 when one expired (verify it on X), else 4 when
  // some are still pending.
  if (summary.outcomes.failed > 0) process.exitCode = 2
  else if (summary.outcomes.expired > 0) process.exitCode = 3
  else if (!summary.complete) process.exitCode = 4
})

const Live = Layer.mergeAll(
  SqlQueueStore.layerSqlite({ filename: db }),
  layerWithClient({ retryAfterSeconds: 0, pollAfterMs: 200, firstWriteActionId: Date.now() % 1_000_000_000 }),
  RateBudget.layer()
)

program.pipe(Effect.provide(Live), Logger.withMinimumLogLevel(LogLevel.Error), NodeRuntime.runMain)

/**
 * The worker embedded in an Effect application as a Layer: the app enqueues writes whenever it
 * likes; the worker, running in the background for as long as the app's scope, sends and polls
 * them to their outcomes. Closing the scope stops it cleanly (saves finish, leases are released).
 *
 *   npx tsx examples/worker-layer.ts
 *
 * Against the real API, replace `Api` with
 * `XquikClient.layerNode.pipe(Layer.provide(XquikConfig.layerConfig()))`.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { Outbox, QueueStore, Resolver, SqlQueueStore, Worker, WriteRequest } from "../src/index.js"
import { layerWithClient } from "../src/testing/index.js"

// The application: it only enqueues, and watches its rows settle.
const app = Effect.gen(function* () {
  const store = yield* QueueStore.QueueStore
  const jobs = yield* Effect.forEach(["Good morning", "New blog post", "Release notes"], (text) =>
    Outbox.enqueue(WriteRequest.tweet({ account: "@acme", text }))
  )
  yield* Console.log(`enqueued ${jobs.length} jobs; the worker takes it from here`)
  const settled = Effect.forEach(jobs, (id) =>
    Effect.map(
      store.get(id),
      Option.exists((row) => row.terminal)
    )
  )
  yield* settled.pipe(
    Effect.repeat({ until: (states) => states.every(Boolean), schedule: Schedule.spaced("100 millis") })
  )
  yield* Console.log(`all ${jobs.length} settled`)
})

// Where rows live, what the API is, and the worker with a resolver of its own.
const Store = SqlQueueStore.layerSqlite({ filename: join(mkdtempSync(join(tmpdir(), "xquik-example-")), "queue.db") })
const Api = layerWithClient({ retryAfterSeconds: 0, pollAfterMs: 200 })
const Announce = Resolver.onSuccess((o, r) =>
  Console.log(`worker: ${r.writeActionId} posted as ${Option.getOrElse(o.resultId, () => "?")}`)
)
const WorkerLive = Worker.layer({ concurrency: 4, resolver: Announce })

const MainLive = WorkerLive.pipe(Layer.provideMerge(Layer.merge(Store, Api)))

app.pipe(Effect.provide(MainLive), NodeRuntime.runMain)

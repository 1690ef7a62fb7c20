/**
 * One bench case in one process, as the library or as the raw baseline; prints one JSON line.
 * bench/run.ts starts it; run by hand with
 *   npx tsx bench/case.ts <case> <lib|raw> <n> <concurrency> <serverUrl> [db]
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { Agent, request } from "undici"
import * as Outbox from "../src/Outbox.js"
import * as Polling from "../src/Polling.js"
import * as QueueRow from "../src/QueueRow.js"
import * as QueueStore from "../src/QueueStore.js"
import * as RateBudget from "../src/RateBudget.js"
import * as SqlQueueStore from "../src/SqlQueueStore.js"
import * as Worker from "../src/Worker.js"
import * as WriteRequest from "../src/WriteRequest.js"
import * as XquikClient from "../src/XquikClient.js"
import * as XquikConfig from "../src/XquikConfig.js"

const [caseId = "B1", variant = "lib", nText = "1000", concurrencyText = "64", server = "", db = ""] =
  process.argv.slice(2)
const n = Number(nText)
const concurrency = Number(concurrencyText)
const base = `${server}/api/v1`
const apiKey = `xq_${"be".repeat(32)}`

let peakRss = 0
let peakHeap = 0
const sample = () => {
  const m = process.memoryUsage()
  peakRss = Math.max(peakRss, m.rss)
  peakHeap = Math.max(peakHeap, m.heapUsed)
}
const sampler = setInterval(sample, 50)

const report = (result: Record<string, unknown>) => {
  sample()
  clearInterval(sampler)
  process.stdout.write(
    `${JSON.stringify({ ...result, peakRssMb: Math.round(peakRss / 1048576), peakHeapMb: Math.round(peakHeap / 1048576) })}\n`
  )
}

// ---------------------------------------------------------------------------------------------
// raw baseline: a bare undici keep-alive loop, no Effect, no decoding, no store
// ---------------------------------------------------------------------------------------------

const agent = new Agent({ connections: concurrency * 2, keepAliveTimeout: 60_000 })

const rawGet = async (id: string) => {
  const response = await request(`${base}/x/write-actions/${id}`, {
    dispatcher: agent,
    headers: { "x-api-key": apiKey }
  })
  const text = await response.body.text()
  return { status: response.statusCode, text }
}

const rawPost = async () => {
  const response = await request(`${base}/x/tweets`, {
    dispatcher: agent,
    method: "POST",
    headers: {
      "x-api-key": apiKey,
      "content-type": "application/json",
      "idempotency-key": globalThis.crypto.randomUUID()
    },
    body: JSON.stringify({ account: "@bench", text: "bench" })
  })
  const text = await response.body.text()
  // The id is all the loop needs; the baseline does no decoding beyond finding it.
  const at = text.indexOf('"id":"') + 6
  return text.slice(at, text.indexOf('"', at))
}

const pool = async (count: number, width: number, job: (i: number) => Promise<void>) => {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) await job(next++)
    })
  )
}

const untilTerminal = async (id: string) => {
  for (;;) {
    const { status } = await rawGet(id)
    if (status === 200) return
  }
}

const raw = async () => {
  const started = performance.now()
  switch (caseId) {
    case "B1":
      await pool(n, concurrency, async (i) => {
        await rawGet(String(i + 1))
      })
      break
    case "B2":
      await pool(n, concurrency, (i) => untilTerminal(String(i + 1)))
      break
    case "B3":
    case "B4":
      await pool(n, concurrency, async () => untilTerminal(await rawPost()))
      break
    case "B6": {
      // 1,000 waiters on a fixed 1 s schedule: lateness of each poll against its plan.
      const late: Array<number> = []
      const stopAt = Date.now() + Number(db || "10000")
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          let planned = Date.now()
          while (planned < stopAt) {
            const wait = planned - Date.now()
            if (wait > 0) await new Promise((r) => setTimeout(r, wait))
            late.push(Date.now() - planned)
            await rawGet(String(i + 1))
            planned = Date.now() + 1000
          }
        })
      )
      late.sort((a, b) => a - b)
      return report({ p99LateMs: late[Math.floor(late.length * 0.99)] ?? 0, polls: late.length })
    }
  }
  const seconds = (performance.now() - started) / 1000
  report({ ops: n / seconds, seconds })
}

// ---------------------------------------------------------------------------------------------
// the library
// ---------------------------------------------------------------------------------------------

const clientLayer = XquikClient.layerNode.pipe(
  Layer.provide(XquikConfig.layer({ apiKey, baseUrl: base, readRetry: { times: 0 } }))
)
const fast = { schedule: Schedule.spaced(Duration.zero), minDelay: Duration.zero }

const lib = Effect.gen(function* () {
  switch (caseId) {
    case "B1": {
      const client = yield* XquikClient.XquikClient
      const [d] = yield* Effect.timed(
        Effect.forEach(
          Array.from({ length: n }, (_, i) => String(i + 1)),
          (id) => client.getWriteAction(id),
          {
            concurrency,
            discard: true
          }
        )
      )
      return report({ ops: n / (Duration.toMillis(d) / 1000), seconds: Duration.toMillis(d) / 1000 })
    }
    case "B2": {
      // awaitOutcome per action, each final row kept in the memory store.
      const store = yield* QueueStore.QueueStore
      const [d] = yield* Effect.timed(
        Effect.forEach(
          Array.from({ length: n }, (_, i) => String(i + 1)),
          (id) =>
            Effect.gen(function* () {
              const succeeded = yield* Polling.awaitOutcome(id, fast)
              yield* store.enqueue(QueueRow.fromWriteAction(succeeded.record))
            }),
          { concurrency, discard: true }
        )
      )
      return report({ ops: n / (Duration.toMillis(d) / 1000), seconds: Duration.toMillis(d) / 1000 })
    }
    case "B3":
    case "B4": {
      if (variant === "enqueue") {
        yield* Effect.forEach(
          Array.from({ length: n }, (_, i) => i),
          (i) => Outbox.enqueue(WriteRequest.tweet({ account: "@bench", text: `bench ${i}` })),
          { concurrency: 16, discard: true }
        )
        return report({ enqueued: n })
      }
      if (db === "memory") {
        // A memory store lives in this process: fill it first, outside the timing.
        yield* Effect.forEach(
          Array.from({ length: n }, (_, i) => i),
          (i) => Outbox.enqueue(WriteRequest.tweet({ account: "@bench", text: `bench ${i}` })),
          { discard: true }
        )
      }
      const [d, summary] = yield* Effect.timed(
        Worker.drain({ concurrency, idleInterval: "20 millis", leaseFor: "2 minutes", ...fast }).pipe(
          process.env.NO_TRACER === "1" ? Effect.withTracerEnabled(false) : (e) => e
        )
      )
      return report({
        ops: summary.processed.sent / (Duration.toMillis(d) / 1000),
        seconds: Duration.toMillis(d) / 1000,
        sent: summary.processed.sent,
        complete: summary.complete
      })
    }
    case "B5": {
      // Waiting fibers on a long schedule: heap per waiter once every one has polled once.
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      const before = process.memoryUsage().heapUsed
      const waiters = yield* Effect.forEach(
        Array.from({ length: n }, (_, i) => String(i + 1)),
        (id) => Effect.fork(Polling.awaitOutcome(id, { schedule: Schedule.spaced("10 minutes"), maxWait: "1 hour" })),
        { concurrency: "unbounded" }
      )
      // Wait until the server has seen every first poll.
      for (;;) {
        const stats = (yield* Effect.promise(() => fetch(`${server}/__stats`).then((r) => r.json()))) as {
          requests: number
        }
        if (stats.requests >= n + 1) break
        yield* Effect.sleep("100 millis")
      }
      yield* Effect.sleep("500 millis")
      gc?.()
      const after = process.memoryUsage().heapUsed
      report({ bytesPerWaiter: Math.round((after - before) / n), waiters: waiters.length })
      return yield* Effect.void
    }
    case "B6": {
      const stopAt = Date.now() + Number(db || "10000")
      const late: Array<number> = []
      yield* Effect.forEach(
        Array.from({ length: n }, (_, i) => String(i + 1)),
        (id) =>
          Polling.polls(id, { schedule: Schedule.spaced("1 second"), maxWait: "1 hour" }).pipe(
            Stream.takeWhile(() => Date.now() < stopAt),
            Stream.runForEach((o) => Effect.sync(() => late.push(o.receivedAt)))
          ),
        { concurrency: "unbounded", discard: true }
      )
      const arrivals = (yield* Effect.promise(() => fetch(`${server}/__arrivals`).then((r) => r.json()))) as Record<
        string,
        Array<number>
      >
      const lateness: Array<number> = []
      // The plan: one second after the previous answer arrived. Both clocks are this machine's.
      for (const times of Object.values(arrivals)) {
        for (let k = 1; k < times.length; k++) lateness.push((times[k] ?? 0) - (times[k - 1] ?? 0) - 1000)
      }
      lateness.sort((a, b) => a - b)
      return report({ p99LateMs: lateness[Math.floor(lateness.length * 0.99)] ?? 0, polls: lateness.length })
    }
  }
})

if (variant === "raw") {
  raw().then(
    () => process.exit(0),
    (e) => {
      console.error(e)
      process.exit(1)
    }
  )
} else {
  const dir = mkdtempSync(join(tmpdir(), "xquik-bench-"))
  const store =
    (caseId === "B3" || caseId === "B4") && db !== "memory"
      ? SqlQueueStore.layerFromUrl(db || join(dir, "bench.db"))
      : QueueStore.layerMemory
  Effect.runPromise(
    lib.pipe(
      Effect.provide(Layer.mergeAll(Layer.provideMerge(Polling.layer, clientLayer), store, RateBudget.unlimited)),
      Logger.withMinimumLogLevel(LogLevel.Error)
    )
  ).then(
    () => {
      rmSync(dir, { recursive: true, force: true })
      process.exit(0)
    },
    (e) => {
      console.error(e)
      process.exit(1)
    }
  )
}

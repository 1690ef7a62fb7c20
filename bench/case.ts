/**
 * One bench case in one process, as the library or as the raw baseline; prints one JSON line.
 * bench/run.ts starts it; run by hand with
 *   npx tsx bench/case.ts <case> <lib|raw> <n> <concurrency> <serverUrl> [db]
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Schedule from "effect/Schedule"
import { Agent, request } from "undici"
import * as Outbox from "../src/Outbox.js"
import * as Polling from "../src/Polling.js"
import * as QueueRow from "../src/QueueRow.js"
import * as QueueStore from "../src/QueueStore.js"
import * as RateBudget from "../src/RateBudget.js"
import * as SqlQueueStore from "../src/SqlQueueStore.js"
import * as Worker from "../src/Worker.js"
import type * as WriteAction from "../src/WriteAction.js"
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

/**
 * Cadence: each poll's lateness is when the server saw it, minus its plan: one second after the
 * client had the answer before (both clocks are this machine's). The same for both variants.
 */
const received = new Map<string, Array<number>>()
const receivedAt = (id: string, at: number) => {
  const times = received.get(id)
  if (times === undefined) received.set(id, [at])
  else times.push(at)
}
const lateness = async () => {
  const arrivals = (await (await fetch(`${server}/__arrivals`)).json()) as Record<string, Array<number>>
  const late: Array<number> = []
  for (const [id, times] of received) {
    const seen = arrivals[id] ?? []
    for (let k = 1; k < seen.length && k <= times.length; k++) late.push((seen[k] ?? 0) - ((times[k - 1] ?? 0) + 1000))
  }
  late.sort((a, b) => a - b)
  return {
    p99LateMs: late[Math.floor(late.length * 0.99)] ?? 0,
    p50LateMs: late[Math.floor(late.length / 2)] ?? 0,
    maxLateMs: late.at(-1) ?? 0,
    polls: late.length
  }
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
      // 1,000 waiters on a fixed 1 s schedule, by hand: answer, wait a second, poll again.
      const stopAt = Date.now() + Number(db || "10000")
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          while (Date.now() < stopAt) {
            await rawGet(String(i + 1))
            receivedAt(String(i + 1), Date.now())
            await new Promise((r) => setTimeout(r, 1000))
          }
        })
      )
      return report(await lateness())
    }
  }
  const seconds = (performance.now() - started) / 1000
  report({ ops: n / seconds, seconds })
}

// ---------------------------------------------------------------------------------------------
// the library
// ---------------------------------------------------------------------------------------------

const configLayer = XquikConfig.layer({ apiKey, baseUrl: base, readRetry: { times: 0 } })
const clientLayer = XquikClient.layerNode.pipe(Layer.provide(configLayer))
// The same pool XquikClient.layerNode builds (64 sockets, keep-alive 30 s), for the B1 floor.
const platformLayer = NodeHttpClient.layerUndiciWithoutDispatcher.pipe(
  Layer.provide(
    Layer.scoped(
      NodeHttpClient.Dispatcher,
      Effect.acquireRelease(
        Effect.sync(() => new Undici.Agent({ connections: 64, keepAliveTimeout: 30_000 })),
        (agent) => Effect.promise(() => agent.destroy())
      )
    )
  )
)
const fast = { schedule: Schedule.spaced(Duration.zero), minDelay: Duration.zero }

const lib = Effect.gen(function* () {
  switch (caseId) {
    case "B1": {
      if (variant === "platform") {
        // The floor under the client: @effect/platform's HttpClient on the same undici pool, the
        // same GETs, reading each body as text: no decoding, typed errors, timeout or span.
        const http = yield* HttpClient.HttpClient
        const [d] = yield* Effect.timed(
          Effect.forEach(
            Array.from({ length: n }, (_, i) => String(i + 1)),
            (id) =>
              Effect.flatMap(
                http.execute(
                  HttpClientRequest.get(`${base}/x/write-actions/${id}`, { headers: { "x-api-key": apiKey } })
                ),
                (response) => response.text
              ),
            { concurrency, discard: true }
          )
        )
        return report({ ops: n / (Duration.toMillis(d) / 1000), seconds: Duration.toMillis(d) / 1000 })
      }
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
      // Heap per waiting fiber, at the margin: the heap after `warm` waiters and after `warm + n`,
      // so code compiled on the way and one-time set-up are not counted as per-waiter costs. The
      // raw variant is the floor of the runtime itself: bare fibers suspended in Effect.async.
      const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
      const warm = Math.max(500, Math.floor(n / 10))
      const waiters: Array<unknown> = []
      const spawn = (from: number, count: number) =>
        Effect.forEach(
          Array.from({ length: count }, (_, i) => String(from + i + 1)),
          (id) =>
            Effect.map(
              Effect.fork(
                variant === "raw"
                  ? Effect.async<never>(() => {})
                  : Polling.awaitOutcome(id, { schedule: Schedule.spaced("10 minutes"), maxWait: "1 hour" })
              ),
              (fiber) => {
                waiters.push(fiber)
              }
            ),
          { discard: true }
        )
      // Until the server has seen every first poll (and the answers are in).
      const settled = (count: number) =>
        Effect.gen(function* () {
          if (variant === "raw") return yield* Effect.sleep("200 millis")
          for (;;) {
            const stats = (yield* Effect.promise(() => fetch(`${server}/__stats`).then((r) => r.json()))) as {
              requests: number
            }
            if (stats.requests >= count) break
            yield* Effect.sleep("50 millis")
          }
          yield* Effect.sleep("300 millis")
        })
      const heap = Effect.sync(() => {
        gc()
        gc()
        return process.memoryUsage().heapUsed
      })
      yield* spawn(0, warm)
      yield* settled(warm)
      const before = yield* heap
      yield* spawn(warm, n)
      yield* settled(warm + n)
      const after = yield* heap
      if (process.env.SNAP) (yield* Effect.promise(() => import("node:v8"))).writeHeapSnapshot(process.env.SNAP)
      return report({ ops: 0, bytesPerWaiter: Math.round((after - before) / n), waiters: waiters.length })
    }
    case "B6": {
      // 1,000 fibers awaiting pending actions on a fixed 1 s schedule, for the given time.
      yield* Effect.forEach(
        Array.from({ length: n }, (_, i) => String(i + 1)),
        (id) =>
          Effect.ignore(
            Polling.awaitOutcome(id, {
              // The schedule sees each answer: its arrival is the plan's start.
              schedule: Schedule.tapInput(Schedule.spaced("1 second"), (o: WriteAction.Observation) =>
                Effect.sync(() => receivedAt(id, o.receivedAt))
              ),
              maxWait: "1 hour"
            })
          ),
        { concurrency: "unbounded", discard: true }
      ).pipe(Effect.timeout(Duration.millis(Number(db || "10000"))), Effect.ignore)
      return report(yield* Effect.promise(() => lateness()))
    }
  }
})

if (variant === "raw" && caseId !== "B5") {
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
      Effect.provide(
        Layer.mergeAll(Layer.provideMerge(Polling.layer, clientLayer), store, RateBudget.unlimited, platformLayer)
      ),
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

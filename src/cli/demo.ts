/**
 * The main job, offline: starts the simulator in-process, enqueues a mixed batch of writes into
 * the SQLite store, drains it with the worker (showing progress), and prints a summary table and
 * the rows. `npm run demo` and `xquik-write-queue demo` run it.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Outbox from "../Outbox.js"
import * as QueueRow from "../QueueRow.js"
import { QueueStore } from "../QueueStore.js"
import * as SqlQueueStore from "../SqlQueueStore.js"
import * as Sim from "../testing/XquikSimulator.js"
import * as Worker from "../Worker.js"
import * as WriteRequest from "../WriteRequest.js"

const { Steps } = Sim

interface Planned {
  readonly label: string
  readonly request: WriteRequest.WriteRequest
  readonly script: ReadonlyArray<Sim.Step>
}

const settles = [Steps.accepted(), Steps.pending(), Steps.success()]

/** The batch: what each write is, and how the simulated API will treat it. */
const batch = (run: string): ReadonlyArray<Planned> => [
  ...[
    "Shipping v2 today",
    "Thread: what we learned",
    "Docs are live",
    "Thank you, beta testers",
    "Office hours at 5pm"
  ].map((text) => ({
    label: "tweet",
    request: WriteRequest.tweet({ account: "@acme", text: `${text} (${run})` }),
    script: settles
  })),
  {
    label: "tweet, too long for X",
    request: WriteRequest.tweet({ account: "@acme", text: `A very long announcement (${run})` }),
    script: [Steps.httpError(422, "x_content_too_long", { safeToRetry: false })]
  },
  {
    label: "tweet, expires unconfirmed",
    request: WriteRequest.tweet({ account: "@acme", text: `Flaky network day (${run})` }),
    script: [Steps.accepted(), Steps.pending(), Steps.expired()]
  },
  ...["1893456789012345678", "1893456789012345679", "1893456789012345680"].map((parent) => ({
    label: "reply",
    request: WriteRequest.reply({ account: "@acme", replyTo: parent, text: `Thanks for asking! (${run})` }),
    script: [Steps.accepted(), Steps.dispatching(), Steps.pending(), Steps.success()]
  })),
  ...["77", "78", "79"].map((user) => ({
    label: "DM",
    request: WriteRequest.sendDm({ account: "@acme", to: user, text: `Your invite is ready (${run})` }),
    script: settles
  })),
  {
    label: "DM, not permitted",
    request: WriteRequest.sendDm({ account: "@acme", to: "80", text: `Hello (${run})` }),
    script: [
      Steps.accepted(),
      Steps.pending(),
      Steps.failed({ error: "dm_not_permitted", message: "The recipient does not accept DMs." })
    ]
  },
  ...["1893456789012345681", "1893456789012345682", "1893456789012345683"].map((tweetId) => ({
    label: "like",
    request: WriteRequest.like("@acme", tweetId),
    script: [Steps.success()]
  })),
  {
    label: "like, rate limited first",
    request: WriteRequest.like("@acme", "1893456789012345684"),
    script: [Steps.rateLimited(2), Steps.success()]
  }
]

const toStderr = (text: string) =>
  Effect.sync(() => {
    process.stderr.write(`${text}\n`)
  })

const bodyKey = (action: string, body: Readonly<Record<string, unknown>>, target: string | null) =>
  JSON.stringify([action, target, body.text ?? null])

// A bar only on a terminal; elsewhere (a log file, CI) the same counts without it.
const progressLine = (p: Worker.Progress, total: number, bar: boolean) => {
  const done = Math.max(0, total - p.open)
  const width = 24
  const filled = total === 0 ? width : Math.round((done / total) * width)
  const counts = `${done}/${total} done · sent ${p.tally.sent} · polls ${p.tally.polls} · ok ${p.tally.succeeded} · failed ${p.tally.failed} · expired ${p.tally.expired}`
  return bar ? `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${counts}` : counts
}

/**
 * Runs the demo on the store `db` (a SQLite file or a postgres:// URL). stdout: a summary as one JSON line, then this run's rows
 * as JSON lines. stderr: progress (a bar when stderr is a terminal) and the summary as a table.
 *
 * @since 0.1.0
 */
export const run = (options: { readonly db: string; readonly quiet?: boolean }) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const runId = new Date(now).toISOString()
    const planned = batch(runId)
    // The API answers each write by its plan; a rate-limited write is answered differently the second time.
    const plans = new Map(
      planned.map((p) => {
        const http = WriteRequest.toHttp(p.request)
        return [
          bodyKey(WriteRequest.action(p.request), http.body, WriteRequest.targetId(p.request) ?? null),
          p.script
        ] as const
      })
    )
    const seen = new Set<string>()
    const scriptFor: Sim.ScriptFor = (write) => {
      const key = bodyKey(write.action, write.body, write.targetId)
      const script = plans.get(key) ?? settles
      const first = script[0]
      if (first?._tag === "HttpError" && first.status === 429) {
        if (seen.has(key)) return script.slice(1)
        seen.add(key)
      }
      return script
    }
    const simulated = Sim.layerWithClient(
      { script: scriptFor, retryAfterSeconds: 1, pollAfterMs: 1000, firstWriteActionId: now % 1_000_000_000 },
      {}
    )
    const program = Effect.gen(function* () {
      const sim = yield* Sim.XquikSimulator
      const store = yield* QueueStore
      yield* toStderr(`simulator on ${sim.baseUrl}; store ${options.db}; run ${runId}`)
      const jobs = yield* Effect.forEach(planned, (p, i) =>
        Outbox.enqueue(p.request, { dedupeKey: `demo:${runId}:${i}`, metadata: { demo_run: runId, plan: p.label } })
      )
      yield* toStderr(`enqueued ${jobs.length} writes: tweets, replies, DMs and likes`)
      const tty = process.stderr.isTTY === true
      let lastPrinted = ""
      const summary = yield* Worker.drain({
        concurrency: 8,
        maxWait: "2 minutes",
        progressInterval: tty ? "100 millis" : "1 second",
        onProgress: (p) =>
          Effect.sync(() => {
            if (options.quiet === true) return
            const line = progressLine(p, p.total, tty)
            if (tty) process.stderr.write(`\r${line}`)
            else if (line !== lastPrinted) process.stderr.write(`${line}\n`)
            lastPrinted = line
          })
      })
      if (tty && options.quiet !== true) process.stderr.write("\n")
      const rows: Array<QueueRow.QueueRow> = []
      for (const jobId of jobs) {
        const row = yield* store.get(jobId)
        if (row._tag === "Some") rows.push(row.value)
      }
      const stats = yield* sim.stats
      const table = [
        ["outcome", "writes"],
        ...(["succeeded", "failed", "expired", "pending", "queued", "send_unknown"] as const)
          .map((o) => [o, String(rows.filter((r) => QueueRow.outcome(r) === o).length)])
          .filter(([, n]) => n !== "0")
      ]
      // The table is for a person (stderr); stdout carries data only: the summary, then the rows.
      const width = Math.max(...table.map(([o]) => String(o).length))
      yield* toStderr(table.map(([o, n]) => `${String(o).padEnd(width)}  ${n}`).join("\n"))
      yield* toStderr(
        `sent ${summary.processed.sent} · polls ${summary.processed.polls} · ${Math.round(summary.elapsedMs)} ms · API saw ${stats.dispatches} dispatches, ${stats.duplicateDispatches} duplicates, ${stats.pollsAfterTerminal} polls after a terminal answer`
      )
      const outcomes = Object.fromEntries(table.slice(1).map(([o, n]) => [String(o), Number(n)]))
      yield* Console.log(
        JSON.stringify({
          demo_run: runId,
          outcomes,
          sent: summary.processed.sent,
          polls: summary.processed.polls,
          elapsed_ms: Math.round(summary.elapsedMs),
          api: {
            dispatches: stats.dispatches,
            duplicate_dispatches: stats.duplicateDispatches,
            polls_after_terminal: stats.pollsAfterTerminal
          }
        })
      )
      for (const row of rows) yield* Console.log(JSON.stringify(QueueRow.encode(row)))
      return summary
    })
    return yield* program.pipe(Effect.provide(Layer.merge(simulated, SqlQueueStore.layerFromUrl(options.db))))
  })

/**
 * `npm run soak`: jobs through the worker against the simulator with faults injected at random on
 * every request, once on SQLite and once on PostgreSQL; then the promises are checked from the
 * simulator's stats and the store, printed as a table, and written to soak/results.json.
 *
 *   npm run soak                    # 2,000 jobs on each store
 *   npm run soak -- --jobs 500      # the CI size
 *   npm run soak -- --stores sqlite # one store
 *
 * The worker is the real product: the bundled CLI's `drain`, as a child process, with the API key
 * in its environment. Its stdout, stderr (debug logs), every row (`list`) and the SQLite file are
 * searched for the key afterwards.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, tmpdir, totalmem } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { dropSchemas, pgReachable, pgSchema } from "../bench/pg.js"
import * as Outbox from "../src/Outbox.js"
import * as SqlQueueStore from "../src/SqlQueueStore.js"
import * as Sim from "../src/testing/XquikSimulator.js"
import * as WriteRequest from "../src/WriteRequest.js"

const arg = (name: string) => {
  const at = process.argv.indexOf(`--${name}`)
  return at === -1 ? undefined : process.argv[at + 1]
}
const jobs = Number(arg("jobs") ?? 2000)
const stores = (arg("stores") ?? "sqlite,pg").split(",")
const concurrency = Number(arg("concurrency") ?? 64)
const root = process.cwd()

/** The mix of the reliability issue: shares of requests, and of actions that end expired. */
const faults: Sim.Faults = {
  seed: Number(arg("seed") ?? 20261204),
  serverError: 0.05,
  badGateway: 0.02,
  tooManyRequests: 0.02,
  reset: 0.01,
  garbage: 0.01,
  slow: 0.01,
  slowMs: 2000,
  expired: 0.01
}

interface Output {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<Output>((resolve) => {
    const child = spawn(process.execPath, ["dist/bin/xquik-write-queue.js", ...args], {
      cwd: root,
      env: { ...process.env, ...env }
    })
    const out: Array<Buffer> = []
    const err: Array<Buffer> = []
    child.stdout.on("data", (d: Buffer) => out.push(d))
    child.stderr.on("data", (d: Buffer) => err.push(d))
    child.on("close", (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") })
    )
  })

/** A write of each kind the worker sends, in turn. */
const requestFor = (i: number): WriteRequest.WriteRequest => {
  // Fifty accounts: each has its own write budget (30 a minute by default).
  const account = `@soak${i % 50}`
  switch (i % 6) {
    case 0:
      return WriteRequest.reply({ account, text: `soak reply ${i}`, replyTo: String(1900000000000000000n + BigInt(i)) })
    case 1:
      return WriteRequest.sendDm({ account, to: String(1500000000000000000n + BigInt(i)), text: `soak dm ${i}` })
    case 2:
      return WriteRequest.like(account, String(1900000000000000000n + BigInt(i)))
    case 3:
      return WriteRequest.follow(account, String(1500000000000000000n + BigInt(i)))
    default:
      return WriteRequest.tweet({ account, text: `soak tweet ${i}` })
  }
}

interface Row {
  readonly job_id: string
  readonly status: string
  readonly terminal: boolean
  readonly idempotency_key: string | null
  readonly write_action_id: string | null
  readonly error_code: string | null
  readonly message: string | null
  readonly safe_to_retry: boolean
  readonly history: ReadonlyArray<{ readonly idempotency_key: string }>
}

const soak = async (store: "sqlite" | "pg") => {
  const apiKey = `xq_${Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(24))).toString("hex")}`
  const sim = await Sim.start({ apiKey, faults, keepLog: arg("dump") !== undefined })
  const dir = mkdtempSync(join(tmpdir(), "xquik-soak-"))
  const db = store === "sqlite" ? join(dir, "soak.db") : await pgSchema("xq_soak")
  const env = { XQUIK_API_KEY: apiKey, XQUIK_BASE_URL: sim.baseUrl, XQUIK_DEBUG: "1" }
  try {
    // Every job is persisted before the worker starts.
    const jobIds = await Effect.runPromise(
      Effect.forEach(
        Array.from({ length: jobs }, (_, i) => i),
        (i) => Outbox.enqueue(requestFor(i)),
        { concurrency: 16 }
      ).pipe(Effect.provide(Layer.orDie(SqlQueueStore.layerFromUrl(db))))
    )
    const started = performance.now()
    const drain = await cli(["drain", "--db", db, "--concurrency", String(concurrency)], env)
    const seconds = (performance.now() - started) / 1000
    const listed = await cli(["list", "--db", db, "--limit", String(jobs + 100)], env)
    const rows = listed.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Row)
    const stats = await Effect.runPromise(sim.simulator.stats)
    const dump = arg("dump")
    if (dump !== undefined) {
      const log = await Effect.runPromise(sim.simulator.log)
      writeFileSync(
        `${dump}.${store}.json`,
        JSON.stringify({ log, rows, stderr: drain.stderr.split("\n").slice(-400) })
      )
    }

    const byStatus: Record<string, number> = {}
    for (const row of rows) byStatus[row.status] = (byStatus[row.status] ?? 0) + 1
    const listedIds = new Set(rows.map((r) => r.job_id))
    const lost = jobIds.filter((id) => !listedIds.has(id)).length
    const unresolved = rows.filter(
      (r) => !r.terminal && !(r.status === "send_unknown" && (r.message ?? r.error_code ?? "") !== "")
    ).length
    // One key per job (a new key only through retryWithNewKey, which the soak never calls), and
    // every key dispatched at most once; same-key replays are counted apart.
    const keys = rows.flatMap((r) => [
      ...r.history.map((h) => h.idempotency_key),
      ...(r.idempotency_key ? [r.idempotency_key] : [])
    ])
    const keysPerJob = Math.max(0, ...rows.map((r) => r.history.length + 1))
    const sends = keys.reduce((n, k) => n + (stats.sendsByKey[k] ?? 0), 0)
    const withAction = rows.filter((r) => r.write_action_id !== null).length
    const fileText = store === "sqlite" ? readFileSync(db).toString("latin1") + readWal(db) : ""
    const leaks = [drain.stdout, drain.stderr, listed.stdout, listed.stderr, fileText].reduce(
      (n, text) => n + text.split(apiKey).length - 1,
      0
    )
    return {
      store,
      jobs,
      seconds: Math.round(seconds * 10) / 10,
      drainExit: drain.code,
      requests: stats.requests,
      faults: stats.faults,
      outcomes: byStatus,
      failedNothingSent: rows.filter((r) => r.status === "failed" && r.safe_to_retry && r.write_action_id === null)
        .length,
      lostRows: lost,
      unresolved,
      keysPerJob,
      dispatches: stats.dispatches,
      rowsWithAction: withAction,
      sends,
      sameKeyReplays: stats.replays,
      duplicateDispatches: stats.duplicateDispatches,
      conflicts: stats.conflicts,
      pollsAfterTerminal: stats.pollsAfterTerminal,
      retryAfterViolations: stats.retryAfterViolations,
      overlappingPolls: stats.overlappingPolls,
      keyLeaks: leaks,
      debugLogLines: drain.stderr.split("\n").length
    }
  } finally {
    await sim.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const readWal = (db: string) => {
  try {
    return readFileSync(`${db}-wal`).toString("latin1")
  } catch {
    return ""
  }
}

type Result = Awaited<ReturnType<typeof soak>>

const checks = (r: Result) => ({
  "every job terminal or send_unknown with a reason": r.unresolved === 0,
  "zero lost rows": r.lostRows === 0,
  "one key per job": r.keysPerJob === 1,
  "zero duplicate dispatches": r.duplicateDispatches === 0 && r.dispatches === r.rowsWithAction,
  "zero polls after a terminal answer": r.pollsAfterTerminal === 0,
  "zero Retry-After violations": r.retryAfterViolations === 0,
  "zero overlapping polls": r.overlappingPolls === 0,
  "zero API key occurrences": r.keyLeaks === 0
})

const main = async () => {
  const started = performance.now()
  const results: Array<Result & { readonly passed: boolean }> = []
  for (const store of stores) {
    if (store !== "sqlite" && store !== "pg") throw new Error(`unknown store ${store}`)
    if (store === "pg" && !(await pgReachable())) {
      if (process.env.CI === "true") throw new Error("PostgreSQL is not reachable")
      process.stderr.write("soak: PostgreSQL not reachable, skipped\n")
      continue
    }
    process.stderr.write(`soak: ${jobs} jobs on ${store}…\n`)
    const result = await soak(store)
    const passed = Object.values(checks(result)).every(Boolean)
    results.push({ ...result, passed })
    process.stderr.write(`soak: ${store} ${passed ? "passed" : "FAILED"} in ${result.seconds} s\n`)
  }
  await dropSchemas()

  const figures: ReadonlyArray<[string, (r: Result) => unknown]> = [
    ["jobs", (r) => r.jobs],
    ["drain time (s)", (r) => r.seconds],
    ["requests", (r) => r.requests],
    [
      "faults injected",
      (r) =>
        Object.entries(r.faults)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")
    ],
    [
      "outcomes",
      (r) =>
        Object.entries(r.outcomes)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")
    ],
    ["failed before dispatch (safe_to_retry)", (r) => r.failedNothingSent],
    ["lost rows", (r) => r.lostRows],
    ["unresolved rows", (r) => r.unresolved],
    ["keys per job (max)", (r) => r.keysPerJob],
    ["dispatches / rows with an action", (r) => `${r.dispatches} / ${r.rowsWithAction}`],
    ["same-key replays (counted apart)", (r) => r.sameKeyReplays],
    ["duplicate dispatches", (r) => r.duplicateDispatches],
    ["polls after terminal", (r) => r.pollsAfterTerminal],
    ["Retry-After violations", (r) => r.retryAfterViolations],
    ["overlapping polls", (r) => r.overlappingPolls],
    ["API key occurrences", (r) => r.keyLeaks],
    ["worker log lines searched", (r) => r.debugLogLines],
    ["all checks", (r) => (Object.values(checks(r)).every(Boolean) ? "passed" : "FAILED")]
  ]
  console.table(
    Object.fromEntries(figures.map(([name, f]) => [name, Object.fromEntries(results.map((r) => [r.store, f(r)]))]))
  )
  for (const r of results) {
    for (const [name, ok] of Object.entries(checks(r))) if (!ok) console.error(`${r.store}: FAILED: ${name}`)
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
  writeFileSync(
    join(root, "soak/results.json"),
    `${JSON.stringify({ date: new Date().toISOString(), machine, faults, concurrency, elapsedS: Math.round((performance.now() - started) / 1000), results }, null, 2)}\n`
  )
  console.log(`${machine}; soak/results.json written`)
  if (results.some((r) => !r.passed)) process.exit(1)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})

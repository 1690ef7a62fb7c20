/**
 * `npm run bench`: every hot path against a raw baseline in the same run, one table, and
 * bench/results.json. Each case runs 3 rounds (median kept), the library and the baseline in
 * fresh processes against a separate bench server (plain node:http, canned answers) whose CPU
 * time is printed beside each case. The machines are noisy: only ratios within one run count.
 *
 *   npm run bench              # the full sizes of docs/performance.md
 *   npm run bench -- --quick   # small sizes, under 2 minutes; CI runs it so the bench cannot rot
 *   npm run bench -- --only B4,B6   # those cases; their rows replace theirs in bench/results.json
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { join } from "node:path"
import { dropSchemas, pgReachable, pgSchema } from "./pg.js"

const quick = process.argv.includes("--quick")
// `--only B4,B6` runs those cases and replaces their rows in bench/results.json, keeping the rest.
const onlyAt = process.argv.indexOf("--only")
const only = onlyAt < 0 ? undefined : new Set((process.argv[onlyAt + 1] ?? "").split(","))
const wanted = (caseId: string) => only === undefined || only.has(caseId)
// Quick mode (CI) keeps the bench from rotting in one round; its numbers are not asserted.
const rounds = quick ? 1 : 3
// npm runs the bench from the package root (the compiled script lives in .bench/).
const root = process.cwd()

const sizes = quick
  ? { B1: 2000, B2: 1000, B3: 3000, B4: 2000, B5: 2000, B6: 200, B6ms: 4000, B7: 5 }
  : { B1: 20_000, B2: 10_000, B3: 100_000, B4: 20_000, B5: 10_000, B6: 1000, B6ms: 10_000, B7: 15 }

interface Output {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

const run = (args: ReadonlyArray<string>, env: Record<string, string> = {}, node: ReadonlyArray<string> = []) =>
  new Promise<Output>((resolve) => {
    const started = performance.now()
    const child = spawn(process.execPath, [...node, ...args], { cwd: root, env: { ...process.env, ...env } })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString("utf8")
    })
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8")
    })
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }))
  })

const lastJson = (out: Output): Record<string, number> => {
  const line = out.stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .at(-1)
  if (out.code !== 0 || line === undefined) {
    throw new Error(`case failed (exit ${out.code}): ${out.stderr.slice(0, 2000)}`)
  }
  return JSON.parse(line) as Record<string, number>
}

// ---------------------------------------------------------------------------------------------
// the bench server
// ---------------------------------------------------------------------------------------------

let serverProcess: ChildProcess | undefined
const startServer = () =>
  new Promise<string>((resolve) => {
    const child = spawn(process.execPath, ["bench/server.mjs", "0"], { cwd: root })
    serverProcess = child
    child.stdout.once("data", (d: Buffer) => {
      const { port } = JSON.parse(d.toString("utf8")) as { port: number }
      resolve(`http://127.0.0.1:${port}`)
    })
  })

const serverCpu = async (server: string) =>
  ((await (await fetch(`${server}/__stats`)).json()) as { cpuMicros: number }).cpuMicros / 1e6

const reset = (server: string, mode: string, arrivals = false) =>
  fetch(`${server}/__reset?mode=${mode}${arrivals ? "&arrivals=1" : ""}`).then((r) => r.text())

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? Number.NaN
}

/** One case, library and baseline, `rounds` times; the median of each. */
const measure = async (
  server: string,
  caseId: string,
  mode: string,
  n: number,
  concurrency: number,
  options: {
    readonly db?: () => Promise<string>
    readonly libArgs?: (db: string) => Promise<Record<string, number>>
    /** Also run this variant of the case each round (a floor between library and baseline). */
    readonly also?: string
  } = {}
) => {
  const lib: Array<Record<string, number>> = []
  const raw: Array<Record<string, number>> = []
  const also: Array<Record<string, number>> = []
  const cpu: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    await reset(server, mode)
    const db = options.db === undefined ? "" : await options.db()
    const before = await serverCpu(server)
    lib.push(
      options.libArgs === undefined
        ? lastJson(await run([".bench/bench/case.js", caseId, "lib", String(n), String(concurrency), server, db]))
        : await options.libArgs(db)
    )
    cpu.push((await serverCpu(server)) - before)
    await reset(server, mode)
    raw.push(lastJson(await run([".bench/bench/case.js", caseId, "raw", String(n), String(concurrency), server])))
    if (options.also !== undefined) {
      await reset(server, mode)
      also.push(
        lastJson(await run([".bench/bench/case.js", caseId, options.also, String(n), String(concurrency), server]))
      )
    }
  }
  const pick = (xs: Array<Record<string, number>>, key: string) => median(xs.map((x) => x[key] ?? Number.NaN))
  return {
    ops: pick(lib, "ops"),
    baseline: pick(raw, "ops"),
    also: also.length > 0 ? pick(also, "ops") : Number.NaN,
    peakRssMb: Math.max(...lib.map((x) => x.peakRssMb ?? 0)),
    peakHeapMb: Math.max(...lib.map((x) => x.peakHeapMb ?? 0)),
    serverCpuS: median(cpu),
    extra: lib.at(-1) ?? {},
    runs: lib
  }
}

// ---------------------------------------------------------------------------------------------
// the run
// ---------------------------------------------------------------------------------------------

interface Row {
  readonly case: string
  readonly what: string
  readonly value: string
  readonly baseline: string
  readonly ratio: number | null
  readonly target: string
  readonly pass: boolean
  readonly peakRssMb: number
  readonly peakHeapMb: number
  readonly serverCpuS: number
  /** What else the case measured, printed under the table. */
  readonly note?: string
}

const main = async () => {
  const started = performance.now()
  const server = await startServer()
  const rows: Array<Row> = []
  const add = (row: Row) => {
    rows.push(row)
    process.stderr.write(
      `${row.case}: ${row.value} vs ${row.baseline} (ratio ${row.ratio?.toFixed(2) ?? "-"}, target ${row.target}) ${row.pass ? "ok" : "MISSED"}\n`
    )
  }
  const f = (x: number) => `${Math.round(x).toLocaleString("en-US")}/s`

  // B1: getWriteAction with decoding at concurrency 64.
  if (wanted("B1")) {
    const m = await measure(server, "B1", "success", sizes.B1, 64, { also: "platform" })
    const ratio = m.ops / m.baseline
    const floor = m.also / m.baseline
    add({
      case: "B1",
      what: `getWriteAction + decode, c=64, ${sizes.B1} polls`,
      value: f(m.ops),
      baseline: f(m.baseline),
      ratio,
      target: "≥ 0.5×",
      pass: ratio >= 0.5,
      peakRssMb: m.peakRssMb,
      peakHeapMb: m.peakHeapMb,
      serverCpuS: m.serverCpuS,
      note: `B1: @effect/platform HttpClient alone (same pool, execute + text, no decoding): ${f(m.also)}, ${floor.toFixed(2)}× the baseline; the client is ${(m.ops / m.also).toFixed(2)}× that`
    })
  }
  // B2: awaitOutcome, one pending then success, rows in the memory store.
  if (wanted("B2")) {
    const m = await measure(server, "B2", "pending-then-success", sizes.B2, 64)
    const ratio = m.ops / m.baseline
    add({
      case: "B2",
      what: `awaitOutcome, ${sizes.B2} actions, memory store`,
      value: f(m.ops),
      baseline: f(m.baseline),
      ratio,
      target: "≥ 0.4×",
      pass: ratio >= 0.4,
      peakRssMb: m.peakRssMb,
      peakHeapMb: m.peakHeapMb,
      serverCpuS: m.serverCpuS
    })
  }
  // B3: Worker.drain on SQLite: send, one pending, then success.
  if (wanted("B3")) {
    const db = async () => {
      const file = join(root, `.bench-${process.pid}.db`)
      for (const suffix of ["", "-wal", "-shm"])
        await run(["-e", `require("fs").rmSync(${JSON.stringify(file + suffix)}, {force: true})`])
      lastJson(await run([".bench/bench/case.js", "B3", "enqueue", String(sizes.B3), "64", server, file]))
      return file
    }
    const m = await measure(server, "B3", "pending-then-success", sizes.B3, 64, { db })
    const ratio = m.ops / m.baseline
    add({
      case: "B3",
      what: `Worker.drain on SQLite, ${sizes.B3} jobs`,
      value: f(m.ops),
      baseline: f(m.baseline),
      ratio,
      target: "≥ 0.25×, RSS ≤ 300 MB",
      pass: ratio >= 0.25 && m.peakRssMb <= 300,
      peakRssMb: m.peakRssMb,
      peakHeapMb: m.peakHeapMb,
      serverCpuS: m.serverCpuS
    })
  }
  if (!wanted("B4")) {
    // not asked for
  } else if (await pgReachable()) {
    const twoWorkers = async (db: string) => {
      const t0 = performance.now()
      const outs = await Promise.all(
        [0, 1].map(() => run([".bench/bench/case.js", "B4", "lib", String(sizes.B4), "64", server, db]))
      )
      const seconds = (performance.now() - t0) / 1000
      const results = outs.map(lastJson)
      const sent = results.reduce((n, r) => n + (r.sent ?? 0), 0)
      // The server is reset before each run, so its count is this run's.
      const stats = (await (await fetch(`${server}/__stats`)).json()) as { overlapping?: number }
      return {
        ops: sent / seconds,
        sent,
        overlapping: stats.overlapping ?? 0,
        peakRssMb: Math.max(...results.map((r) => r.peakRssMb ?? 0)),
        peakHeapMb: Math.max(...results.map((r) => r.peakHeapMb ?? 0))
      }
    }
    const db = async () => {
      const url = await pgSchema("xq_bench")
      lastJson(await run([".bench/bench/case.js", "B4", "enqueue", String(sizes.B4), "64", server, url]))
      return url
    }
    const m = await measure(server, "B4", "pending-then-success", sizes.B4, 128, { db, libArgs: twoWorkers })
    const ratio = m.ops / m.baseline
    const overlaps = Math.max(...m.runs.map((r) => r.overlapping ?? 0))
    add({
      case: "B4",
      what: `2 worker processes, one PostgreSQL, ${sizes.B4} jobs`,
      value: f(m.ops),
      baseline: f(m.baseline),
      ratio,
      target: "≥ 0.2×, 0 overlapping polls",
      pass: ratio >= 0.2 && overlaps === 0,
      peakRssMb: m.peakRssMb,
      peakHeapMb: m.peakHeapMb,
      serverCpuS: m.serverCpuS,
      note: `B4: ${overlaps} overlapping polls of one id (the most in any round); ${m.runs.map((r) => r.sent ?? 0).join(", ")} sends per round for ${sizes.B4} jobs`
    })
    await dropSchemas()
  } else {
    process.stderr.write("B4: PostgreSQL not reachable, skipped\n")
  }
  // B5: heap per waiting fiber, at the margin; the baseline is a bare Effect fiber, suspended.
  if (wanted("B5")) {
    const lib: Array<number> = []
    const raw: Array<number> = []
    for (let round = 0; round < rounds; round++) {
      for (const [variant, into] of [
        ["lib", lib],
        ["raw", raw]
      ] as const) {
        await reset(server, "pending")
        into.push(
          lastJson(
            await run([".bench/bench/case.js", "B5", variant, String(sizes.B5), "64", server], {}, ["--expose-gc"])
          ).bytesPerWaiter ?? Number.NaN
        )
      }
    }
    const bytes = median(lib)
    add({
      case: "B5",
      what: `${sizes.B5} fibers awaiting pending actions`,
      value: `${(bytes / 1024).toFixed(2)} KB/waiter`,
      baseline: `${(median(raw) / 1024).toFixed(2)} KB (bare fiber)`,
      ratio: null,
      target: "≤ 5 KB per waiter",
      pass: bytes <= 5 * 1024,
      peakRssMb: 0,
      peakHeapMb: 0,
      serverCpuS: 0
    })
  }
  // B6: cadence on a fixed 1 s schedule.
  if (wanted("B6")) {
    const lib: Array<number> = []
    const raw: Array<number> = []
    for (let round = 0; round < rounds; round++) {
      await reset(server, "pending", true)
      lib.push(
        lastJson(await run([".bench/bench/case.js", "B6", "lib", String(sizes.B6), "64", server, String(sizes.B6ms)]))
          .p99LateMs ?? Number.NaN
      )
      await reset(server, "pending", true)
      raw.push(
        lastJson(await run([".bench/bench/case.js", "B6", "raw", String(sizes.B6), "64", server, String(sizes.B6ms)]))
          .p99LateMs ?? Number.NaN
      )
    }
    const p99 = median(lib)
    add({
      case: "B6",
      what: `${sizes.B6} waiters, fixed 1 s schedule`,
      value: `p99 late ${p99} ms`,
      baseline: `p99 late ${median(raw)} ms`,
      ratio: null,
      target: "p99 ≤ 25 ms",
      pass: p99 <= 25,
      peakRssMb: 0,
      peakHeapMb: 0,
      serverCpuS: 0
    })
  }
  // B7: CLI start-up for one status read, against `node -e` with fetch.
  if (wanted("B7")) {
    await reset(server, "success")
    const env = { XQUIK_BASE_URL: `${server}/api/v1`, XQUIK_API_KEY: `xq_${"be".repeat(32)}` }
    const fetchScript = `fetch(process.env.XQUIK_BASE_URL + "/x/write-actions/42", { headers: { "x-api-key": process.env.XQUIK_API_KEY } }).then((r) => r.text()).then((t) => process.stdout.write(t + "\\n"))`
    const cli: Array<number> = []
    const raw: Array<number> = []
    for (let i = 0; i < sizes.B7; i++) {
      const a = await run(["dist/bin/xquik-write-queue.js", "status", "42"], env)
      if (a.code !== 0) throw new Error(`status failed: ${a.stderr}`)
      cli.push(a.ms)
      raw.push((await run(["-e", fetchScript], env)).ms)
    }
    const ratio = median(cli) / median(raw)
    add({
      case: "B7",
      what: "CLI `status <id>` as a whole process",
      value: `${Math.round(median(cli))} ms`,
      baseline: `${Math.round(median(raw))} ms`,
      ratio,
      target: "≤ 2.5× the time",
      pass: ratio <= 2.5,
      peakRssMb: 0,
      peakHeapMb: 0,
      serverCpuS: 0
    })
  }

  serverProcess?.kill()
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
  const date = new Date().toISOString()
  const file = join(root, "bench/results.json")
  // With --only, the other cases stay as the last run left them, and `rerun` says which rows are
  // newer than `date`.
  const previous =
    only !== undefined && existsSync(file)
      ? (JSON.parse(readFileSync(file, "utf8")) as {
          readonly cases?: ReadonlyArray<Row>
          readonly rerun?: Record<string, string>
          readonly [key: string]: unknown
        })
      : undefined
  const result =
    previous === undefined
      ? { date, quick, rounds, machine, elapsedS: Math.round((performance.now() - started) / 1000), cases: rows }
      : {
          ...previous,
          rerun: { ...previous.rerun, ...Object.fromEntries(rows.map((r) => [r.case, date])) },
          cases: [
            ...(previous.cases ?? []).map((c) => rows.find((r) => r.case === c.case) ?? c),
            ...rows.filter((r) => !(previous.cases ?? []).some((c) => c.case === r.case))
          ]
        }
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`)
  console.table(
    rows.map((r) => ({
      case: r.case,
      what: r.what,
      library: r.value,
      baseline: r.baseline,
      ratio: r.ratio === null ? "-" : `${r.ratio.toFixed(2)}×`,
      target: r.target,
      met: r.pass ? "yes" : "NO",
      "peak RSS MB": r.peakRssMb || "-",
      "heap MB": r.peakHeapMb || "-",
      "server CPU s": r.serverCpuS ? r.serverCpuS.toFixed(2) : "-"
    }))
  )
  for (const r of rows) if (r.note !== undefined) console.log(r.note)
  console.log(
    `${machine}; ${Math.round((performance.now() - started) / 1000)} s; medians of ${rounds} rounds${quick ? " (quick sizes)" : ""}; bench/results.json written`
  )
}

main().catch((error) => {
  serverProcess?.kill()
  console.error(error)
  process.exit(1)
})

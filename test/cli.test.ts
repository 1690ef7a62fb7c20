/**
 * The built `xquik-write-queue` command, run as a subprocess against the simulator, as a shell
 * script would: every command, every exit code, pipes, hostile ids, and no secret in any output.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Sim from "../src/testing/XquikSimulator.js"

const { Steps } = Sim
const root = new URL("..", import.meta.url).pathname
const main = join(root, "dist/bin/xquik-write-queue.js")
const dir = mkdtempSync(join(tmpdir(), "xquik-cli-"))

let sim: Sim.Running
const outputs: Array<string> = []

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly lines: ReadonlyArray<Record<string, unknown>>
}

/** A child's exit code and all it printed, once it has closed; the output joins `outputs`. */
const finished = (child: ChildProcessWithoutNullStreams) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString("utf8")
    })
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8")
    })
    child.on("close", (code) => {
      outputs.push(stdout, stderr)
      resolve({ code, stdout, stderr })
    })
  })

/** Runs the CLI with the simulator's credentials unless `env` says otherwise. */
const cli = (args: ReadonlyArray<string>, options: { env?: Record<string, string | undefined>; stdin?: string } = {}) =>
  new Promise<Run>((resolve) => {
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries({
      ...process.env,
      XQUIK_BASE_URL: sim.baseUrl,
      XQUIK_API_KEY: sim.apiKey,
      XQUIK_DB: undefined,
      XQUIK_BEARER_TOKEN: undefined,
      XQUIK_SESSION_COOKIE: undefined,
      ...options.env
    })) {
      if (v !== undefined) env[k] = v
    }
    const child = spawn(process.execPath, [main, ...args], { env, cwd: dir })
    child.stdin.end(options.stdin ?? "")
    void finished(child).then(({ code, stdout, stderr }) => {
      const lines = stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      resolve({ code, stdout, stderr, lines })
    })
  })

/** Runs a shell pipeline of CLI commands (`xq` stands for the CLI). */
const shell = (script: string, env: Record<string, string> = {}) =>
  finished(
    spawn("sh", ["-c", script], {
      cwd: dir,
      env: {
        ...process.env,
        XQUIK_BASE_URL: sim.baseUrl,
        XQUIK_API_KEY: sim.apiKey,
        XQ: `${process.execPath} ${main}`,
        ...env
      }
    })
  )

const seed = (steps: ReadonlyArray<Sim.Step>) => Effect.runPromise(sim.simulator.seed({ steps }))

/** Marks in a write's text choose its script. */
let limitedOnce = false
const scripted: Sim.ScriptFor = (write) => {
  const text = String(write.body.text ?? "")
  // The like of tweet 4290 is rate limited the first time it is sent.
  if (write.targetId === "4290" && !limitedOnce) {
    limitedOnce = true
    return [Steps.rateLimited(1)]
  }
  if (text.includes("#fail")) return [Steps.accepted(), Steps.failed({ error: "x_rejected", safeToRetry: false })]
  if (text.includes("#safe")) return [Steps.httpError(503, "write_tracking_unavailable", { safeToRetry: true })]
  if (text.includes("#expire")) return [Steps.accepted(), Steps.expired()]
  if (text.includes("#stuck")) return [Steps.accepted(), Steps.pending()]
  return [Steps.accepted(), Steps.pending(), Steps.success()]
}

let dbCount = 0
const freshDb = () => join(dir, `q${++dbCount}.db`)

beforeAll(async () => {
  sim = await Sim.start({ script: scripted, retryAfterSeconds: 0, pollAfterMs: 50 })
})

afterAll(async () => {
  await sim.stop()
  // No credential in anything any command printed.
  for (const text of outputs) {
    expect(text).not.toContain(sim.apiKey)
    expect(text).not.toContain("secret-bearer-token-123")
    expect(text).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/)
  }
  rmSync(dir, { recursive: true, force: true })
})

describe("status", () => {
  it("prints the record as one JSON line", async () => {
    const id = await seed([Steps.pending()])
    const run = await cli(["status", id])
    expect(run.code).toBe(0)
    expect(run.lines).toHaveLength(1)
    expect(run.lines[0]).toMatchObject({ writeActionId: id, status: "pending_confirmation", object: "x_write_action" })
    expect(run.stderr).toBe("")
  })

  it("an unknown id is exit 1 with one line; a bad id is exit 64 before any request", async () => {
    const unknown = await cli(["status", "77777777"])
    expect(unknown.code).toBe(1)
    expect(unknown.stdout).toBe("")
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1)
    expect(unknown.stderr).toContain("404 not_found")
    const before = (await Effect.runPromise(sim.simulator.stats)).requests
    for (const bad of ["a/b", "../admin", "1?x=1", "x#y", " 42", "x".repeat(200), "a\u0001b"]) {
      const run = await cli(["status", bad])
      expect(run.code, bad).toBe(64)
      expect(run.stderr.trim().split("\n"), bad).toHaveLength(1)
      expect(run.stderr).toContain("is not a write action id")
    }
    expect((await Effect.runPromise(sim.simulator.stats)).requests).toBe(before)
  })

  it("a missing or doubled credential, a bad URL and an unreachable API each get one line and their exit code", async () => {
    const none = await cli(["status", "1"], { env: { XQUIK_API_KEY: undefined } })
    expect(none.code).toBe(64)
    expect(none.stderr).toContain("Set exactly one of XQUIK_API_KEY, XQUIK_BEARER_TOKEN, XQUIK_SESSION_COOKIE")
    const doubled = await cli(["status", "1"], { env: { XQUIK_BEARER_TOKEN: "secret-bearer-token-123" } })
    expect(doubled.code).toBe(64)
    expect(doubled.stderr).toContain("XQUIK_API_KEY and XQUIK_BEARER_TOKEN")
    const keyFile = join(dir, "key")
    writeFileSync(keyFile, `${sim.apiKey}\n`)
    const both = await cli(["status", "1", "--api-key-file", keyFile])
    expect(both.code).toBe(64)
    expect(both.stderr).toContain("--api-key-file and XQUIK_API_KEY")
    const id = await seed([Steps.success()])
    const fromFile = await cli(["status", id, "--api-key-file", keyFile], { env: { XQUIK_API_KEY: undefined } })
    expect(fromFile.code).toBe(0)
    const ftp = await cli(["status", "1", "--base-url", "ftp://example.com"])
    expect(ftp.code).toBe(64)
    expect(ftp.stderr).toContain("--base-url")
    const down = await cli(["status", "1"], { env: { XQUIK_BASE_URL: "http://127.0.0.1:9/api/v1" } })
    expect(down.code).toBe(1)
    expect(down.stderr).toContain("ECONNREFUSED")
    const wrongKey = await cli(["status", "1"], { env: { XQUIK_API_KEY: "xq_wrong" } })
    expect(wrongKey.code).toBe(1)
    expect(wrongKey.stderr).toContain("401")
    for (const run of [none, doubled, both, ftp, down, wrongKey]) expect(run.stderr.trim().split("\n")).toHaveLength(1)
  })
})

describe("await", () => {
  it("exit 0 when every action succeeded, with one final row per id", async () => {
    const a = await seed([Steps.pending(), Steps.success({ resultId: "111" })])
    const b = await seed([Steps.success({ resultId: "222" })])
    const run = await cli(["await", a, b])
    expect(run.code).toBe(0)
    expect(run.lines.map((l) => [l.write_action_id, l.status, l.result_id]).sort()).toEqual([
      [a, "success", "111"],
      [b, "success", "222"]
    ])
  })

  it("exit 2 when one failed, 3 when one expired and none failed, 4 when still pending at --max-wait", async () => {
    const ok = await seed([Steps.success()])
    const failed = await seed([Steps.failed()])
    const expired = await seed([Steps.expired()])
    const pending = await seed([Steps.pending()])
    expect((await cli(["await", ok, failed, expired])).code).toBe(2)
    expect((await cli(["await", ok, expired])).code).toBe(3)
    const stuck = await cli(["await", "--max-wait", "1s", ok, pending])
    expect(stuck.code).toBe(4)
    expect(stuck.lines.find((l) => l.write_action_id === pending)).toMatchObject({
      status: "pending_confirmation",
      terminal: false
    })
    expect(stuck.stderr).toContain("still pending")
  })

  it("--progress prints every observation; - reads ids from stdin; --db stores the rows", async () => {
    const id = await seed([Steps.accepted(), Steps.pending(), Steps.success()])
    const db = freshDb()
    const run = await cli(["await", "--progress", "--schedule", "fixed:300ms", "--db", db, "-"], { stdin: `${id}\n\n` })
    expect(run.code).toBe(0)
    expect(run.lines.filter((l) => "observation" in l)).toHaveLength(3)
    expect(run.lines.at(-1)).toMatchObject({ write_action_id: id, status: "success" })
    const counts = await cli(["counts", "--db", db])
    expect(counts.lines).toEqual([{ success: 1 }])
  })

  it("bad input: a bad schedule or duration, hostile ids on stdin, an option after the ids", async () => {
    expect((await cli(["await", "--schedule", "sometimes", "1"])).code).toBe(64)
    expect((await cli(["await", "--max-wait", "forever", "1"])).code).toBe(64)
    const hostile = await cli(["await", "-"], { stdin: "42\n../../etc/passwd\n" })
    expect(hostile.code).toBe(64)
    expect(hostile.stderr).toContain("stdin line 2")
    const misplaced = await cli(["await", "-", "--progress"], { stdin: "1\n" })
    expect(misplaced.code).toBe(64)
    expect(misplaced.stderr).toContain("put options before the ids")
    expect((await cli(["await"])).code).toBe(64)
  })
})

describe("writes", () => {
  const cases: Array<[string, ReadonlyArray<string>, string]> = [
    ["tweet", ["--text", "hello"], "create_tweet"],
    ["reply", ["--reply-to", "1893456789012345678", "--text", "yes"], "create_tweet"],
    ["dm", ["--to", "77", "--text", "hi"], "send_dm"],
    ["like", ["--tweet", "123"], "like"],
    ["unlike", ["--tweet", "123"], "unlike"],
    ["retweet", ["--tweet", "123"], "retweet"],
    ["unretweet", ["--tweet", "123"], "unretweet"],
    ["delete-tweet", ["--tweet", "123"], "delete_tweet"],
    ["follow", ["--user", "77"], "follow"],
    ["unfollow", ["--user", "77"], "unfollow"]
  ]

  it("each write command enqueues its write and prints the row; nothing is sent", async () => {
    const db = freshDb()
    const before = (await Effect.runPromise(sim.simulator.stats)).requests
    for (const [command, args, action] of cases) {
      const run = await cli([command, "--account", "@acme", "--db", db, ...args])
      expect(run.code, command).toBe(0)
      expect(run.lines[0], command).toMatchObject({ action, status: "queued", account: "@acme" })
    }
    expect((await Effect.runPromise(sim.simulator.stats)).requests).toBe(before)
    expect((await cli(["counts", "--db", db])).lines).toEqual([{ queued: cases.length }])
    // The same dedupe key twice is one job.
    const first = await cli(["tweet", "--account", "@a", "--text", "t", "--dedupe-key", "k1", "--db", db])
    const again = await cli(["tweet", "--account", "@a", "--text", "t", "--dedupe-key", "k1", "--db", db])
    expect(again.lines[0]?.job_id).toBe(first.lines[0]?.job_id)
  })

  it("--wait sends, awaits and prints the final row, with the outcome's exit code", async () => {
    const db = freshDb()
    const ok = await cli(["tweet", "--account", "@acme", "--text", "shipped", "--wait", "--db", db])
    expect(ok.code).toBe(0)
    expect(ok.lines[0]).toMatchObject({ status: "success", terminal: true })
    const failed = await cli(["dm", "--account", "@acme", "--to", "7", "--text", "#fail", "--wait", "--db", db])
    expect(failed.code).toBe(2)
    expect(failed.lines[0]).toMatchObject({ status: "failed", error_code: "x_rejected" })
    const expired = await cli(["tweet", "--account", "@acme", "--text", "#expire", "--wait", "--db", db])
    expect(expired.code).toBe(3)
  })

  it("--wait sends again after a 429, with the same key", async () => {
    const db = freshDb()
    const run = await cli(["like", "--account", "@a", "--tweet", "4290", "--wait", "--db", db])
    expect(run.code).toBe(0)
    expect(run.lines[0]).toMatchObject({ status: "success", attempts: 1 })
    const key = String(run.lines[0]?.idempotency_key)
    // Two sends under one key: the 429 created nothing, the second created the action.
    expect((await Effect.runPromise(sim.simulator.stats)).sendsByKey[key]).toBe(2)
  })

  it("a missing argument or a bad id in a write is a usage error", async () => {
    const db = freshDb()
    const noAccount = await cli(["tweet", "--text", "x", "--db", db])
    expect(noAccount.code).toBe(64)
    expect(noAccount.stderr).toContain("--account")
    const badId = await cli(["like", "--account", "@a", "--tweet", "1/2", "--db", db])
    expect(badId.code).toBe(64)
    expect(badId.stderr).toContain("tweetId")
    expect((await cli(["counts", "--db", db])).lines).toEqual([{}])
  })
})

describe("the queue", () => {
  it("drain works the queue to its outcomes; exit 2 when one failed", async () => {
    const db = freshDb()
    for (const text of ["a", "b", "c"]) await cli(["tweet", "--account", "@acme", "--text", text, "--db", db])
    const ok = await cli(["drain", "--db", db, "--concurrency", "2"])
    expect(ok.code).toBe(0)
    expect(ok.lines[0]).toMatchObject({ complete: true, outcomes: { succeeded: 3 } })
    await cli(["tweet", "--account", "@acme", "--text", "#fail", "--db", db])
    const withFailure = await cli(["drain", "--db", db])
    expect(withFailure.code).toBe(2)
    expect((await cli(["drain", "--db", db, "--until-empty", "--forever"])).code).toBe(64)
  })

  it("drain exits 3 when one expired and none failed, 4 when one is still pending at --max-wait", async () => {
    const expiredDb = freshDb()
    for (const text of ["a", "b #expire"]) await cli(["tweet", "--account", "@acme", "--text", text, "--db", expiredDb])
    const expired = await cli(["drain", "--db", expiredDb])
    expect(expired.code).toBe(3)
    expect(expired.lines[0]).toMatchObject({ complete: true, outcomes: { succeeded: 1, expired: 1 } })
    const stuckDb = freshDb()
    for (const text of ["a", "b #stuck"]) await cli(["tweet", "--account", "@acme", "--text", text, "--db", stuckDb])
    const stuck = await cli(["drain", "--db", stuckDb, "--max-wait", "2s"])
    expect(stuck.code).toBe(4)
    expect(stuck.lines[0]).toMatchObject({ complete: false, outcomes: { succeeded: 1, pending: 1 } })
  })

  it("drain --forever works the queue until SIGINT, then stops cleanly with exit 130", async () => {
    const db = freshDb()
    for (const text of ["a", "b"]) await cli(["tweet", "--account", "@acme", "--text", text, "--db", db])
    const child = spawn(process.execPath, [main, "drain", "--forever", "--db", db], {
      env: { ...process.env, XQUIK_BASE_URL: sim.baseUrl, XQUIK_API_KEY: sim.apiKey },
      cwd: dir
    })
    const done = finished(child)
    // It keeps running after the queue is empty; stop it once both rows are done.
    for (let i = 0; i < 100; i++) {
      const counts = await cli(["counts", "--db", db])
      if (JSON.stringify(counts.lines[0]) === JSON.stringify({ success: 2 })) break
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(child.exitCode).toBe(null)
    child.kill("SIGINT")
    expect((await done).code).toBe(130)
    expect((await cli(["counts", "--db", db])).lines).toEqual([{ success: 2 }])
  })

  it("--media is repeatable and each URL goes into the stored request", async () => {
    const db = freshDb()
    const urls = ["https://example.com/a.png", "https://example.com/b.png"]
    const run = await cli([
      "tweet",
      "--account",
      "@acme",
      "--text",
      "two",
      "--media",
      urls[0] ?? "",
      "--media",
      urls[1] ?? "",
      "--db",
      db
    ])
    expect(run.code).toBe(0)
    expect(JSON.stringify(run.lines[0]?.request_payload)).toContain(urls[1])
    expect(JSON.stringify(run.lines[0]?.request_payload)).toContain(urls[0])
  })

  it("list filters by status and limit; counts per status; track adds actions for the worker", async () => {
    const db = freshDb()
    const done = await seed([Steps.success()])
    const later = await seed([Steps.pending(), Steps.success()])
    const tracked = await cli(["track", "--db", db, done, later])
    expect(tracked.lines.map((l) => l.write_action_id)).toEqual([done, later])
    expect((await cli(["list", "--db", db, "--status", "accepted"])).lines).toHaveLength(2)
    await cli(["tweet", "--db", db, "--account", "@acme", "--text", "not sent yet"])
    // An outcome name matches what rows say about their jobs; anything else, the status exactly.
    const pending = await cli(["list", "--db", db, "--status", "pending"])
    expect(pending.lines.map((l) => l.write_action_id)).toEqual([done, later])
    expect((await cli(["list", "--db", db, "--status", "pending", "--limit", "1"])).lines).toHaveLength(1)
    expect((await cli(["list", "--db", db, "--status", "queued"])).lines.map((l) => l.status)).toEqual(["queued"])
    expect((await cli(["list", "--db", db, "--status", "succeeded"])).lines).toEqual([])
    expect((await cli(["list", "--db", db, "--limit", "1"])).lines).toHaveLength(1)
    expect((await cli(["list", "--db", db, "--limit", "0"])).code).toBe(64)
    expect((await cli(["drain", "--db", db])).code).toBe(0)
    expect((await cli(["counts", "--db", db])).lines).toEqual([{ success: 3 }])
    expect((await cli(["list", "--db", db, "--status", "succeeded"])).lines).toHaveLength(3)
    expect((await cli(["list", "--db", db, "--status", "pending"])).lines).toEqual([])
  })

  it("retry refuses, saying why, unless the job failed with safe_to_retry", async () => {
    const db = freshDb()
    const unsafe = await cli(["tweet", "--account", "@a", "--text", "#fail", "--wait", "--db", db])
    const refused = await cli(["retry", "--db", db, String(unsafe.lines[0]?.job_id)])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("safe_to_retry is false")
    const safe = await cli(["tweet", "--account", "@a", "--text", "#safe", "--wait", "--db", db])
    expect(safe.lines[0]).toMatchObject({ status: "failed", safe_to_retry: true })
    const retried = await cli(["retry", "--db", db, String(safe.lines[0]?.job_id)])
    expect(retried.code).toBe(0)
    expect(retried.lines[0]).toMatchObject({ status: "queued", attempts: 2 })
    expect((await cli(["retry", "--db", db, "no-such-job"])).code).toBe(64)
  })

  it("pipes: list --status pending | await - settles what is pending", async () => {
    const db = freshDb()
    await cli([
      "track",
      "--db",
      db,
      await seed([Steps.pending(), Steps.success()]),
      await seed([Steps.pending(), Steps.success()])
    ])
    const run = await shell(
      `$XQ list --db "${db}" --status pending | $XQ await --db "${db}" - && $XQ counts --db "${db}"`
    )
    expect(run.code).toBe(0)
    const lines = run.stdout.trim().split("\n")
    expect(JSON.parse(lines.at(-1) ?? "{}")).toEqual({ success: 2 })
  })

  it("await marks an id the API does not know as failed in the store", async () => {
    const db = freshDb()
    const run = await cli(["await", "--db", db, "424242"])
    expect(run.code).toBe(1)
    expect(run.lines[0]).toMatchObject({
      write_action_id: "424242",
      status: "failed",
      terminal: true,
      error_code: "not_found"
    })
    expect((await cli(["counts", "--db", db])).lines).toEqual([{ failed: 1 }])
  })

  it("--quiet drops the notes on stderr and keeps the data on stdout", async () => {
    const pending = await seed([Steps.pending()])
    const loud = await cli(["await", "--max-wait", "1s", pending])
    expect(loud.code).toBe(4)
    expect(loud.stderr).toContain("still pending")
    const quiet = await cli(["await", "--max-wait", "1s", "--quiet", pending])
    expect(quiet.code).toBe(4)
    expect(quiet.stderr).toBe("")
    expect(quiet.lines).toHaveLength(1)
  })

  it("a reader that stops early ends the command quietly", async () => {
    const ids = await Promise.all([1, 2, 3].map(() => seed([Steps.pending(), Steps.success()])))
    const run = await shell(`$XQ await --progress ${ids.join(" ")} | head -c 10`)
    expect(run.stdout).toHaveLength(10)
    expect(run.stderr).not.toContain("EPIPE")
    expect(run.stderr).not.toMatch(/\s+at /)
  })

  it("an unreachable or unusable database is exit 1 with one line", async () => {
    const missingDir = await cli(["counts", "--db", "/nonexistent/dir/q.db"])
    expect(missingDir.code).toBe(1)
    expect(missingDir.stderr.trim().split("\n")).toHaveLength(1)
    const pg = await cli(["counts", "--db", "postgres://postgres:hunter2@127.0.0.1:1/x"])
    expect(pg.code).toBe(1)
    expect(pg.stderr).not.toContain("hunter2")
  })
})

describe("usage", () => {
  it("an unknown command or a missing argument is exit 64 with one line and no stack", async () => {
    for (const args of [["launch-rockets"], ["status"], ["retry"], ["dm", "--account", "@a", "--text", "x"]]) {
      const run = await cli(args)
      expect(run.code, args.join(" ")).toBe(64)
      expect(run.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1)
      expect(run.stdout).toBe("")
    }
  })

  it("--help and --version print to stdout and exit 0", async () => {
    const help = await cli(["--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("xquik-write-queue")
    const version = await cli(["--version"])
    expect(version.code).toBe(0)
    expect(version.stdout).toContain("0.1.0")
  })
})

describe("simulate and demo", () => {
  it("simulate serves the API until stopped", async () => {
    const child = spawn(process.execPath, [main, "simulate", "--port", "0"], {
      env: { ...process.env, XQUIK_API_KEY: "xq_local_sim" }
    })
    const line = await new Promise<string>((resolve) =>
      child.stdout.once("data", (d: Buffer) => resolve(d.toString("utf8")))
    )
    const { baseUrl } = JSON.parse(line) as { baseUrl: string }
    const response = await fetch(`${baseUrl}/x/write-actions/1`, { headers: { "x-api-key": "xq_local_sim" } })
    expect(response.status).toBe(404)
    child.kill("SIGINT")
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve))
    expect(code).toBe(130)
  })

  it("simulate --script plays a JSON script; a bad script is a usage error", async () => {
    const script = join(dir, "script.json")
    writeFileSync(
      script,
      JSON.stringify({
        rules: [{ textIncludes: "boom", steps: [{ _tag: "HttpError", status: 422, code: "x_rejected" }] }]
      })
    )
    const child = spawn(process.execPath, [main, "simulate", "--port", "0", "--script", script], {
      env: { ...process.env, XQUIK_API_KEY: "xq_local_sim" }
    })
    const { baseUrl } = JSON.parse(
      await new Promise<string>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(d.toString("utf8"))))
    ) as { baseUrl: string }
    const run = await cli(["tweet", "--account", "@a", "--text", "boom", "--wait", "--db", freshDb()], {
      env: { XQUIK_BASE_URL: baseUrl, XQUIK_API_KEY: "xq_local_sim" }
    })
    child.kill("SIGINT")
    expect(run.code).toBe(2)
    expect(run.lines[0]).toMatchObject({ error_code: "x_rejected" })
    writeFileSync(script, '[{"_tag": "Nope"}]')
    expect((await cli(["simulate", "--port", "0", "--script", script])).code).toBe(64)
  })

  it("demo runs the main job", async () => {
    const run = await cli(["demo", "--db", freshDb(), "--quiet"])
    expect(run.code).toBe(0)
    expect(run.lines[0]).toMatchObject({ outcomes: { succeeded: 15, failed: 2, expired: 1 } })
    expect(run.lines.slice(1)).toHaveLength(18)
    expect(run.stderr).toContain("succeeded  15")
    // --quiet: no progress lines, only the summary a person asked for.
    expect(run.stderr).not.toContain(" done · ")
  })

  it("simulate --contract a serves the seed's contract, and the CLI follows it to the outcome", async () => {
    const child = spawn(process.execPath, [main, "simulate", "--port", "0", "--contract", "a"], {
      env: { ...process.env, XQUIK_API_KEY: "xq_local_sim" }
    })
    const started = JSON.parse(
      await new Promise<string>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(d.toString("utf8"))))
    ) as { baseUrl: string; contract: string }
    expect(started.contract).toBe("a")
    const run = await cli(["tweet", "--account", "@a", "--text", "hello", "--wait", "--db", freshDb()], {
      env: { XQUIK_BASE_URL: started.baseUrl, XQUIK_API_KEY: "xq_local_sim" }
    })
    const status = await fetch(`${started.baseUrl}/x/write-actions/${String(run.lines[0]?.write_action_id)}`, {
      headers: { "x-api-key": "xq_local_sim" }
    })
    const record = (await status.json()) as Record<string, unknown>
    child.kill("SIGINT")
    expect(run.code).toBe(0)
    expect(run.lines[0]).toMatchObject({ status: "success", terminal: true })
    // Contract A's record: the seed's fields, without the live contract's `object` and `billing`.
    expect(record).toMatchObject({ status: "success" })
    expect(record).not.toHaveProperty("billing")
    expect(record).not.toHaveProperty("object")
    expect(record).toHaveProperty("media.kind")
  })
})

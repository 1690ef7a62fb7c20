/**
 * Hostile command lines: the built CLI (dist/bin/xquik-write-queue.js, built by `npm run build`)
 * run as a subprocess with arbitrary arguments and stdin, against the simulator. Every run ends
 * (a timer kills a run that does not, and the property fails) with a documented exit code, no
 * stack trace, data-only stdout and no credential anywhere.
 */
import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as fc from "effect/FastCheck"
import { hasControlCharacter } from "../src/internal/segment.js"
import * as Sim from "../src/testing/XquikSimulator.js"
import { hostileString } from "./hostile-support.js"

const root = new URL("..", import.meta.url).pathname
const bin = join(root, "dist/bin/xquik-write-queue.js")
const dir = mkdtempSync(join(tmpdir(), "xquik-hostile-cli-"))
const work = join(dir, "work")
mkdirSync(work)

const apiKey = `xq_${"d00dfeed".repeat(8)}`
const pgPassword = "pgSECRETpw0123"
const keyFile = join(dir, "key.txt")
const emptyFile = join(dir, "empty.txt")
writeFileSync(keyFile, `  ${apiKey}\n`)
writeFileSync(emptyFile, "")

const sim = await Sim.start({ apiKey, retryAfterSeconds: 0, pollAfterMs: 20 })

afterAll(async () => {
  await sim.stop()
  rmSync(dir, { recursive: true, force: true })
})

const exitCodes = [0, 1, 2, 3, 4, 64, 130]
const runTimeoutMs = 15_000

interface Run {
  readonly code: number | string
  readonly stdout: string
  readonly stderr: string
}

const run = (args: ReadonlyArray<string>, env: Record<string, string | undefined>, stdin: string) =>
  new Promise<Run>((resolve) => {
    const childEnv: Record<string, string> = {}
    for (const [k, v] of Object.entries({
      ...process.env,
      XQUIK_BASE_URL: sim.baseUrl,
      XQUIK_API_KEY: apiKey,
      XQUIK_DB: undefined,
      XQUIK_BEARER_TOKEN: undefined,
      XQUIK_SESSION_COOKIE: undefined,
      XQUIK_TIMEOUT: undefined,
      XQUIK_DEBUG: undefined,
      ...env
    })) {
      if (v !== undefined) childEnv[k] = v
    }
    const child = spawn(process.execPath, [bin, ...args], { env: childEnv, cwd: work })
    let stdout = ""
    let stderr = ""
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill("SIGKILL")
    }, runTimeoutMs)
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString("utf8")
    })
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8")
    })
    child.stdin.on("error", () => {})
    child.stdin.end(stdin)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code: timedOut ? "timeout" : (code ?? signal ?? "?"), stdout, stderr })
    })
  })

// ---------------------------------------------------------------------------------------------
// command lines
// ---------------------------------------------------------------------------------------------

const commands = [
  "status",
  "await",
  "track",
  "tweet",
  "reply",
  "dm",
  "like",
  "unlike",
  "retweet",
  "unretweet",
  "delete-tweet",
  "follow",
  "unfollow",
  "drain",
  "list",
  "counts",
  "retry"
]

/** Runs forever by design (or for seconds): never generated. */
const excluded = new Set(["simulate", "demo", "--forever"])
/** Flags whose value is a path: only these values, never an arbitrary path (the tests may run as root). */
const pathFlags: Readonly<Record<string, ReadonlyArray<string>>> = {
  "--db": [
    join(dir, "q.db"),
    join(dir, "other.db"),
    dir,
    join(dir, "missing", "q.db"),
    ":memory:",
    "",
    `postgres://xquik:${pgPassword}@127.0.0.1:1/xquik`,
    "postgresql://127.0.0.1:1/x",
    "postgres://%zz"
  ],
  "--api-key-file": [keyFile, emptyFile, join(dir, "nope.txt"), dir, "/dev/null", ""]
}

const general = fc.oneof(
  hostileString,
  fc.constantFrom(
    "42",
    "1000",
    "-",
    "",
    "@acme",
    "1900000000000000001",
    ".",
    "..",
    "a/b",
    "x".repeat(200),
    " 42",
    "-1",
    "0",
    "99999999999999999999",
    "NaN",
    "1.5",
    "15m",
    "1ms",
    "0s",
    "fixed:1ms",
    "exponential:1ms:2ms",
    "exponential:0:0",
    "queued",
    "bash",
    "debug",
    "--",
    "\u009b2J",
    "https://example.com/a.png"
  )
)

const valueFlags = [
  "--base-url",
  "--max-wait",
  "--schedule",
  "--concurrency",
  "--account",
  "--text",
  "--media",
  "--community",
  "--reply-to",
  "--to",
  "--media-id",
  "--tweet",
  "--user",
  "--dedupe-key",
  "--idempotency-key",
  "--status",
  "--limit",
  "--log-level"
]
const booleanFlags = ["--quiet", "--progress", "--note", "--wait", "--until-empty"]
/** @effect/cli's own: help, version, completions and the wizard print text, not JSON lines. */
const builtIns = ["--help", "-h", "--version", "--wizard", "--completions"]

const baseUrls = fc.constantFrom(
  sim.baseUrl,
  "http://127.0.0.1:1/api/v1",
  "ftp://127.0.0.1/api/v1",
  "http://u:p@127.0.0.1:1/api/v1",
  "http://127.0.0.1:1/api/v1?x=1#y",
  "not a url",
  "http://[::1:1/"
)

const item: fc.Arbitrary<ReadonlyArray<string>> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...valueFlags), general) },
  { weight: 1, arbitrary: fc.tuple(fc.constant("--base-url"), baseUrls) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...Object.keys(pathFlags))
      .chain((flag) => fc.constantFrom(...(pathFlags[flag] ?? [""])).map((value) => [flag, value]))
  },
  { weight: 2, arbitrary: fc.constantFrom(...booleanFlags).map((flag) => [flag]) },
  { weight: 1, arbitrary: fc.constantFrom(...builtIns).map((flag) => [flag]) },
  { weight: 4, arbitrary: general.map((value) => [value]) }
)

/** Bounds of the waits a run may ask for. */
const shortWaits = ["300ms", "1s", "2s"]

/**
 * A command line this property must not run: one with an argument that could name a path flag
 * some other way (`--db=…`), one that runs until interrupted, or one that may wait as long as it
 * is told to (`--wait`, `drain`: a send or a poll the server refuses is retried until
 * `--max-wait`, by design) without exactly one short `--max-wait`.
 */
const unsafe = (args: ReadonlyArray<string>) => {
  const maxWaits = args.flatMap((arg, i) => (arg === "--max-wait" ? [args[i + 1] ?? ""] : []))
  const mayWait = args.includes("--wait") || args.includes("drain")
  return (
    (mayWait && !(maxWaits.length === 1 && shortWaits.includes(maxWaits[0] ?? ""))) ||
    args.some(
      (arg, i) =>
        arg.includes("\u0000") ||
        excluded.has(arg) ||
        // Own keys only: an argument such as `constructor` is no path flag.
        (Object.hasOwn(pathFlags, arg) && !(pathFlags[arg] ?? []).includes(args[i + 1] ?? "\u0000")) ||
        Object.keys(pathFlags).some((flag) => arg !== flag && arg.startsWith(flag))
    )
  )
}

/** Any words, for the parser: mostly not a command line at all. */
const anyWords = fc
  .tuple(
    fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...commands) }, { weight: 1, arbitrary: general }),
    fc.array(item, { maxLength: 6 })
  )
  .map(([command, items]) => [command, ...items.flat()])

/** Mostly a valid value, sometimes an arbitrary one. */
const mostly = (...valid: ReadonlyArray<string>) =>
  fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: general })

const opt = (flag: string, value: fc.Arbitrary<string>) =>
  fc.option(
    value.map((v) => [flag, v]),
    { nil: [], freq: 2 }
  )
/** A required option: left out now and then. */
const req = (flag: string, value: fc.Arbitrary<string>) =>
  fc.option(
    value.map((v) => [flag, v]),
    { nil: [], freq: 12 }
  )
const flag = (name: string) => fc.option(fc.constant([name]), { nil: [], freq: 2 })

const globals = fc
  .tuple(
    fc.option(
      fc.constantFrom(...(pathFlags["--db"] ?? [])).map((v) => ["--db", v]),
      { nil: [], freq: 3 }
    ),
    fc.option(
      baseUrls.map((v) => ["--base-url", v]),
      { nil: [], freq: 4 }
    ),
    flag("--quiet")
  )
  .map((parts) => parts.flat())

const id = mostly("1000", "1001", "1002", "42")
const account = mostly("@acme", "@other")
const duration = mostly("1s", "300ms", "2s")
const shortWait = fc.constantFrom(...shortWaits).map((v) => ["--max-wait", v])
const waiting = fc
  .tuple(
    fc.oneof(
      fc.constant([]),
      shortWait.map((maxWait) => ["--wait", ...maxWait])
    ),
    opt("--schedule", mostly("fixed:50ms", "exponential:10ms:100ms"))
  )
  .map((parts) => parts.flat())
const ids = fc.oneof(fc.array(id, { minLength: 1, maxLength: 3 }), fc.constant(["-"]))
const writeKeys = fc
  .tuple(
    opt("--dedupe-key", mostly("k1", "k2")),
    opt("--idempotency-key", mostly("11111111-2222-4333-8444-555555555555"))
  )
  .map((parts) => parts.flat())

const onTweet = fc.tuple(globals, req("--account", account), req("--tweet", id), writeKeys, waiting)
const onUser = fc.tuple(globals, req("--account", account), req("--user", id), writeKeys, waiting)

const shaped: Readonly<Record<string, fc.Arbitrary<ReadonlyArray<ReadonlyArray<string>>>>> = {
  status: fc.tuple(
    globals,
    id.map((v) => [v])
  ),
  await: fc.tuple(
    globals,
    opt("--max-wait", duration),
    opt("--schedule", mostly("fixed:50ms")),
    opt("--concurrency", mostly("1", "8")),
    flag("--progress"),
    ids
  ),
  track: fc.tuple(globals, ids),
  tweet: fc.tuple(
    globals,
    req("--account", account),
    req("--text", general),
    fc
      .array(
        fc.constant("--media").chain((f) => mostly("https://example.com/a.png").map((v) => [f, v])),
        { maxLength: 5 }
      )
      .map((m) => m.flat()),
    flag("--note"),
    opt("--community", id),
    writeKeys,
    waiting
  ),
  reply: fc.tuple(
    globals,
    req("--account", account),
    req("--reply-to", id),
    req("--text", general),
    writeKeys,
    waiting
  ),
  dm: fc.tuple(
    globals,
    req("--account", account),
    req("--to", id),
    req("--text", general),
    opt("--media-id", id),
    waiting
  ),
  like: onTweet,
  unlike: onTweet,
  retweet: onTweet,
  unretweet: onTweet,
  "delete-tweet": onTweet,
  follow: onUser,
  unfollow: onUser,
  drain: fc.tuple(globals, flag("--until-empty"), shortWait, opt("--concurrency", mostly("1", "4"))),
  list: fc.tuple(globals, opt("--status", mostly("queued", "success", "failed")), opt("--limit", mostly("1", "100"))),
  counts: fc.tuple(globals),
  retry: fc.tuple(
    globals,
    general.map((v) => [v])
  )
}

/** A command with options that fit it (values mostly valid) before its arguments. */
const shapedCommand = fc
  .constantFrom(...Object.keys(shaped))
  .chain((command) => (shaped[command] ?? fc.constant([])).map((parts) => [command, ...parts.flat()]))

const commandLine = fc
  .oneof({ weight: 3, arbitrary: shapedCommand }, { weight: 1, arbitrary: anyWords })
  .filter((args) => !unsafe(args))

const stdin = fc
  .array(fc.oneof(fc.constantFrom("42", "", '{"write_action_id":"1000"}', "{}", "a/b", "{"), hostileString), {
    maxLength: 3
  })
  .map((lines) => lines.join("\n"))

const environment = fc.record({
  XQUIK_API_KEY: fc.constantFrom(apiKey, apiKey, apiKey, undefined, "", "not-a-key"),
  XQUIK_TIMEOUT: fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom("1ms", "0", "-1", "abc", "30s", "") }
  )
})

// ---------------------------------------------------------------------------------------------
// the property
// ---------------------------------------------------------------------------------------------

const stackFrame = /^\s+at\s.*(?:\(.*:\d+:\d+\)|:\d+:\d+)\s*$/m
const errorHeading = /^(?:\w*Error|Error)(?::|\s\[)/m
const ansi = /\u001b\[[0-9;?]*[A-Za-z]/g

describe("the CLI under arbitrary command lines", () => {
  it("ends with a documented code, no stack trace, JSON-only stdout, no credential", { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(commandLine, stdin, environment, async (args, input, env) => {
        const result = await run(args, env, input)
        console.log(result.code, JSON.stringify(args).slice(0, 150), result.stderr.slice(0, 120).replace(/\n/g, " "))
        const context = JSON.stringify({ args, code: result.code, stderr: result.stderr.slice(0, 500) })
        expect(result.code, context).not.toBe("timeout")
        expect(exitCodes, context).toContain(result.code)
        expect(result.stderr, context).not.toMatch(stackFrame)
        expect(result.stderr.replace(ansi, ""), context).not.toMatch(errorHeading)
        expect(result.stderr, context).not.toContain("internal error")
        for (const text of [result.stdout, result.stderr]) {
          expect(text, context).not.toContain(apiKey)
          expect(text, context).not.toContain(pgPassword)
        }
        // The one error line echoes no control character.
        for (const line of result.stderr.split("\n")) {
          if (line.startsWith("xquik-write-queue: ")) expect(hasControlCharacter(line), context).toBe(false)
        }
        if (!args.some((arg) => builtIns.includes(arg))) {
          for (const line of result.stdout.split("\n")) {
            if (line.trim() === "") continue
            expect(() => JSON.parse(line), `${context}\nstdout line: ${line.slice(0, 200)}`).not.toThrow()
          }
        }
      }),
      { numRuns: 25 }
    )
  })

  it("--wizard without a terminal is a usage error (exit 64), not a prompt that waits forever", async () => {
    for (const args of [["--wizard"], ["status", "--wizard"], ["status", "42", "--wizard"]]) {
      const result = await run(args, {}, "")
      expect(result.code, args.join(" ")).toBe(64)
      expect(result.stderr).toContain("--wizard needs a terminal")
    }
  })

  it("an error line that echoes an argument escapes its control characters", async () => {
    const result = await run(["status", "\u009b2J\u007f"], {}, "")
    expect(result.code).toBe(64)
    expect(result.stderr).toContain("\\u009b2J\\u007f")
    expect(hasControlCharacter(result.stderr.replace(/\n/g, ""))).toBe(false)
  })
})

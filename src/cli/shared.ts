/**
 * What every command shares: output (JSON lines on stdout, notes on stderr), exit codes, and the
 * parsing of durations, schedules and ids. Kept light: it loads no client, store or driver.
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { parseDurationText } from "../internal/durationText.js"
import { segmentProblem } from "../internal/segment.js"

/** The global options every command takes. */
export interface Globals {
  readonly db: Option.Option<string>
  readonly baseUrl: Option.Option<string>
  readonly apiKeyFile: Option.Option<string>
  readonly quiet: boolean
}

/** A mistake in how the command was called: exit 64, one line saying what to do. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

// ---------------------------------------------------------------------------------------------
// exit codes
// ---------------------------------------------------------------------------------------------

/**
 * 0: every action succeeded · 2: one failed · 3: one expired, none failed · 4: still pending at
 * --max-wait · 1: any other error · 64: usage error. When several apply, the most serious wins:
 * 64, 1, 2, 3, 4, 0.
 */
export const ExitCode = { ok: 0, error: 1, failed: 2, expired: 3, pending: 4, usage: 64, interrupted: 130 } as const

const severity = (code: number) => [0, 4, 3, 2, 1, 64, 130].indexOf(code)

let exitCode: number = ExitCode.ok

/** Records an outcome's exit code; the most serious one is kept. */
export const exitWith = (code: number) =>
  Effect.sync(() => {
    if (severity(code) > severity(exitCode)) exitCode = code
  })

export const currentExitCode = () => exitCode

/** The exit code of a row's outcome. */
export const outcomeCode = (outcome: string): number =>
  outcome === "succeeded"
    ? ExitCode.ok
    : outcome === "failed"
      ? ExitCode.failed
      : outcome === "expired"
        ? ExitCode.expired
        : ExitCode.pending

const usageTags = new Set([
  "UsageError",
  "ValidationError",
  "ConfigError",
  "InvalidWriteActionId",
  "JobNotFound",
  "MissingValue",
  "InvalidValue",
  "CommandMismatch",
  "CorrectedFlag",
  "MultipleValuesDetected",
  "NoBuiltInMatch",
  "UnclusteredFlag"
])

/** The exit code of an error that ended a command. */
export const errorCode = (error: unknown): number => {
  const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : ""
  if (usageTags.has(tag)) return ExitCode.usage
  // A write refused by local validation (never sent) is a usage error too.
  if (
    tag === "InvalidRequest" &&
    typeof error === "object" &&
    error !== null &&
    "status" in error &&
    error.status === 0
  ) {
    return ExitCode.usage
  }
  return ExitCode.error
}

// ---------------------------------------------------------------------------------------------
// output
// ---------------------------------------------------------------------------------------------

/** One JSON line on stdout: data only. */
export const emit = (value: unknown) =>
  Effect.sync(() => {
    process.stdout.write(`${JSON.stringify(value)}\n`)
  })

/** A line on stderr, for a person; dropped by --quiet. */
export const note = (globals: Pick<Globals, "quiet">, text: string) =>
  Effect.sync(() => {
    if (!globals.quiet) process.stderr.write(`${text}\n`)
  })

/** A progress line on stderr: redrawn in place on a terminal, dropped elsewhere and with --quiet. */
export const progress = (globals: Pick<Globals, "quiet">, text: string) =>
  Effect.sync(() => {
    if (!globals.quiet && process.stderr.isTTY === true) process.stderr.write(`\r\u001b[2K${text}`)
  })

export const endProgress = (globals: Pick<Globals, "quiet">) =>
  Effect.sync(() => {
    if (!globals.quiet && process.stderr.isTTY === true) process.stderr.write("\r\u001b[2K")
  })

export const bar = (done: number, total: number, width = 24) => {
  const filled = total <= 0 ? 0 : Math.min(width, Math.round((done / total) * width))
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total}`
}

// ---------------------------------------------------------------------------------------------
// parsing
// ---------------------------------------------------------------------------------------------

export const parseDuration = (flag: string, text: string) =>
  Option.match(parseDurationText(text), {
    onNone: () =>
      Effect.fail(
        new UsageError({
          message: `${flag} ${JSON.stringify(text.slice(0, 40))} is not a duration. Use e.g. 30s, 15m or 1h.`
        })
      ),
    onSome: Effect.succeed
  })

/**
 * `exponential:1s:30s` (start, doubling, jittered, capped) or `fixed:2s`.
 */
export const parseSchedule = (text: string): Effect.Effect<Schedule.Schedule<unknown, unknown>, UsageError> => {
  const bad = new UsageError({
    message: `--schedule ${JSON.stringify(text.slice(0, 40))} is not a schedule. Use exponential:1s:30s or fixed:2s.`
  })
  const [kind, a, b, ...rest] = text.split(":")
  if (rest.length > 0) return Effect.fail(bad)
  const d = (s: string | undefined) => (s === undefined ? Option.none() : parseDurationText(s))
  if (kind === "fixed" && b === undefined) {
    return Option.match(d(a), {
      onNone: () => Effect.fail(bad),
      onSome: (every) => Effect.succeed(Schedule.spaced(every))
    })
  }
  if (kind === "exponential") {
    const start = d(a)
    const cap = d(b)
    if (Option.isNone(start) || Option.isNone(cap) || Duration.lessThan(cap.value, start.value)) return Effect.fail(bad)
    return Effect.succeed(
      Schedule.exponential(start.value).pipe(Schedule.jittered, Schedule.union(Schedule.spaced(cap.value)))
    )
  }
  return Effect.fail(bad)
}

const readStdin = Effect.promise(async () => {
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  return Buffer.concat(chunks).toString("utf8")
})

const shown = (id: string) => JSON.stringify(id.length > 60 ? `${id.slice(0, 60)}…` : id)

/**
 * The ids of `<id…> | -`: `-` reads one id a line from stdin (a JSON row with `write_action_id`,
 * as `list` prints, is read too). Every id is checked before anything is sent.
 */
export const readIds = (args: ReadonlyArray<string>, what: string): Effect.Effect<ReadonlyArray<string>, UsageError> =>
  Effect.gen(function* () {
    const fromStdin = args.length === 1 && args[0] === "-"
    // A variadic list takes every word after it, so an option placed after the ids ends up here.
    const misplaced = args.find((a) => a.startsWith("-") && a !== "-")
    if (misplaced !== undefined) {
      return yield* new UsageError({
        message: `${shown(misplaced)} looks like an option: put options before the ids (e.g. await --progress -).`
      })
    }
    if (!fromStdin && args.includes("-")) {
      return yield* new UsageError({ message: "- (read ids from stdin) cannot be mixed with ids on the command line." })
    }
    const raw = fromStdin ? (yield* readStdin).split(/\r?\n/) : args
    const ids: Array<string> = []
    for (const [n, line] of raw.entries()) {
      const text = fromStdin ? line.trim() : line
      if (fromStdin && text === "") continue
      let id = text
      if (fromStdin && text.startsWith("{")) {
        const parsed = Either.try(() => JSON.parse(text) as unknown)
        const value = Either.getOrUndefined(parsed)
        const field =
          typeof value === "object" && value !== null && "write_action_id" in value ? value.write_action_id : undefined
        if (typeof field !== "string") {
          return yield* new UsageError({
            message: `line ${n + 1} of stdin is a JSON object without a write_action_id.`
          })
        }
        id = field
      }
      const problem = segmentProblem(id)
      if (problem !== undefined) {
        return yield* new UsageError({
          message: `${shown(id)}${fromStdin ? ` (stdin line ${n + 1})` : ""} is not a ${what}: ${problem}.`
        })
      }
      ids.push(id)
    }
    if (ids.length === 0)
      return yield* new UsageError({ message: `no ${what} given. Pass one or more, or - to read them from stdin.` })
    return ids
  })

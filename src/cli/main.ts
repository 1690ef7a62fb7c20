#!/usr/bin/env node
/**
 * The `xquik-write-queue` command, for shell scripts and CI pipelines.
 *
 * stdout carries data only (JSON lines); stderr carries notes, progress and errors. Exit codes:
 * 0 every action succeeded, 2 one failed, 3 one expired (none failed), 4 still pending at
 * --max-wait, 1 any other error, 64 a usage error.
 *
 * Each command loads only what it needs when it runs, so `status` never loads a database driver.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Terminal from "@effect/platform/Terminal"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import { escapeControlCharacters } from "../internal/segment.js"
import { version } from "../internal/version.js"
import * as WriteRequest from "../WriteRequest.js"
import { currentExitCode, ExitCode, errorCode, type Globals, UsageError } from "./shared.js"

// ---------------------------------------------------------------------------------------------
// options every command takes
// ---------------------------------------------------------------------------------------------

const globalOptions = {
  db: Options.text("db").pipe(
    Options.withDescription(
      "The store: a SQLite file or a postgres:// URL (env XQUIK_DB; default ./xquik-write-queue.db)"
    ),
    Options.optional
  ),
  baseUrl: Options.text("base-url").pipe(
    Options.withDescription("The API base URL (env XQUIK_BASE_URL)"),
    Options.optional
  ),
  apiKeyFile: Options.text("api-key-file").pipe(
    Options.withDescription(
      "A file holding the API key (else XQUIK_API_KEY, XQUIK_BEARER_TOKEN or XQUIK_SESSION_COOKIE)"
    ),
    Options.optional
  ),
  quiet: Options.boolean("quiet").pipe(Options.withDescription("No progress or notes on stderr"))
}

const globalsOf = (o: {
  readonly db: Option.Option<string>
  readonly baseUrl: Option.Option<string>
  readonly apiKeyFile: Option.Option<string>
  readonly quiet: boolean
}): Globals => ({ db: o.db, baseUrl: o.baseUrl, apiKeyFile: o.apiKeyFile, quiet: o.quiet })

const waitOptions = {
  maxWait: Options.text("max-wait").pipe(
    Options.withDescription("Give up waiting after this long (exit 4)"),
    Options.withDefault("15m")
  ),
  schedule: Options.text("schedule").pipe(
    Options.withDescription("Delays while the server gives no hint: exponential:1s:30s or fixed:2s"),
    Options.withDefault("exponential:1s:30s")
  )
}

const load = <M, A, E>(module: () => Promise<M>, run: (m: M) => Effect.Effect<A, E>) =>
  Effect.flatMap(Effect.promise(module), run)

// ---------------------------------------------------------------------------------------------
// reading and awaiting
// ---------------------------------------------------------------------------------------------

const status = Command.make("status", { ...globalOptions, id: Args.text({ name: "writeActionId" }) }, (o) =>
  load(
    () => import("./commands/status.js"),
    (m) => m.run(globalsOf(o), o.id)
  )
).pipe(Command.withDescription("One GET of a write action; prints its record as one JSON line"))

const ids = Args.text({ name: "writeActionId" }).pipe(
  Args.withDescription("Write action ids, or - to read them from stdin, one a line"),
  Args.atLeast(1)
)

const awaitCommand = Command.make(
  "await",
  {
    ...globalOptions,
    ...waitOptions,
    concurrency: Options.integer("concurrency").pipe(Options.withDefault(8)),
    progress: Options.boolean("progress").pipe(Options.withDescription("Print every observation as a JSON line")),
    ids
  },
  (o) =>
    load(
      () => import("./commands/await.js"),
      (m) =>
        m.run(globalsOf(o), o.ids, {
          maxWait: o.maxWait,
          schedule: o.schedule,
          concurrency: o.concurrency,
          progress: o.progress
        })
    )
).pipe(Command.withDescription("Polls each write action to its outcome; prints one final row per id"))

const track = Command.make("track", { ...globalOptions, ids }, (o) =>
  load(
    () => import("./commands/queue.js"),
    (m) => m.track(globalsOf(o), o.ids)
  )
).pipe(Command.withDescription("Adds write actions sent elsewhere to the store, for the worker"))

// ---------------------------------------------------------------------------------------------
// writes
// ---------------------------------------------------------------------------------------------

const writeOptions = {
  ...globalOptions,
  ...waitOptions,
  account: Options.text("account").pipe(Options.withDescription("The X account (@username or id) that writes")),
  wait: Options.boolean("wait").pipe(
    Options.withDescription("Also send it, await its outcome and print the final row")
  ),
  dedupeKey: Options.text("dedupe-key").pipe(
    Options.withDescription("Enqueueing the same dedupe key again is a no-op"),
    Options.optional
  ),
  idempotencyKey: Options.text("idempotency-key").pipe(
    Options.withDescription("Your own Idempotency-Key"),
    Options.optional
  )
}

interface WriteFlags {
  readonly db: Option.Option<string>
  readonly baseUrl: Option.Option<string>
  readonly apiKeyFile: Option.Option<string>
  readonly quiet: boolean
  readonly account: string
  readonly wait: boolean
  readonly maxWait: string
  readonly schedule: string
  readonly dedupeKey: Option.Option<string>
  readonly idempotencyKey: Option.Option<string>
}

/** Enqueues (and with --wait, sends and awaits) a write. */
const runWrite = (o: WriteFlags, request: WriteRequest.WriteRequest) =>
  load(
    () => import("./commands/write.js"),
    (m) =>
      m.run(globalsOf(o), request, {
        wait: o.wait,
        maxWait: o.maxWait,
        schedule: o.schedule,
        dedupeKey: o.dedupeKey,
        idempotencyKey: o.idempotencyKey
      })
  )

const text = Options.text("text").pipe(Options.withDescription("The text"))
const media = Options.text("media").pipe(
  Options.withDescription("A public media URL (repeatable, at most 4)"),
  Options.repeated
)
const tweetId = Options.text("tweet").pipe(Options.withDescription("The tweet id"))
const userId = Options.text("user").pipe(Options.withDescription("The user id"))

const tweet = Command.make(
  "tweet",
  {
    ...writeOptions,
    text: text.pipe(Options.optional),
    media,
    note: Options.boolean("note").pipe(Options.withDescription("A long-form note tweet")),
    community: Options.text("community").pipe(Options.withDescription("A community id"), Options.optional)
  },
  (o) =>
    runWrite(o, {
      _tag: "CreateTweet",
      account: o.account,
      ...Option.match(o.text, { onNone: () => ({}), onSome: (t) => ({ text: t }) }),
      ...(o.media.length > 0 ? { media: o.media } : {}),
      ...(o.note ? { isNoteTweet: true } : {}),
      ...Option.match(o.community, { onNone: () => ({}), onSome: (communityId) => ({ communityId }) })
    })
).pipe(Command.withDescription("Enqueues a tweet (a note tweet with --note, a community post with --community)"))

const reply = Command.make(
  "reply",
  {
    ...writeOptions,
    replyTo: Options.text("reply-to").pipe(Options.withDescription("The tweet id to reply to")),
    text,
    media
  },
  (o) =>
    runWrite(
      o,
      WriteRequest.reply({
        account: o.account,
        replyTo: o.replyTo,
        text: o.text,
        ...(o.media.length > 0 ? { media: o.media } : {})
      })
    )
).pipe(Command.withDescription("Enqueues a reply to --reply-to"))

const dm = Command.make(
  "dm",
  {
    ...writeOptions,
    to: Options.text("to").pipe(Options.withDescription("The recipient's user id")),
    text,
    mediaId: Options.text("media-id").pipe(Options.withDescription("One uploaded media id"), Options.optional)
  },
  (o) =>
    runWrite(
      o,
      WriteRequest.sendDm({
        account: o.account,
        to: o.to,
        text: o.text,
        ...Option.match(o.mediaId, { onNone: () => ({}), onSome: (mediaId) => ({ mediaId }) })
      })
    )
).pipe(Command.withDescription("Enqueues a direct message to --to"))

const tweetTarget = (
  name: string,
  description: string,
  make: (account: string, id: string) => WriteRequest.WriteRequest
) =>
  Command.make(name, { ...writeOptions, tweet: tweetId }, (o) => runWrite(o, make(o.account, o.tweet))).pipe(
    Command.withDescription(description)
  )

const userTarget = (
  name: string,
  description: string,
  make: (account: string, id: string) => WriteRequest.WriteRequest
) =>
  Command.make(name, { ...writeOptions, user: userId }, (o) => runWrite(o, make(o.account, o.user))).pipe(
    Command.withDescription(description)
  )

const writes = [
  tweet,
  reply,
  dm,
  tweetTarget("like", "Enqueues a like of --tweet", WriteRequest.like),
  tweetTarget("unlike", "Enqueues an unlike of --tweet", WriteRequest.unlike),
  tweetTarget("retweet", "Enqueues a retweet of --tweet", WriteRequest.retweet),
  tweetTarget("unretweet", "Enqueues an unretweet of --tweet", WriteRequest.unretweet),
  tweetTarget("delete-tweet", "Enqueues the deletion of --tweet", WriteRequest.deleteTweet),
  userTarget("follow", "Enqueues a follow of --user", WriteRequest.follow),
  userTarget("unfollow", "Enqueues an unfollow of --user", WriteRequest.unfollow)
] as const

// ---------------------------------------------------------------------------------------------
// the queue
// ---------------------------------------------------------------------------------------------

const drain = Command.make(
  "drain",
  {
    ...globalOptions,
    concurrency: Options.integer("concurrency").pipe(Options.withDefault(8)),
    untilEmpty: Options.boolean("until-empty").pipe(
      Options.withDescription("Stop when no row is left open (the default)")
    ),
    forever: Options.boolean("forever").pipe(Options.withDescription("Keep working until interrupted")),
    maxWait: Options.text("max-wait").pipe(
      Options.withDescription("Stop after this long (exit 4 if rows are left)"),
      Options.optional
    )
  },
  (o) =>
    o.untilEmpty && o.forever
      ? Effect.fail(new UsageError({ message: "--until-empty and --forever exclude each other; pick one." }))
      : load(
          () => import("./commands/queue.js"),
          (m) => m.drain(globalsOf(o), { concurrency: o.concurrency, forever: o.forever, maxWait: o.maxWait })
        )
).pipe(Command.withDescription("Runs the worker: sends and polls until the queue is empty (or --forever)"))

const list = Command.make(
  "list",
  {
    ...globalOptions,
    status: Options.text("status").pipe(
      Options.withDescription(
        "Only rows with this outcome (pending, succeeded, failed, expired, queued, send_unknown) or exactly this status"
      ),
      Options.optional
    ),
    limit: Options.integer("limit").pipe(Options.withDefault(100))
  },
  (o) =>
    load(
      () => import("./commands/queue.js"),
      (m) => m.list(globalsOf(o), { status: o.status, limit: o.limit })
    )
).pipe(Command.withDescription("Prints rows as JSON lines, oldest first"))

const counts = Command.make("counts", globalOptions, (o) =>
  load(
    () => import("./commands/queue.js"),
    (m) => m.counts(globalsOf(o))
  )
).pipe(Command.withDescription("Prints the number of rows per status as one JSON line"))

const retry = Command.make("retry", { ...globalOptions, jobId: Args.text({ name: "jobId" }) }, (o) =>
  load(
    () => import("./commands/queue.js"),
    (m) => m.retry(globalsOf(o), o.jobId)
  )
).pipe(Command.withDescription("Sends a job again with a new key, only after a failure with safe_to_retry"))

const simulate = Command.make(
  "simulate",
  {
    ...globalOptions,
    port: Options.integer("port").pipe(Options.withDefault(8787)),
    contract: Options.choice("contract", ["a", "b"]).pipe(Options.withDefault("b" as const)),
    script: Options.text("script").pipe(
      Options.withDescription("A JSON file of steps (see docs/cli.md)"),
      Options.optional
    )
  },
  (o) =>
    load(
      () => import("./commands/simulate.js"),
      (m) => m.run(globalsOf(o), { port: o.port, contract: o.contract, script: o.script })
    )
).pipe(Command.withDescription("Runs the Xquik API simulator in the foreground"))

const demo = Command.make("demo", globalOptions, (o) =>
  load(
    () => import("./demo.js"),
    (m) =>
      Effect.asVoid(
        m.run({
          db: Option.getOrElse(o.db, () => process.env.XQUIK_DB?.trim() || "./xquik-write-queue.db"),
          quiet: o.quiet
        })
      )
  )
).pipe(Command.withDescription("The main job, offline: a mixed batch through the worker against the bundled simulator"))

const root = Command.make("xquik-write-queue").pipe(
  Command.withDescription("Gets X writes made through the Xquik API to a known outcome, exactly once"),
  Command.withSubcommands([status, awaitCommand, track, ...writes, drain, list, counts, retry, simulate, demo])
)

const cli = Command.run(root, { name: "xquik-write-queue", version })

// ---------------------------------------------------------------------------------------------
// running: one clear line and an exit code for every failure, never a stack trace
// ---------------------------------------------------------------------------------------------

// @effect/cli prints parse errors (and help) through the Console: help goes to stdout as usual,
// errors are kept here and reduced to one line.
const parseErrors: Array<string> = []
const keepErrors = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Console.consoleWith((console) =>
    Effect.withConsole(effect, {
      ...console,
      error: (...args: ReadonlyArray<unknown>) =>
        Effect.sync(() => {
          parseErrors.push(args.map(String).join(" "))
        })
    })
  )

const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "").trim()

const oneLine = (text: string) =>
  plain(text)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== "") ?? "invalid usage"

const explain = (cause: Cause.Cause<unknown>): { code: number; line: string } => {
  if (Cause.isInterruptedOnly(cause)) return { code: ExitCode.interrupted, line: "interrupted" }
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : ""
    if (tag === "ValidationError" || tag.endsWith("Value") || tag === "CommandMismatch" || tag === "MissingFlag") {
      return {
        code: ExitCode.usage,
        line: `${oneLine(parseErrors.join("\n"))}. Run xquik-write-queue --help for usage.`
      }
    }
    const message = error instanceof Error ? error.message : String(error)
    return { code: errorCode(error), line: message }
  }
  const defect = Cause.squash(cause)
  const detail = defect instanceof Error ? defect.message : String(defect)
  return {
    code: ExitCode.error,
    line: `internal error: ${detail.split("\n")[0]}. Set XQUIK_DEBUG=1 for details and report it.`
  }
}

const logger = Logger.replace(
  Logger.defaultLogger,
  Logger.prettyLogger({ stderr: true, colors: process.stderr.isTTY === true })
)

// `--wizard` prompts on the terminal, and Node's terminal never reports the end of a piped or
// closed stdin: without a terminal the prompt would wait forever. Give it no input instead (the
// wizard quits) and make that a usage error.
let promptedWithoutTerminal = false
const noPromptWithoutTerminal = Layer.effect(
  Terminal.Terminal,
  Effect.map(
    Terminal.Terminal,
    (terminal): Terminal.Terminal =>
      process.stdin.isTTY === true
        ? terminal
        : {
            ...terminal,
            readInput: Effect.flatMap(Mailbox.make<Terminal.UserInput>(), (mailbox) => {
              promptedWithoutTerminal = true
              return Effect.as(mailbox.end, mailbox)
            })
          }
  )
)

const main = Effect.suspend(() => cli(process.argv)).pipe(
  Effect.zipRight(
    Effect.suspend(() =>
      promptedWithoutTerminal
        ? Effect.fail(new UsageError({ message: "--wizard needs a terminal to prompt on; stdin is not one" }))
        : Effect.void
    )
  ),
  keepErrors,
  Effect.provide(Layer.mergeAll(NodeContext.layer, Layer.provide(noPromptWithoutTerminal, NodeContext.layer), logger)),
  Logger.withMinimumLogLevel(process.env.XQUIK_DEBUG === "1" ? LogLevel.Debug : LogLevel.Error)
)

// A reader that stops early (`| head`) closes the pipe: stop quietly with the exit code so far.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(currentExitCode())
})

NodeRuntime.runMain(main, {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) return onExit(currentExitCode())
    const { code, line } = explain(exit.cause)
    // The line may echo an argument: no control character in it reaches the terminal.
    if (code !== ExitCode.interrupted) process.stderr.write(`xquik-write-queue: ${escapeControlCharacters(line)}\n`)
    if (process.env.XQUIK_DEBUG === "1") process.stderr.write(`${Cause.pretty(exit.cause)}\n`)
    onExit(code)
  }
})

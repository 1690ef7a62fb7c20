/**
 * The main job, offline on the embedded defaults: the bundled simulator and a SQLite file
 * (./xquik-write-queue.db). It enqueues a mixed batch of writes, drains it with the worker, and
 * prints a summary and the rows as JSON lines.
 *
 *   npm run demo
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Demo from "../src/cli/demo.js"

// stdout carries the results; logs go to stderr, errors only (the summary shows every failure).
const stderrLogger = Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true }))

Demo.run({ db: process.env.XQUIK_DB ?? "./xquik-write-queue.db" }).pipe(
  Effect.asVoid,
  Logger.withMinimumLogLevel(LogLevel.Error),
  Effect.provide(stderrLogger),
  NodeRuntime.runMain
)

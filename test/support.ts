import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import * as Tracer from "effect/Tracer"

/** Sleeps on the real clock, even inside a TestClock test, so real I/O can progress. */
export const liveSleep = (millis: number): Effect.Effect<void> => TestServices.provideLive(Effect.sleep(millis))

/** Waits (in real time) until `condition` holds, failing the test after `timeoutMs`. */
export const eventually = <E, R>(
  condition: Effect.Effect<boolean, E, R>,
  what: string,
  timeoutMs = 10_000
): Effect.Effect<void, E | Error, R> =>
  Effect.gen(function* () {
    const deadline = Date.now() + timeoutMs
    while (!(yield* condition)) {
      if (Date.now() > deadline) return yield* Effect.fail(new Error(`timed out waiting for ${what}`))
      yield* liveSleep(2)
    }
  })

/** Waits until at least `n` fibers sleep on the TestClock. */
export const awaitSleepers = (n = 1) =>
  eventually(
    Effect.map(TestClock.sleeps(), (sleeps) => Chunk.size(sleeps) >= n),
    `${n} sleeping fiber(s)`
  )

/** Runs `effect` with every log line (all levels) captured as text. */
export const captureLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const lines: Array<string> = []
    const logger = Logger.make((options) => {
      lines.push(Logger.logfmtLogger.log(options))
    })
    return effect.pipe(
      Effect.exit,
      Effect.map((exit) => ({ exit, lines })),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Logger.withMinimumLogLevel(LogLevel.All)
    )
  })

/** A span as the recording tracer kept it. */
export interface RecordedSpan {
  readonly name: string
  readonly attributes: Map<string, unknown>
  readonly events: Array<{ name: string; attributes: Record<string, unknown> | undefined }>
  exit: Exit.Exit<unknown, unknown> | undefined
}

/** A tracer that keeps every span, with its attributes, events and exit. */
export const recordingTracer = () => {
  const spans: Array<RecordedSpan> = []
  let counter = 0
  const tracer = Tracer.make({
    span(name, parent, context, links, startTime, kind) {
      const recorded: RecordedSpan = { name, attributes: new Map(), events: [], exit: undefined }
      spans.push(recorded)
      const id = String(++counter)
      let status: Tracer.SpanStatus = { _tag: "Started", startTime }
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: id,
        traceId: "trace",
        parent,
        context,
        get status() {
          return status
        },
        attributes: recorded.attributes,
        links,
        sampled: true,
        kind,
        end(endTime, exit) {
          status = { _tag: "Ended", startTime, endTime, exit }
          recorded.exit = exit
        },
        attribute(key, value) {
          recorded.attributes.set(key, value)
        },
        event(eventName, _startTime, attributes) {
          recorded.events.push({ name: eventName, attributes })
        },
        addLinks() {}
      }
      return span
    },
    context: (f) => f()
  })
  return { tracer, spans }
}

/**
 * Waits (in real time) until some fiber sleeps on the TestClock until a time in
 * (now, now + withinMs], and returns the earliest such time. Longer sleeps (request timeouts set
 * to a day in these tests, maxWait timers) are not counted.
 */
export const awaitWake = (withinMs: number) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 10_000
    for (;;) {
      const now = yield* TestClock.currentTimeMillis
      const due = Chunk.toReadonlyArray(yield* TestClock.sleeps()).filter((t) => t > now && t <= now + withinMs)
      if (due.length > 0) return Math.min(...due)
      if (Date.now() > deadline) return yield* Effect.dieMessage(`no fiber went to sleep within ${withinMs} ms`)
      yield* liveSleep(1)
    }
  })

/** Advances the TestClock to the next wake-up within `withinMs` (see {@link awaitWake}). */
export const wakeNext = (withinMs: number) =>
  Effect.flatMap(awaitWake(withinMs), (at) =>
    Effect.flatMap(TestClock.currentTimeMillis, (now) => TestClock.adjust(at - now))
  )

/** Waits (in real time) until some fiber sleeps on the TestClock until exactly `at`. */
export const awaitWakeAt = (at: number) =>
  eventually(
    Effect.map(TestClock.sleeps(), (sleeps) => Chunk.some(sleeps, (t) => t === at)),
    `a fiber sleeping until ${at}`
  )

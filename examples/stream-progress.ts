/**
 * Watch a write settle: every poll is printed as it happens.
 *
 *   npx tsx examples/stream-progress.ts
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { Polling, WriteAction } from "../src/index.js"
import { layerWithClient, Steps, XquikSimulator } from "../src/testing/index.js"

const program = Effect.gen(function* () {
  const sim = yield* XquikSimulator
  // A write that someone else sent; we only have its id.
  const id = yield* sim.seed({
    action: "send_dm",
    steps: [Steps.accepted(), Steps.dispatching(), Steps.pending(), Steps.pending(), Steps.success()]
  })
  const started = Date.now()
  yield* Polling.polls(id, { schedule: Schedule.spaced("200 millis"), minDelay: "100 millis" }).pipe(
    Stream.runForEach((observation) => {
      const hint = Option.getOrElse(Polling.serverHint(observation), () => -1)
      return Console.log(
        `+${String(Date.now() - started).padStart(5)} ms  ${observation.httpStatus}  ${observation.record.status.padEnd(20)}` +
          `  ${WriteAction.outcome(observation.record)._tag}${hint >= 0 ? `  (server asks to wait ${hint} ms)` : ""}`
      )
    })
  )
})

program.pipe(Effect.provide(layerWithClient({ retryAfterSeconds: 0, pollAfterMs: 250 })), NodeRuntime.runMain)

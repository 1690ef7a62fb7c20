/**
 * The offline demo: starts the bundled simulator, submits a tweet with an Idempotency-Key, polls
 * its status until the outcome is known, and prints each observation and the outcome.
 *
 *   npm run demo
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { WriteAction, WriteRequest, XquikClient } from "../src/index.js"
import * as Sim from "../src/testing/index.js"

const program = Effect.gen(function* () {
  const sim = yield* Sim.XquikSimulator
  const client = yield* XquikClient.XquikClient
  yield* Console.error(`simulator listening at ${sim.baseUrl}`)

  const key = WriteRequest.IdempotencyKey.make()
  const submitted = yield* client.submit(
    WriteRequest.tweet({ account: "@demo", text: "Hello from xquik-write-queue" }),
    key
  )
  if (submitted._tag !== "Recorded") return yield* Effect.dieMessage(`unexpected ${submitted._tag}`)

  let observation = submitted.observation
  console.log(JSON.stringify({ observation: "submit", httpStatus: observation.httpStatus, record: observation.record }))
  while (!WriteAction.isTerminal(observation.record)) {
    // Server first: Retry-After, then pollAfterMs, then one second.
    const delay = Option.getOrElse(
      Option.orElse(observation.retryAfter, () =>
        Option.map(WriteAction.pollAfterMs(observation.record), Duration.millis)
      ),
      () => Duration.seconds(1)
    )
    yield* Effect.sleep(delay)
    observation = yield* client.getWriteAction(observation.record.writeActionId)
    console.log(JSON.stringify({ observation: "poll", httpStatus: observation.httpStatus, record: observation.record }))
  }
  const outcome = WriteAction.outcome(observation.record)
  console.log(
    JSON.stringify({
      outcome: outcome._tag,
      writeActionId: observation.record.writeActionId,
      resultId: Option.getOrNull(WriteAction.resultId(observation.record)),
      chargedCredits: observation.record.chargedCredits
    })
  )
  const stats = yield* sim.stats
  yield* Console.error(
    `simulator: ${stats.requests} requests, ${stats.pollsAfterTerminal} polls after terminal, ${stats.duplicateDispatches} duplicate dispatches`
  )
})

program.pipe(
  Effect.provide(
    Sim.layerWithClient({
      retryAfterSeconds: 0,
      pollAfterMs: 250,
      script: [Sim.Steps.accepted(), Sim.Steps.dispatching(), Sim.Steps.pending(), Sim.Steps.success()]
    })
  ),
  NodeRuntime.runMain
)

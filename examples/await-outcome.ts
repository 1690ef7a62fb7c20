/**
 * Submit a tweet, then await its outcome: the loop that every Xquik user writes by hand.
 *
 *   npx tsx examples/await-outcome.ts
 *
 * It runs against the bundled simulator. Against the real API, replace `Simulated` with
 * `Layer.provideMerge(Polling.layer, XquikClient.layerNode.pipe(Layer.provide(XquikConfig.layerConfig())))`.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { Polling, WriteRequest, XquikClient } from "../src/index.js"
import { layerWithClient, Steps } from "../src/testing/index.js"

const program = Effect.gen(function* () {
  const client = yield* XquikClient.XquikClient
  // One key per intended write: store it with the job before sending.
  const key = WriteRequest.IdempotencyKey.make()
  const submitted = yield* client.submit(WriteRequest.tweet({ account: "@acme", text: "Shipped!" }), key)
  if (submitted._tag !== "Recorded") return yield* Effect.dieMessage(`unexpected answer ${submitted._tag}`)
  const id = submitted.observation.record.writeActionId
  yield* Console.log(`submitted: write action ${id} is ${submitted.observation.record.status}`)

  const succeeded = yield* Polling.awaitOutcome(id, { after: submitted.observation, maxWait: "1 minute" })
  yield* Console.log(
    `succeeded: tweet ${Option.getOrElse(succeeded.resultId, () => "?")}, ${succeeded.chargedCredits} credits`
  )
}).pipe(
  Effect.catchTags({
    WriteFailed: (e) => Console.log(`failed: ${e.message}`),
    WriteExpired: (e) => Console.log(`expired: ${e.message}`),
    StillPending: (e) => Console.log(`still pending: ${e.message}`)
  })
)

const Simulated = Layer.provideMerge(
  Polling.layer,
  layerWithClient({
    retryAfterSeconds: 0,
    pollAfterMs: 300,
    script: [Steps.accepted(), Steps.pending(), Steps.success()]
  })
)

program.pipe(Effect.provide(Simulated), NodeRuntime.runMain)

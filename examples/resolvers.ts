/**
 * Compose resolvers: keep the queue-state row, announce successes, treat a duplicate as done,
 * and escalate every other failure, all from one poll loop per write.
 *
 *   npx tsx examples/resolvers.ts
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { Polling, type QueueRow, Resolver } from "../src/index.js"
import { layerWithClient, Steps, XquikSimulator } from "../src/testing/index.js"

/** Where alerts go: a service the resolvers need until it is provided. */
class Alerts extends Context.Tag("example/Alerts")<
  Alerts,
  { readonly page: (text: string) => Effect.Effect<void> }
>() {}

const announce = Resolver.onSuccess((o, r) =>
  Console.log(`✓ ${r.writeActionId}: posted ${Option.getOrElse(o.resultId, () => "?")} for ${o.chargedCredits} credits`)
)
const duplicate = Resolver.onFailedCode("x_duplicate_action", (_o, r) =>
  Console.log(`= ${r.writeActionId}: X already has this post; nothing to do`)
)
const escalate = Resolver.onFailed((o, r) =>
  Effect.flatMap(Alerts, (alerts) =>
    alerts.page(`✗ ${r.writeActionId}: ${Option.getOrElse(o.errorCode, () => "failed")}`)
  )
)
const verify = Resolver.onExpired((_o, r) => Console.log(`? ${r.writeActionId}: expired; verify on X, do not resend`))

const program = Effect.gen(function* () {
  const sim = yield* XquikSimulator
  const scripts = [
    [Steps.pending(), Steps.success()],
    [Steps.pending(), Steps.failed({ error: "x_duplicate_action" })],
    [Steps.failed({ error: "x_account_suspended" })],
    [Steps.pending(), Steps.expired()]
  ]
  for (const steps of scripts) {
    const id = yield* sim.seed({ steps })
    const row = yield* Ref.make(Option.none<QueueRow.QueueRow>())
    const resolver = Resolver.all(
      Resolver.queueRow(row),
      announce.pipe(Resolver.orElse(duplicate), Resolver.orElse(escalate), Resolver.orElse(verify))
    ).pipe(Resolver.provideService(Alerts, { page: (text) => Console.error(`PAGE: ${text}`) }))
    yield* Polling.resolve(id, resolver, { minDelay: "50 millis" })
    const kept = Option.getOrThrow(yield* Ref.get(row))
    yield* Console.log(
      `  row: ${JSON.stringify({ status: kept.status, result_id: kept.result_id, error_code: kept.error_code, polls: kept.polls })}`
    )
  }
})

program.pipe(Effect.provide(layerWithClient({ retryAfterSeconds: 0, pollAfterMs: 100 })), NodeRuntime.runMain)

import * as Effect from "effect/Effect"
import * as QueueStore from "../../src/QueueStore.js"
import { storeSuite } from "./suite.js"

storeSuite({
  name: "memory",
  fresh: Effect.map(QueueStore.makeMemory, (store) => ({ store, second: Effect.succeed(store) }))
})

import * as Effect from "effect/Effect"
import { XquikClient } from "../../XquikClient.js"
import * as Live from "../live.js"
import { emit, type Globals, readIds } from "../shared.js"

/** `status <writeActionId>`: one GET, the record as one JSON line. */
export const run = (globals: Globals, id: string) =>
  Effect.gen(function* () {
    const [checked = id] = yield* readIds([id], "write action id")
    const client = yield* XquikClient
    const observation = yield* client.getWriteAction(checked)
    yield* emit(observation.record)
  }).pipe(Effect.provide(Live.client(globals, { readRetry: { times: 0 } })))

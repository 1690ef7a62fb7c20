import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ClaimOptions } from "../QueueStore.js"
import { StoreError } from "../XquikError.js"

/** Checks claim options; a bad one is a typed error, not a defect. */
export const checkClaim = (
  options: Partial<ClaimOptions>
): Effect.Effect<{ limit: number; leaseMs: number }, StoreError> => {
  const limit = options.limit ?? 1
  const lease = options.leaseFor === undefined ? Option.none() : Duration.decodeUnknown(options.leaseFor)
  const leaseMs = Option.match(lease, { onNone: () => Number.NaN, onSome: Duration.toMillis })
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    return Effect.fail(new StoreError({ operation: "claim", reason: "limit must be an integer from 1 to 10,000" }))
  }
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
    return Effect.fail(new StoreError({ operation: "claim", reason: "leaseFor must be a positive, finite duration" }))
  }
  if (typeof options.workerId !== "string" || options.workerId.length === 0 || options.workerId.length > 200) {
    return Effect.fail(new StoreError({ operation: "claim", reason: "workerId must be 1 to 200 characters" }))
  }
  return Effect.succeed({ limit, leaseMs })
}

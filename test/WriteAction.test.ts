import { readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as WriteAction from "../src/WriteAction.js"

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"))

const seedRecord = fixture("seed-status-record.json")
const openapi = fixture("openapi-write-actions.json") as {
  components: {
    responses: Record<
      string,
      { content?: Record<string, { example?: unknown; examples?: Record<string, { value: unknown }> }> }
    >
  }
}

/** Every example body of the OpenAPI subset that is an `XWriteAction` record. */
const openapiRecordExamples = (): Array<[string, unknown]> => {
  const out: Array<[string, unknown]> = []
  for (const [name, response] of Object.entries(openapi.components.responses)) {
    for (const media of Object.values(response.content ?? {})) {
      const examples = [media.example, ...Object.values(media.examples ?? {}).map((e) => e.value)]
      for (const example of examples) {
        if (typeof example === "object" && example !== null && "object" in example) out.push([name, example])
      }
    }
  }
  return out
}

const liveRecord = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...(openapiRecordExamples()[0]?.[1] as Record<string, unknown>),
  ...overrides
})

const decodeRight = (body: unknown): WriteAction.WriteAction => {
  const result = WriteAction.decode(body)
  if (Either.isLeft(result)) throw new Error(`expected a record: ${result.left.fieldPath} ${result.left.reason}`)
  return result.right
}

const decodeLeft = (body: unknown): WriteAction.DecodeFailure => {
  const result = WriteAction.decode(body)
  if (Either.isRight(result)) throw new Error("expected a decode failure")
  return result.left
}

describe("WriteAction.decode", () => {
  it("decodes the seed page's status record verbatim (contract A)", () => {
    const record = decodeRight(seedRecord)
    expect(WriteAction.isLive(record)).toBe(false)
    expect(record.writeActionId).toBe("42")
    expect(record.status).toBe("pending_confirmation")
    expect(record.chargedCredits).toBe("0")
    expect(record.media).toEqual({ count: 0, credits: "0", kind: "none", totalBytes: "0" })
    expect(Option.getOrNull(WriteAction.targetId(record))).toBe("1234567890")
    expect(WriteAction.isTerminal(record)).toBe(false)
    expect(WriteAction.outcome(record)._tag).toBe("Pending")
  })

  it("reads the seed page's queue-row example's media with the Media schema, and refuses the row as a record", () => {
    const row = fixture("seed-queue-row.json") as { media: unknown }
    expect(Schema.decodeUnknownSync(WriteAction.Media)(row.media)).toEqual({
      count: 1,
      credits: "2",
      kind: "image",
      totalBytes: "834921"
    })
    // The row is not a status record: it has no writeActionId.
    expect(decodeLeft(row).fieldPath).toBe("$.writeActionId")
  })

  it("decodes every example record of the OpenAPI subset (contract B)", () => {
    const examples = openapiRecordExamples()
    expect(examples.map(([name]) => name).sort()).toEqual(["WriteActionAccepted", "WriteActionCompleted"])
    for (const [, example] of examples) {
      const record = decodeRight(example)
      expect(WriteAction.isLive(record)).toBe(true)
    }
    const completed = decodeRight(examples.find(([n]) => n === "WriteActionCompleted")?.[1])
    expect(WriteAction.outcome(completed)).toMatchObject({ _tag: "Succeeded", chargedCredits: "10" })
    expect(Option.getOrNull(WriteAction.resultId(completed))).toBe("9876543210")
    const accepted = decodeRight(examples.find(([n]) => n === "WriteActionAccepted")?.[1])
    expect(WriteAction.outcome(accepted)).toMatchObject({ _tag: "Pending", status: "dispatching" })
    expect(Option.getOrNull(WriteAction.pollAfterMs(accepted))).toBe(2000)
    expect(Option.getOrNull(WriteAction.nextAction(accepted))).toMatchObject({ type: "poll", afterMs: 2000 })
  })

  it("keeps unknown enum values and ignores unknown fields", () => {
    const record = decodeRight(
      liveRecord({
        status: "teleported",
        action: "paint_sky",
        terminal: false,
        billing: { status: "escrowed", charged: false, plannedCredits: "10", chargedCredits: "0" },
        nextAction: { type: "consult_oracle" },
        error: "x_brand_new_code",
        someFutureField: { nested: true }
      })
    )
    expect(record.status).toBe("teleported")
    expect(record.action).toBe("paint_sky")
    expect(record.error).toBe("x_brand_new_code")
    expect(WriteAction.isLive(record) && record.billing.status).toBe("escrowed")
    expect("someFutureField" in record).toBe(false)
    expect(WriteAction.outcome(record)._tag).toBe("Pending")
  })

  it("keeps credits as exact digit strings, beyond float precision", () => {
    const record = decodeRight(
      liveRecord({
        chargedCredits: "123456789012345678901234567890",
        billing: {
          status: "charged",
          charged: true,
          plannedCredits: "99999999999999999999",
          chargedCredits: "123456789012345678901234567890"
        }
      })
    )
    expect(record.chargedCredits).toBe("123456789012345678901234567890")
    expect(BigInt(record.chargedCredits)).toBe(123456789012345678901234567890n)
  })

  describe("hostile bodies give a DecodeFailure with the field path", () => {
    const cases: Array<[string, unknown, string]> = [
      ["status: null", liveRecord({ status: null }), "$.status"],
      ["missing status", { ...liveRecord(), status: undefined }, "$.status"],
      ["chargedCredits 1.5", liveRecord({ chargedCredits: "1.5" }), "$.chargedCredits"],
      ["chargedCredits as a number", liveRecord({ chargedCredits: 10 }), "$.chargedCredits"],
      [
        "negative plannedCredits",
        liveRecord({ billing: { status: "pending", charged: false, plannedCredits: "-1", chargedCredits: "0" } }),
        "$.billing.plannedCredits"
      ],
      [
        "media.credits 1e3 (contract A)",
        { ...(seedRecord as object), media: { count: 0, credits: "1e3", kind: "none", totalBytes: "0" } },
        "$.media.credits"
      ],
      [
        "media.totalBytes as a number (contract B)",
        liveRecord({ media: { totalBytes: 834921 } }),
        "$.media.totalBytes"
      ],
      ["an array where billing belongs", liveRecord({ billing: [] }), "$.billing"],
      [
        "an array where request.payload belongs",
        liveRecord({ request: { hash: null, payload: [1, 2] } }),
        "$.request.payload"
      ],
      ["an array where the body belongs", [liveRecord()], "$"],
      ["a string body", "hello", "$"],
      ["null body", null, "$"],
      ["a 10 MB status", liveRecord({ status: "s".repeat(10 * 1024 * 1024) }), "$.status"],
      ["a 10 MB message", liveRecord({ message: "m".repeat(10 * 1024 * 1024) }), "$.message"],
      ["a bad write action id", liveRecord({ writeActionId: "a/b" }), "$.writeActionId"],
      ["pollAfterMs -5", liveRecord({ pollAfterMs: -5 }), "$.pollAfterMs"],
      ["terminal as a string", liveRecord({ terminal: "yes" }), "$.terminal"],
      ["contract A without media", { ...(seedRecord as object), media: undefined }, "$.media"]
    ]
    for (const [name, body, path] of cases) {
      it(name, () => {
        const failure = decodeLeft(body)
        expect(failure._tag).toBe("DecodeFailure")
        expect(failure.fieldPath).toBe(path)
        expect(failure.reason.length).toBeLessThan(300)
      })
    }
  })
})

describe("WriteActionId", () => {
  it("accepts opaque ids of 1 to 128 characters", () => {
    for (const id of ["42", "wa_01HZX", "a".repeat(128), "ü-ñ", "x:y@z"]) {
      expect(WriteAction.writeActionIdProblem(id)).toBeUndefined()
    }
  })
  it("rejects empty, long, path-breaking and control-character ids", () => {
    for (const id of ["", "a".repeat(129), "a/b", "a?b", "a#b", "a\nb", "a\u0000b", "a\u007fb", " 42"]) {
      expect(WriteAction.writeActionIdProblem(id)).toBeTypeOf("string")
    }
  })
})

describe("WriteAction.outcome", () => {
  const seed = (status: string) => decodeRight({ ...(seedRecord as object), status })
  it("maps contract A statuses without a terminal flag", () => {
    expect(WriteAction.outcome(seed("success"))._tag).toBe("Succeeded")
    expect(WriteAction.outcome(seed("failed"))._tag).toBe("Failed")
    expect(WriteAction.outcome(seed("expired"))._tag).toBe("Expired")
    expect(WriteAction.outcome(seed("pending_confirmation"))._tag).toBe("Pending")
    expect(WriteAction.outcome(seed("something_new"))._tag).toBe("Pending")
  })
  it("lets the terminal flag decide when present", () => {
    expect(WriteAction.outcome(decodeRight(liveRecord({ status: "success", terminal: false })))._tag).toBe("Pending")
    expect(
      WriteAction.outcome(decodeRight(liveRecord({ status: "cancelled", terminal: true, success: false })))._tag
    ).toBe("Failed")
    expect(
      WriteAction.outcome(decodeRight(liveRecord({ status: "done_new_way", terminal: true, success: true })))._tag
    ).toBe("Succeeded")
    expect(
      WriteAction.outcome(decodeRight(liveRecord({ status: "expired", terminal: true, success: false })))._tag
    ).toBe("Expired")
  })
  it("gives Failed the message, error code, safeToRetry and next action", () => {
    const outcome = WriteAction.outcome(
      decodeRight(
        liveRecord({
          status: "failed",
          terminal: true,
          success: false,
          safeToRetry: true,
          error: "x_duplicate_action",
          message: "Duplicate",
          nextAction: { type: "retry", requiresNewIdempotencyKey: true },
          result: null
        })
      )
    )
    expect(outcome).toMatchObject({
      _tag: "Failed",
      safeToRetry: true,
      errorCode: Option.some("x_duplicate_action"),
      message: Option.some("Duplicate"),
      nextAction: Option.some({ type: "retry", requiresNewIdempotencyKey: true })
    })
  })
  it("finds the result id in result.id, then the compatibility fields", () => {
    const base = { status: "success", terminal: true, success: true }
    expect(WriteAction.resultId(decodeRight(liveRecord({ ...base, result: null, tweetId: "t1" })))).toEqual(
      Option.some("t1")
    )
    expect(WriteAction.resultId(decodeRight(liveRecord({ ...base, result: null, messageId: "m1" })))).toEqual(
      Option.some("m1")
    )
    expect(WriteAction.resultId(decodeRight(liveRecord({ ...base, result: null, communityId: "c1" })))).toEqual(
      Option.some("c1")
    )
    expect(WriteAction.resultId(decodeRight(liveRecord({ ...base, result: { id: "r1" }, tweetId: "t1" })))).toEqual(
      Option.some("r1")
    )
    expect(WriteAction.resultType(decodeRight(liveRecord({ ...base, result: null, messageId: "m1" })))).toEqual(
      Option.some("direct_message")
    )
  })
  it("uses statusUrl as the poll endpoint, else the id path", () => {
    expect(WriteAction.pollEndpoint(decodeRight(seedRecord))).toBe("/api/v1/x/write-actions/42")
    expect(WriteAction.pollEndpoint(decodeRight(liveRecord()))).toBe("/api/v1/x/write-actions/12345")
  })
})

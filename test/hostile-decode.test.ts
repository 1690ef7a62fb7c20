/**
 * Hostile input, pure part: whatever a body or an id holds, decoding gives a value or a typed
 * failure, never a throw. The network half is in hostile-client.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as fc from "effect/FastCheck"
import * as Schema from "effect/Schema"
import { hasControlCharacter } from "../src/internal/segment.js"
import * as WriteAction from "../src/WriteAction.js"
import * as WriteRequest from "../src/WriteRequest.js"
import { parseWriteActionId, resolveStatusUrl } from "../src/XquikClient.js"
import * as XquikError from "../src/XquikError.js"
import { hostileId, hostileString, mutatedRecordJson, recordJson } from "./hostile-support.js"

const assertDecodeResult = (result: Either.Either<WriteAction.WriteAction, WriteAction.DecodeFailure>) => {
  expect(Either.isEither(result)).toBe(true)
  if (Either.isLeft(result)) {
    expect(result.left).toBeInstanceOf(WriteAction.DecodeFailure)
    expect(result.left.fieldPath.startsWith("$")).toBe(true)
    expect(result.left.reason.length).toBeGreaterThan(0)
    expect(result.left.reason.length).toBeLessThanOrEqual(201)
    return
  }
  // Everything a caller does next with a decoded record works on it.
  const record = result.right
  expect(WriteAction.writeActionIdProblem(record.writeActionId)).toBeUndefined()
  expect(["Succeeded", "Pending", "Failed", "Expired"]).toContain(WriteAction.outcome(record)._tag)
  expect(typeof WriteAction.isTerminal(record)).toBe("boolean")
  expect(typeof WriteAction.pollEndpoint(record)).toBe("string")
  WriteAction.resultId(record)
  WriteAction.expiresAt(record)
  // A decoded record decodes again, the same, from its own JSON.
  expect(WriteAction.decode(JSON.parse(JSON.stringify(record)))).toEqual(Either.right(record))
}

// ---------------------------------------------------------------------------------------------
// 1. bodies
// ---------------------------------------------------------------------------------------------

describe("WriteAction.decode on hostile bodies", () => {
  it.prop("a valid record of either contract decodes", [recordJson], ([json]) => {
    const result = WriteAction.decode(json)
    expect(Either.isRight(result)).toBe(true)
    assertDecodeResult(result)
  })

  it.prop(
    "a valid record with fields replaced or removed: a record or a DecodeFailure",
    [mutatedRecordJson],
    ([json]) => assertDecodeResult(WriteAction.decode(json))
  )

  it.prop("any JSON value: a record or a DecodeFailure", [fc.jsonValue()], ([json]) =>
    assertDecodeResult(WriteAction.decode(json))
  )

  it.prop(
    "any JavaScript value (maps, dates, bigints, boxed values, null prototypes, sparse arrays): never a throw",
    [
      fc.anything({
        withBigInt: true,
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withObjectString: true,
        withSparseArray: true,
        withTypedArray: true
      })
    ],
    ([value]) => assertDecodeResult(WriteAction.decode(value))
  )

  it.prop("a string or raw bytes is a DecodeFailure", [fc.oneof(hostileString, fc.uint8Array())], ([body]) => {
    const result = WriteAction.decode(body)
    expect(Either.isLeft(result)).toBe(true)
    // A string is not an object at all; bytes are an object without the fields.
    if (typeof body === "string") expect(Either.isLeft(result) && result.left.fieldPath).toBe("$")
    assertDecodeResult(result)
  })

  it("an `object` field no string can be made of is a DecodeFailure (Effect's Schema.Union throws on it; decode does not use it)", () => {
    const base = { writeActionId: "42", action: "like", status: "accepted" }
    const hostile = [{ toString: [] }, [{ toString: [] }], { valueOf: 1, toString: 1 }, Object.create(null)]
    for (const object of hostile) {
      const result = WriteAction.decode({ ...base, object })
      expect(Either.isLeft(result)).toBe(true)
    }
  })
})

// ---------------------------------------------------------------------------------------------
// 5. ids, without a network (the request half is in hostile-client.test.ts)
// ---------------------------------------------------------------------------------------------

describe("write action ids", () => {
  const config = { origin: "http://127.0.0.1:8787", basePath: "/api/v1" }

  it.prop(
    "an id is valid exactly when it is one path segment that a URL keeps as it is",
    [hostileId],
    ([id]) => {
      const parsed = parseWriteActionId(id)
      const schema = Schema.decodeUnknownEither(WriteAction.WriteActionId)(id)
      expect(Either.isRight(schema)).toBe(Either.isRight(parsed))
      if (Either.isLeft(parsed)) {
        expect(parsed.left).toBeInstanceOf(XquikError.InvalidWriteActionId)
        expect(parsed.left.reason).toBe(WriteAction.writeActionIdProblem(id))
        // The message echoes the input, shortened and with no control character left in it.
        expect(hasControlCharacter(parsed.left.message)).toBe(false)
        expect(parsed.left.input.length).toBeLessThanOrEqual(2 + 6 * 81)
        return
      }
      const segment = encodeURIComponent(id)
      const path = `/api/v1/x/write-actions/${segment}`
      // The URL keeps the segment as it is: no dot segment dropped, nothing re-encoded.
      expect(new URL(path, config.origin).pathname).toBe(path)
      expect(decodeURIComponent(segment)).toBe(id)
      expect(resolveStatusUrl(config, path)).toEqual(Either.right(id))
    },
    { fastCheck: { numRuns: 1000 } }
  )

  it("'.' and '..' and lone surrogates are refused (regression: a URL drops dot segments; a lone surrogate made encodeURIComponent throw)", () => {
    for (const id of [".", "..", "\uD800", "a\uDC00b", "\uDBFF"]) {
      expect(Either.isLeft(parseWriteActionId(id)), JSON.stringify(id)).toBe(true)
    }
    for (const id of ["...", ".a", "a..b", "😀", "%2e%2e"]) {
      expect(Either.isRight(parseWriteActionId(id)), id).toBe(true)
    }
    // The ids in a write's path follow the same rule: DELETE /x/tweets/../like is not sent.
    expect(Either.isLeft(WriteRequest.validate(WriteRequest.like("@acme", "..")))).toBe(true)
  })
})

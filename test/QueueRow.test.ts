import { readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as QueueRow from "../src/QueueRow.js"
import * as WriteAction from "../src/WriteAction.js"
import * as WriteRequest from "../src/WriteRequest.js"

const decode = (body: unknown): WriteAction.WriteAction => {
  const result = WriteAction.decode(body)
  if (Either.isLeft(result)) throw new Error(`${result.left.fieldPath}: ${result.left.reason}`)
  return result.right
}

interface Fields {
  readonly status: string
  readonly terminal?: boolean | undefined
  readonly attempts?: number | undefined
  readonly resultId?: string | undefined
  readonly credits?: string | undefined
  readonly error?: string | undefined
  readonly message?: string | undefined
  readonly safeToRetry?: boolean | undefined
  readonly dispatched?: boolean | undefined
}

const live = (f: Fields): WriteAction.WriteAction => {
  const terminal = f.terminal ?? ["success", "failed", "expired"].includes(f.status)
  const success = f.status === "success"
  return decode({
    object: "x_write_action",
    id: "42",
    writeActionId: "42",
    action: "create_tweet",
    status: f.status,
    terminal,
    retryable: false,
    safeToRetry: f.safeToRetry ?? false,
    statusUrl: "/api/v1/x/write-actions/42",
    pollAfterMs: terminal ? null : 1000,
    charged: success,
    chargedCredits: success ? (f.credits ?? "32") : "0",
    billing: {
      status: success ? "charged" : "pending",
      charged: success,
      plannedCredits: "32",
      chargedCredits: success ? (f.credits ?? "32") : "0"
    },
    request: { hash: "a".repeat(64), payload: { text: "hi" } },
    account: { id: "1", username: "acme" },
    target: { type: "tweet", id: "1893456789012345678" },
    targetId: "1893456789012345678",
    result: success && f.resultId !== undefined ? { type: "tweet", id: f.resultId } : null,
    nextAction: terminal ? null : { type: "poll", url: "/api/v1/x/write-actions/42", afterMs: 1000 },
    sendDispatched: f.dispatched ?? true,
    success,
    ...(f.attempts !== undefined ? { confirmationAttempts: f.attempts } : {}),
    ...(f.error !== undefined ? { error: f.error } : {}),
    ...(f.message !== undefined ? { message: f.message } : {}),
    media: { count: 1, credits: "2", kind: "image", totalBytes: "834921" }
  })
}

const seed = (f: Fields): WriteAction.WriteAction =>
  decode({
    writeActionId: "42",
    action: "create_tweet",
    status: f.status,
    charged: f.status === "success",
    chargedCredits: f.status === "success" ? (f.credits ?? "32") : "0",
    media: { count: 1, credits: "2", kind: "image", totalBytes: "834921" },
    sendDispatched: f.dispatched ?? true,
    retryable: false,
    confirmationAttempts: f.attempts ?? 0,
    confirmationSource: null,
    targetId: "1893456789012345678",
    createdAt: "2026-05-08T20:00:00.000Z",
    ...(f.resultId !== undefined && f.status === "success" ? { tweetId: f.resultId } : {}),
    ...(f.message !== undefined ? { message: f.message } : {})
  })

describe("QueueRow.fromWriteAction", () => {
  for (const [contract, make] of [
    ["A", seed],
    ["B", live]
  ] as const) {
    describe(`contract ${contract}`, () => {
      const pendingStatuses =
        contract === "A" ? ["pending_confirmation"] : ["accepted", "dispatching", "pending_confirmation", "teleported"]
      for (const status of pendingStatuses) {
        it(`${status} keeps the id, status, dispatch, attempts, media and target; no credits, no result`, () => {
          const row = QueueRow.fromWriteAction(make({ status, attempts: 2 }), undefined, 1000)
          expect(row).toMatchObject({
            write_action_id: "42",
            status,
            terminal: false,
            send_dispatched: true,
            confirmation_attempts: 2,
            media: { count: 1, credits: "2", kind: "image", totalBytes: "834921" },
            target_id: "1893456789012345678",
            charged: false,
            charged_credits: "0",
            result_id: null,
            poll_endpoint: "/api/v1/x/write-actions/42",
            completed_at: null,
            updated_at: 1000
          })
        })
      }

      it("success stores the result id, the charged credits and media, and completes the row", () => {
        const row = QueueRow.fromWriteAction(
          make({ status: "success", resultId: "2052816150136832166", credits: "32", attempts: 3 }),
          undefined,
          5000
        )
        expect(row).toMatchObject({
          status: "success",
          terminal: true,
          result_id: "2052816150136832166",
          result_type: "tweet",
          charged: true,
          charged_credits: "32",
          media: { count: 1, credits: "2", kind: "image", totalBytes: "834921" },
          completed_at: 5000,
          next_poll_at: null
        })
        expect(QueueRow.outcome(row)).toBe("succeeded")
      })

      it("failed stores the message and error, no credits and no result id", () => {
        const row = QueueRow.fromWriteAction(
          make({ status: "failed", error: "x_rejected", message: "Rejected by X." }),
          undefined,
          5000
        )
        expect(row).toMatchObject({
          status: "failed",
          terminal: true,
          error_code: contract === "A" ? "failed" : "x_rejected",
          message: "Rejected by X.",
          charged: false,
          charged_credits: "0",
          result_id: null,
          completed_at: 5000
        })
        expect(QueueRow.outcome(row)).toBe("failed")
      })

      it("expired stores the error and a note to verify on X", () => {
        const row = QueueRow.fromWriteAction(make({ status: "expired", error: "expired" }), undefined, 5000)
        expect(row).toMatchObject({
          status: "expired",
          terminal: true,
          error_code: "expired",
          charged_credits: "0",
          result_id: null
        })
        expect(row.message).toContain("verify it there")
        expect(QueueRow.outcome(row)).toBe("expired")
      })
    })
  }

  it("a failed B record keeps safe_to_retry", () => {
    expect(QueueRow.fromWriteAction(live({ status: "failed", safeToRetry: true })).safe_to_retry).toBe(true)
    expect(QueueRow.fromWriteAction(live({ status: "failed" })).safe_to_retry).toBe(false)
  })

  it("a terminal row never goes back to pending", () => {
    const done = QueueRow.fromWriteAction(live({ status: "success", resultId: "1", attempts: 3 }))
    expect(QueueRow.fromWriteAction(live({ status: "pending_confirmation", attempts: 9 }), done)).toBe(done)
    expect(QueueRow.fromWriteAction(live({ status: "failed" }), done)).toBe(done)
  })

  it("late or out-of-order pending answers are ignored", () => {
    const row = QueueRow.fromWriteAction(live({ status: "pending_confirmation", attempts: 4 }))
    expect(QueueRow.fromWriteAction(live({ status: "pending_confirmation", attempts: 2 }), row)).toBe(row)
    expect(QueueRow.fromWriteAction(live({ status: "accepted", attempts: 4 }), row)).toBe(row)
    expect(
      QueueRow.fromWriteAction(live({ status: "pending_confirmation", attempts: 5 }), row).confirmation_attempts
    ).toBe(5)
  })

  it("keeps the job's own fields (key, request, attempts) from the previous row", () => {
    const key = WriteRequest.IdempotencyKey.make()
    const request = WriteRequest.reply({ account: "@acme", text: "yes", replyTo: "1893456789012345678" })
    const queued = QueueRow.queued({ jobId: "job-1", idempotencyKey: key, request, now: 10 })
    const row = QueueRow.fromWriteAction(live({ status: "success", resultId: "2052816150136832166" }), queued, 20)
    expect(row).toMatchObject({
      job_id: "job-1",
      idempotency_key: key,
      request_payload: request,
      attempts: 1,
      created_at: 10,
      updated_at: 20
    })
    expect(QueueRow.toSeedRow(row)).toEqual({
      job_id: "job-1",
      write_action_id: "42",
      status: "success",
      published_tweet_id: "2052816150136832166",
      reply_to_tweet_id: "1893456789012345678",
      charged: true,
      charged_credits: "32",
      media: { count: 1, credits: "2", kind: "image", totalBytes: "834921" }
    })
  })

  it("decodes the seed page's row example verbatim", () => {
    const example: unknown = JSON.parse(
      readFileSync(new URL("./fixtures/seed-queue-row.json", import.meta.url), "utf8")
    )
    expect(Schema.decodeUnknownSync(QueueRow.SeedRow)(example)).toEqual(example)
  })

  it("round-trips through its JSON encoding", () => {
    const row = QueueRow.fromWriteAction(live({ status: "pending_confirmation" }), undefined, 1)
    const json = JSON.parse(JSON.stringify(QueueRow.encode(row)))
    expect(QueueRow.decode(json)).toEqual(Either.right(row))
  })

  describe("folding any sequence of observations", () => {
    const step = FastCheck.record({
      contract: FastCheck.constantFrom("a", "b"),
      status: FastCheck.constantFrom(...WriteAction.knownStatuses, "teleported", "queued_at_x"),
      terminal: FastCheck.option(FastCheck.boolean(), { nil: undefined }),
      attempts: FastCheck.option(FastCheck.nat(20), { nil: undefined }),
      resultId: FastCheck.option(FastCheck.stringMatching(/^\d{1,19}$/), { nil: undefined }),
      credits: FastCheck.stringMatching(/^\d{1,4}$/),
      dispatched: FastCheck.boolean()
    })
    it.prop(
      "is monotonic and never stores a result id or credits for a pending row",
      [FastCheck.array(step, { maxLength: 12 })],
      ([steps]) => {
        let row: QueueRow.QueueRow | undefined
        let at = 0
        for (const s of steps) {
          const record = s.contract === "a" ? seed(s) : live(s)
          const before: QueueRow.QueueRow | undefined = row
          row = QueueRow.fromObservation(
            {
              record,
              httpStatus: 200,
              retryAfter: Option.none(),
              location: Option.none(),
              requestId: Option.none(),
              receivedAt: ++at
            },
            row
          )
          if (before?.terminal) expect(row).toBe(before)
          if (before !== undefined) {
            expect(row.confirmation_attempts).toBeGreaterThanOrEqual(before.confirmation_attempts)
            if (before.send_dispatched) expect(row.send_dispatched).toBe(true)
          }
          if (!row.terminal) {
            expect(row.result_id).toBeNull()
            expect(row.charged_credits).toBe("0")
            expect(row.charged).toBe(false)
          }
          // A terminal answer always completes a row that was not terminal yet.
          if (WriteAction.isTerminal(record)) expect(row.terminal).toBe(true)
        }
      }
    )
  })
})

/**
 * The store's behaviour, written once and run on every backend: memory, a SQLite file, and the
 * real PostgreSQL.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as QueueRow from "../../src/QueueRow.js"
import type { QueueStoreShape } from "../../src/QueueStore.js"
import * as WriteAction from "../../src/WriteAction.js"
import * as WriteRequest from "../../src/WriteRequest.js"

/** A fresh, empty store on a backend, and what the backend can do beyond the interface. */
export interface Fresh {
  readonly store: QueueStoreShape
  /** A second handle on the same data: another pool, another connection. */
  readonly second: Effect.Effect<QueueStoreShape, unknown, Scope.Scope>
  /** Writes broken JSON into a column of a row (SQL backends). */
  readonly corrupt?: (jobId: string, column: string) => Effect.Effect<void, unknown>
  /** Closes everything and opens the same data again (file backends). */
  readonly reopen?: Effect.Effect<QueueStoreShape, unknown, Scope.Scope>
  /** Opens `n` handles at once on new, empty data: their migrations race (SQL backends). */
  readonly startTogether?: (n: number) => Effect.Effect<ReadonlyArray<QueueStoreShape>, unknown, Scope.Scope>
}

export interface Backend {
  readonly name: string
  readonly fresh: Effect.Effect<Fresh, unknown, Scope.Scope>
}

let counter = 0
export const row = (overrides: Partial<QueueRow.QueueRow> = {}): QueueRow.QueueRow => {
  counter++
  return {
    ...QueueRow.queued({
      jobId: globalThis.crypto.randomUUID(),
      idempotencyKey: WriteRequest.IdempotencyKey.make(),
      request: WriteRequest.tweet({ account: "@acme", text: `post ${counter}` }),
      metadata: { batch: "suite", n: counter },
      now: 0
    }),
    ...overrides
  }
}

const lease = { workerId: "w1", leaseFor: "30 seconds" } as const

/** Enqueues `r` and claims it for w1 (the only due row): the row as claimed, with its lease. */
const enqueueAndClaim = (store: QueueStoreShape, r: QueueRow.QueueRow) =>
  Effect.gen(function* () {
    yield* store.enqueue(r)
    const [claimed] = yield* store.claimDue({ ...lease, limit: 1 })
    if (claimed === undefined) throw new Error("nothing claimed")
    return claimed
  })

export const storeSuite = (backend: Backend) =>
  describe(`QueueStore on ${backend.name}`, () => {
    const withStore = <A, E>(test: (fresh: Fresh) => Effect.Effect<A, E, Scope.Scope>) =>
      Effect.scoped(Effect.flatMap(backend.fresh, test))

    it.effect("a repeated enqueue is idempotent on the idempotency key", () =>
      withStore(({ store }) =>
        Effect.gen(function* () {
          const first = row()
          expect(yield* store.enqueue(first)).toEqual(first)
          const again = yield* store.enqueue({ ...row(), idempotency_key: first.idempotency_key })
          expect(again).toEqual(first)
          expect(yield* store.counts).toEqual({ queued: 1 })
          expect(yield* store.get(first.job_id)).toEqual(Option.some(first))
          expect(yield* store.findByIdempotencyKey(first.idempotency_key ?? "")).toEqual(Option.some(first))
          expect(yield* store.get("nope")).toEqual(Option.none())
        })
      )
    )

    it.effect("a repeated track of one write action id is idempotent", () =>
      withStore(({ store }) =>
        Effect.gen(function* () {
          const tracked = QueueRow.tracked({ jobId: globalThis.crypto.randomUUID(), writeActionId: "4242", now: 0 })
          yield* store.enqueue(tracked)
          const again = yield* store.enqueue(
            QueueRow.tracked({ jobId: globalThis.crypto.randomUUID(), writeActionId: "4242", now: 5 })
          )
          expect(again.job_id).toBe(tracked.job_id)
          expect(yield* store.findByWriteActionId("4242")).toEqual(Option.some(tracked))
        })
      )
    )

    it.effect("keeps credits, media, the request and the next action exactly", () =>
      withStore(({ store }) =>
        Effect.gen(function* () {
          const r = row({
            charged_credits: WriteAction.Credits.make("123456789012345678901234567890"),
            media: {
              count: 1,
              credits: WriteAction.Credits.make("2"),
              kind: "image",
              totalBytes: WriteAction.Credits.make("834921")
            },
            next_action: { type: "poll", url: "/api/v1/x/write-actions/1", afterMs: 2000 },
            request_payload: WriteRequest.sendDm({
              account: "@acme",
              to: "77",
              text: 'héllo ✓ "quoted"',
              mediaId: "9"
            }),
            next_poll_at: 1_733_000_000_000,
            send_dispatched: true,
            safe_to_retry: true,
            poll_hint_ms: 2000,
            history: [
              { idempotency_key: "k0", write_action_id: "11", status: "failed", error_code: "x_transient_error", at: 5 }
            ]
          })
          yield* store.enqueue(r)
          expect(yield* store.get(r.job_id)).toEqual(Option.some(r))
        })
      )
    )

    it.effect("claimDue leases due, non-terminal, unleased rows, earliest first, up to the limit", () =>
      withStore(({ store }) =>
        Effect.gen(function* () {
          yield* TestClock.adjust(1000)
          const due = [row({ next_poll_at: 500 }), row({ next_poll_at: 100 }), row({ next_poll_at: 1000 })]
          const later = row({ next_poll_at: 5000 })
          const done = row({ next_poll_at: 0, terminal: true, status: "success" })
          const unscheduled = row({ next_poll_at: null })
          for (const r of [...due, later, done, unscheduled]) yield* store.enqueue(r)
          const first = yield* store.claimDue({ ...lease, limit: 2 })
          expect(first.map((c) => c.row.job_id)).toEqual([due[1]?.job_id, due[0]?.job_id])
          expect(first.every((c) => c.lease.workerId === "w1" && c.lease.expiresAt === 31_000)).toBe(true)
          const second = yield* store.claimDue({ ...lease, workerId: "w2", limit: 10 })
          expect(second.map((c) => c.row.job_id)).toEqual([due[2]?.job_id])
          expect(yield* store.claimDue({ ...lease, limit: 10 })).toEqual([])
        })
      )
    )

    it.effect("save writes the row; with release the row can be claimed again", () =>
      withStore(({ store }) =>
        Effect.gen(function* () {
          const r = row()
          const claimed = yield* enqueueAndClaim(store, r)
          const updated = { ...claimed.row, status: "accepted", write_action_id: "77", polls: 1, next_poll_at: 0 }
          yield* store.save(updated, claimed.lease)
          expect(yield* store.get(r.job_id)).toEqual(Option.some(updated))
          expect(yield* store.findByWriteActionId("77")).toEqual(Option.some(updated))
          expect(yield* store.claimDue({ ...lease, limit: 1 })).toEqual([])
          yield* store.save({ ...updated, polls: 2 }, claimed.lease, { release: true })
          const again = yield* store.claimDue({ ...lease, workerId: "w2", limit: 1 })
          expect(again.map((c) => c.row.polls)).toEqual([2])
        })
      )
    )

    it.effect("an expired lease is claimed again; saving on the stale lease is LeaseLost and changes nothing", () =>
      withStore(({ store }) =>
        Effect.gen(function* () {
          const r = row()
          const stale = yield* enqueueAndClaim(store, r)
          yield* TestClock.adjust("29 seconds")
          expect(yield* store.claimDue({ ...lease, workerId: "w2", limit: 1 })).toEqual([])
          yield* TestClock.adjust("1 second")
          const [fresh] = yield* store.claimDue({ ...lease, workerId: "w2", limit: 1 })
          expect(fresh?.lease.workerId).toBe("w2")
          const error = yield* Effect.flip(store.save({ ...stale.row, status: "failed", terminal: true }, stale.lease))
          expect(error).toMatchObject({ _tag: "LeaseLost", jobId: r.job_id, workerId: "w1" })
          expect(yield* store.get(r.job_id)).toEqual(Option.some(r))
          expect((yield* Effect.flip(store.renewLease(stale.lease, "30 seconds")))._tag).toBe("LeaseLost")
          // Releasing a lost lease does not free the row from its new holder.
          yield* store.release(stale.lease)
          expect(yield* store.claimDue({ ...lease, workerId: "w3", limit: 1 })).toEqual([])
        })
      )
    )

    it.effect("a renewed lease is not claimed when the old expiry passes", () =>
      withStore(({ store }) =>
        Effect.gen(function* () {
          const claimed = yield* enqueueAndClaim(store, row())
          yield* TestClock.adjust("20 seconds")
          const renewed = yield* store.renewLease(claimed.lease, "30 seconds")
          expect(renewed.expiresAt).toBe(50_000)
          yield* TestClock.adjust("20 seconds")
          expect(yield* store.claimDue({ ...lease, workerId: "w2", limit: 1 })).toEqual([])
          yield* store.release(renewed)
          expect(yield* store.claimDue({ ...lease, workerId: "w2", limit: 1 })).toHaveLength(1)
        })
      )
    )

    it.effect("a terminal row is never claimed again", () =>
      withStore(({ store }) =>
        Effect.gen(function* () {
          const r = row()
          const claimed = yield* enqueueAndClaim(store, r)
          yield* store.save({ ...claimed.row, status: "success", terminal: true, next_poll_at: 0 }, claimed.lease)
          yield* TestClock.adjust("1 hour")
          expect(yield* store.claimDue({ ...lease, workerId: "w2", limit: 10 })).toEqual([])
          expect(yield* store.claim(r.job_id, lease)).toEqual(Option.none())
        })
      )
    )

    it.effect("a terminal row with resolvers pending is claimed until they are done; summary counts open rows", () =>
      withStore(({ store }) =>
        Effect.gen(function* () {
          yield* TestClock.adjust(100)
          const done = row({ status: "success", terminal: true, resolution_pending: true, next_poll_at: 50 })
          const open = row({ next_poll_at: 500 })
          const finished = row({ status: "failed", terminal: true, next_poll_at: null })
          for (const r of [done, open, finished]) yield* store.enqueue(r)
          expect(yield* store.summary).toEqual({ total: 3, open: 2, due: 1, nextDueAt: Option.some(50) })
          const [claimed] = yield* store.claimDue({ ...lease, limit: 10 })
          expect(claimed?.row.job_id).toBe(done.job_id)
          if (claimed === undefined) return
          yield* store.save({ ...claimed.row, resolution_pending: false, next_poll_at: null }, claimed.lease, {
            release: true
          })
          yield* TestClock.adjust("1 hour")
          expect((yield* store.claimDue({ ...lease, limit: 10 })).map((c) => c.row.job_id)).toEqual([open.job_id])
          expect(yield* store.summary).toMatchObject({ total: 3, open: 1 })
        })
      )
    )

    it.effect("claim leases one row by id, due or not, unless someone holds it", () =>
      withStore(({ store }) =>
        Effect.gen(function* () {
          const r = row({ next_poll_at: 999_999 })
          yield* store.enqueue(r)
          const mine = yield* store.claim(r.job_id, lease)
          expect(Option.map(mine, (c) => c.row.job_id)).toEqual(Option.some(r.job_id))
          expect(yield* store.claim(r.job_id, { ...lease, workerId: "w2" })).toEqual(Option.none())
          expect(yield* store.claim("missing", lease)).toEqual(Option.none())
        })
      )
    )

    it.effect("list pages through rows by creation, optionally of one status; counts by status", () =>
      withStore(({ store }) =>
        Effect.gen(function* () {
          const rows = Array.from({ length: 7 }, (_, i) =>
            row({ created_at: 100 + i, status: i % 2 === 0 ? "queued" : "success", terminal: i % 2 === 1 })
          )
          for (const r of [...rows].reverse()) yield* store.enqueue(r)
          const page1 = yield* store.list({ limit: 3 })
          expect(page1.rows.map((r) => r.created_at)).toEqual([100, 101, 102])
          const page2 = yield* store.list({ limit: 3, cursor: Option.getOrThrow(page1.nextCursor) })
          expect(page2.rows.map((r) => r.created_at)).toEqual([103, 104, 105])
          const page3 = yield* store.list({ limit: 3, cursor: Option.getOrThrow(page2.nextCursor) })
          expect(page3.rows.map((r) => r.created_at)).toEqual([106])
          expect(page3.nextCursor).toEqual(Option.none())
          const queued = yield* store.list({ status: "queued" })
          expect(queued.rows.map((r) => r.created_at)).toEqual([100, 102, 104, 106])
          expect(yield* store.counts).toEqual({ queued: 4, success: 3 })
          const bad = yield* Effect.flip(store.list({ cursor: "not-a-cursor" }))
          expect(bad._tag).toBe("StoreError")
        })
      )
    )

    it.effect("bad claim options are a typed error", () =>
      withStore(({ store }) =>
        Effect.gen(function* () {
          expect((yield* Effect.flip(store.claimDue({ ...lease, limit: 0 })))._tag).toBe("StoreError")
          expect((yield* Effect.flip(store.claimDue({ ...lease, limit: 1, leaseFor: "0 seconds" })))._tag).toBe(
            "StoreError"
          )
          expect((yield* Effect.flip(store.claimDue({ ...lease, limit: 1, workerId: "" })))._tag).toBe("StoreError")
        })
      )
    )

    it.live("claims are exclusive under contention: two handles, 8 fibers each, 1,000 rows", () =>
      withStore(({ store, second }) =>
        Effect.gen(function* () {
          const other = yield* second
          const rows = Array.from({ length: 1000 }, () => row())
          yield* Effect.forEach(rows, (r) => store.enqueue(r), { concurrency: 8, discard: true })
          const claimedBy = new Map<string, string>()
          const duplicates: Array<string> = []
          const worker = (handle: QueueStoreShape, name: string) =>
            Effect.gen(function* () {
              for (;;) {
                const batch = yield* handle.claimDue({ workerId: name, leaseFor: "10 minutes", limit: 7 })
                if (batch.length === 0) return
                for (const { row } of batch) {
                  if (claimedBy.has(row.job_id)) duplicates.push(row.job_id)
                  claimedBy.set(row.job_id, name)
                }
                // A worker does other work between claims; let the others in.
                yield* Effect.yieldNow()
              }
            })
          yield* Effect.all(
            [
              ...Array.from({ length: 8 }, (_, i) => worker(store, `a${i}`)),
              ...Array.from({ length: 8 }, (_, i) => worker(other, `b${i}`))
            ],
            { concurrency: "unbounded" }
          )
          expect(duplicates).toEqual([])
          expect(claimedBy.size).toBe(1000)
          const byHandle = new Set([...claimedBy.values()].map((w) => w[0]))
          expect(byHandle.size).toBe(2)
        })
      )
    )

    describe("backend-specific", () => {
      it.effect("a corrupt JSON column is a StoreCorrupt naming the row; the other rows are still served", () =>
        withStore((fresh) =>
          Effect.gen(function* () {
            if (fresh.corrupt === undefined) return
            const good = row()
            const bad = row()
            yield* fresh.store.enqueue(good)
            yield* fresh.store.enqueue(bad)
            yield* fresh.corrupt(bad.job_id, "media")
            const error = yield* Effect.flip(fresh.store.get(bad.job_id))
            expect(error).toMatchObject({ _tag: "StoreCorrupt", jobId: bad.job_id, column: "media" })
            expect(error.message).toContain(bad.job_id)
            expect(yield* fresh.store.get(good.job_id)).toEqual(Option.some(good))
            expect((yield* fresh.store.list()).rows.map((r) => r.job_id)).toEqual([good.job_id])
            const claimed = yield* fresh.store.claimDue({ ...lease, limit: 10 })
            expect(claimed.map((c) => c.row.job_id)).toEqual([good.job_id])
          })
        )
      )

      it.live("workers starting at once on new data migrate it once, without a race", () =>
        withStore((fresh) =>
          Effect.gen(function* () {
            if (fresh.startTogether === undefined) return
            const handles = yield* fresh.startTogether(4)
            expect(handles.length).toBeGreaterThan(0)
            const r = row()
            yield* (handles[0] ?? fresh.store).enqueue(r)
            for (const handle of handles) expect(yield* handle.get(r.job_id)).toEqual(Option.some(r))
          })
        )
      )

      it.effect("closing and reopening loses nothing", () =>
        withStore((fresh) =>
          Effect.gen(function* () {
            if (fresh.reopen === undefined) return
            const rows = Array.from({ length: 50 }, (_, i) => row({ created_at: i }))
            for (const r of rows) yield* fresh.store.enqueue(r)
            const [claimed] = yield* fresh.store.claimDue({ ...lease, limit: 1 })
            if (claimed === undefined) throw new Error("nothing claimed")
            const saved = { ...claimed.row, status: "success", terminal: true, result_id: "2052816150136832166" }
            yield* fresh.store.save(saved, claimed.lease, { release: true })
            const reopened = yield* fresh.reopen
            const all = yield* reopened.list({ limit: 1000 })
            expect(all.rows).toHaveLength(50)
            // A closed row keeps no next_poll_at.
            expect(Either.right(all.rows.find((r) => r.job_id === saved.job_id))).toEqual(
              Either.right({ ...saved, next_poll_at: null })
            )
            expect(yield* reopened.counts).toEqual({ queued: 49, success: 1 })
          })
        )
      )
    })
  })

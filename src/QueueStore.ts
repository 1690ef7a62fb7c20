/**
 * Durable queue-state rows, with leases so that several workers never touch one row at once.
 *
 * `QueueStore` is one tag with three layers: {@link layerMemory} here, and the SQL store
 * (SQLite, the embedded default, and PostgreSQL for several workers or machines) in
 * `SqlQueueStore`. Time comes from effect's `Clock`, so tests drive leases with `TestClock`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { checkClaim } from "./internal/claim.js"
import type * as QueueRow from "./QueueRow.js"
import { LeaseLost, type StoreCorrupt, StoreError } from "./XquikError.js"

/**
 * A worker's hold on a row, until `expiresAt` (UTC ms). `token` is new for every claim, so a
 * worker whose lease expired and was claimed again (even by itself) cannot write with the old one.
 *
 * @example
 * ```ts
 * import { QueueStore } from "xquik-write-queue"
 *
 * const remainingMs = (lease: QueueStore.Lease, now: number): number => Math.max(0, lease.expiresAt - now)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Lease {
  readonly jobId: string
  readonly workerId: string
  readonly token: string
  readonly expiresAt: number
}

/**
 * A claimed row and its lease.
 *
 * @example
 * ```ts
 * import { QueueStore } from "xquik-write-queue"
 *
 * const describe = ({ lease, row }: QueueStore.Claimed): string =>
 *   `${row.job_id} (${row.status}) held by ${lease.workerId}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Claimed {
  readonly row: QueueRow.QueueRow
  readonly lease: Lease
}

/**
 * What `claimDue` takes: how many rows at most, for which worker, and for how long.
 *
 * @example
 * ```ts
 * import { QueueStore } from "xquik-write-queue"
 *
 * const options: QueueStore.ClaimOptions = { limit: 8, workerId: "worker-a", leaseFor: "1 minute" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ClaimOptions {
  readonly limit: number
  readonly workerId: string
  readonly leaseFor: Duration.DurationInput
}

/**
 * What `list` takes: an optional status, a page size, and the cursor of the page to read.
 *
 * @example
 * ```ts
 * import { QueueStore } from "xquik-write-queue"
 *
 * const failedOnly: QueueStore.ListOptions = { status: "failed", limit: 50 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ListOptions {
  readonly status?: string | undefined
  readonly limit?: number | undefined
  /** From a previous page's `nextCursor`. */
  readonly cursor?: string | undefined
}

/**
 * One page of `list`: its rows, and the cursor of the next page when there is one.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { QueueStore } from "xquik-write-queue"
 *
 * const nextOptions = (page: QueueStore.Page): Option.Option<QueueStore.ListOptions> =>
 *   Option.map(page.nextCursor, (cursor) => ({ cursor }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Page {
  readonly rows: ReadonlyArray<QueueRow.QueueRow>
  readonly nextCursor: Option.Option<string>
}

/**
 * Errors a store operation can end with.
 *
 * @example
 * ```ts
 * import { QueueStore } from "xquik-write-queue"
 *
 * const explain = (error: QueueStore.StoreFailure): string =>
 *   error._tag === "StoreCorrupt" ? `row ${error.jobId} is unreadable` : error.message
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type StoreFailure = StoreError | StoreCorrupt

// SQLite result codes (extended ones start with these) and PostgreSQL SQLSTATE classes that clear
// on their own: a lock held by another process, a full disk, an I/O hiccup, a dropped connection,
// an operator's restart, a serialization conflict. Everything else (a missing table, a refused
// login, a constraint, a corrupt row) needs a person.
const transientSqlite = [
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_FULL",
  "SQLITE_IOERR",
  "SQLITE_NOMEM",
  "SQLITE_PROTOCOL"
]
const transientPgClasses = ["08", "40", "53", "57", "58"]
const transientCodes = new Set([
  "connection_lost",
  "55P03",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN"
])

/**
 * Whether a store failure may clear on its own, so that the same operation is worth trying again
 * after a pause: the database busy or locked (`SQLITE_BUSY`, `SQLITE_LOCKED`), the disk or the
 * database full (`SQLITE_FULL`, PostgreSQL `53100`), an I/O error, a lost or refused connection
 * (`connection_lost`, PostgreSQL class `08`, `57P01` after `pg_terminate_backend`), a
 * serialization failure or deadlock (class `40`). A duplicate key, a missing table, a refused
 * login or a corrupt row is not: retrying cannot fix it. The worker retries transient failures
 * in place, holding the row's lease, with backoff.
 *
 * @example
 * ```ts
 * import { QueueStore, XquikError } from "xquik-write-queue"
 *
 * const busy = new XquikError.StoreError({ operation: "save", reason: "database is locked", code: "SQLITE_BUSY" })
 * QueueStore.isTransient(busy) // true
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const isTransient = (error: StoreFailure): boolean => {
  if (error._tag !== "StoreError" || error.code === undefined) return false
  const code = error.code
  return (
    transientCodes.has(code) ||
    transientSqlite.some((prefix) => code === prefix || code.startsWith(`${prefix}_`)) ||
    (/^[0-9A-Z]{5}$/.test(code) && transientPgClasses.includes(code.slice(0, 2)))
  )
}

/**
 * The store's interface.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QueueStore } from "xquik-write-queue"
 *
 * const failedCount = (store: QueueStore.QueueStoreShape) =>
 *   Effect.map(store.counts, (counts) => counts.failed ?? 0)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface QueueStoreShape {
  /**
   * Persists a new row. Idempotent on the idempotency key (and on the write action id of a tracked
   * row): a repeat returns the row already stored, unchanged.
   */
  readonly enqueue: (row: QueueRow.QueueRow) => Effect.Effect<QueueRow.QueueRow, StoreFailure>
  readonly get: (jobId: string) => Effect.Effect<Option.Option<QueueRow.QueueRow>, StoreFailure>
  readonly findByWriteActionId: (id: string) => Effect.Effect<Option.Option<QueueRow.QueueRow>, StoreFailure>
  readonly findByIdempotencyKey: (key: string) => Effect.Effect<Option.Option<QueueRow.QueueRow>, StoreFailure>
  /**
   * Atomically leases up to `limit` rows whose `next_poll_at` has come, earliest first. A row is
   * eligible when it is not terminal (or is terminal with its resolvers still pending) and is
   * unleased or its lease has expired.
   */
  readonly claimDue: (options: ClaimOptions) => Effect.Effect<ReadonlyArray<Claimed>, StoreFailure>
  /** Leases one row, if it is not terminal and not leased by someone else (due or not). */
  readonly claim: (
    jobId: string,
    options: Omit<ClaimOptions, "limit">
  ) => Effect.Effect<Option.Option<Claimed>, StoreFailure>
  /**
   * Writes the row. Fails with `LeaseLost`, changing nothing, when the lease has passed to
   * someone else. With `release`, the lease is given up in the same write.
   */
  readonly save: (
    row: QueueRow.QueueRow,
    lease: Lease,
    options?: { readonly release?: boolean }
  ) => Effect.Effect<void, LeaseLost | StoreFailure>
  /** Extends the lease by `leaseFor` from now. */
  readonly renewLease: (
    lease: Lease,
    leaseFor: Duration.DurationInput
  ) => Effect.Effect<Lease, LeaseLost | StoreFailure>
  /**
   * Replaces a finished row with its next attempt (a new key after a safe failure), only if the
   * stored row is still `previous` (same key, terminal) and nobody holds it. Returns whether it did.
   */
  readonly reopen: (row: QueueRow.QueueRow, previous: QueueRow.QueueRow) => Effect.Effect<boolean, StoreFailure>
  /** Gives the lease up (a no-op when it already passed to someone else). */
  readonly release: (lease: Lease) => Effect.Effect<void, StoreFailure>
  /** Rows in creation order, optionally of one status, a page at a time. */
  readonly list: (options?: ListOptions) => Effect.Effect<Page, StoreFailure>
  /** The number of rows per status. */
  readonly counts: Effect.Effect<Readonly<Record<string, number>>, StoreFailure>
  /** How much work is left: open rows (not terminal, or resolvers pending), due now, next due time. */
  readonly summary: Effect.Effect<Summary, StoreFailure>
}

/**
 * How much work a queue has left.
 *
 * @example
 * ```ts
 * import { QueueStore } from "xquik-write-queue"
 *
 * const line = (summary: QueueStore.Summary): string =>
 *   summary.open === 0 ? `all ${summary.total} rows done` : `${summary.open} open, ${summary.due} due now`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  readonly total: number
  /** Rows not terminal yet, or terminal with resolvers still to run. */
  readonly open: number
  /** Open rows whose `next_poll_at` has come. */
  readonly due: number
  /** The earliest `next_poll_at` of an open row. */
  readonly nextDueAt: Option.Option<number>
}

/**
 * The store service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QueueStore } from "xquik-write-queue"
 *
 * const counts = Effect.gen(function* () {
 *   const store = yield* QueueStore.QueueStore
 *   return yield* store.counts
 * }).pipe(Effect.provide(QueueStore.layerMemory))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class QueueStore extends Context.Tag("xquik-write-queue/QueueStore")<QueueStore, QueueStoreShape>() {}

/**
 * The default page size of `list`, and its maximum.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QueueStore } from "xquik-write-queue"
 *
 * const biggestPage = Effect.flatMap(QueueStore.QueueStore, (store) =>
 *   store.list({ limit: QueueStore.listLimits.max })
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const listLimits = { default: 100, max: 10_000 } as const

/**
 * A row as stores keep it: a closed row (terminal, resolvers done) has no `next_poll_at`, so the
 * due rows are exactly the rows with one.
 *
 * @example
 * ```ts
 * import { QueueRow, QueueStore } from "xquik-write-queue"
 *
 * const keep = (row: QueueRow.QueueRow) => QueueStore.closed(row)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const closed = (row: QueueRow.QueueRow): QueueRow.QueueRow =>
  row.terminal && !row.resolution_pending && row.next_poll_at !== null ? { ...row, next_poll_at: null } : row

/**
 * A cursor is the position after the last row of a page: its creation time and job id.
 *
 * @example
 * ```ts
 * import { QueueStore } from "xquik-write-queue"
 *
 * const cursor = QueueStore.encodeCursor({ created_at: 1767225600000, job_id: "job-1" })
 * ```
 *
 * @since 0.1.0
 * @category cursors
 */
export const encodeCursor = (row: Pick<QueueRow.QueueRow, "created_at" | "job_id">): string =>
  Buffer.from(JSON.stringify([row.created_at, row.job_id]), "utf8").toString("base64url")

/**
 * Reads a cursor; a bad one is a `StoreError` naming it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QueueStore } from "xquik-write-queue"
 *
 * const cursor = QueueStore.encodeCursor({ created_at: 1767225600000, job_id: "job-1" })
 * const position = Effect.runSync(QueueStore.decodeCursor(cursor)) // [1767225600000, "job-1"]
 * ```
 *
 * @since 0.1.0
 * @category cursors
 */
export const decodeCursor = (cursor: string): Effect.Effect<readonly [number, string], StoreError> => {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
    if (Array.isArray(value) && typeof value[0] === "number" && typeof value[1] === "string") {
      return Effect.succeed([value[0], value[1]] as const)
    }
  } catch {
    // fall through
  }
  return Effect.fail(
    new StoreError({
      operation: "list",
      reason: `${JSON.stringify(cursor.slice(0, 40))} is not a cursor from this store`
    })
  )
}

// ---------------------------------------------------------------------------------------------
// memory
// ---------------------------------------------------------------------------------------------

interface Entry {
  row: QueueRow.QueueRow
  lease: Lease | undefined
}

/**
 * An in-memory store, with the same semantics as the SQL one (leases, idempotent enqueue,
 * cursors). For tests, and for processes that need no durability.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QueueRow, QueueStore } from "xquik-write-queue"
 *
 * const summary = Effect.gen(function* () {
 *   const store = yield* QueueStore.makeMemory
 *   yield* store.enqueue(QueueRow.tracked({ jobId: "job-1", writeActionId: "42", now: 0 }))
 *   return yield* store.summary
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<QueueStoreShape> = Effect.sync(() => {
  const entries = new Map<string, Entry>()
  const byKey = new Map<string, string>()
  const byWriteAction = new Map<string, string>()

  const leasedByOther = (entry: Entry, now: number) => entry.lease !== undefined && entry.lease.expiresAt > now
  const open = (row: QueueRow.QueueRow) => !row.terminal || row.resolution_pending
  const newToken = () => globalThis.crypto.randomUUID()
  const holds = (entry: Entry | undefined, lease: Lease): entry is Entry => entry?.lease?.token === lease.token

  const index = (row: QueueRow.QueueRow) => {
    if (row.idempotency_key !== null) byKey.set(row.idempotency_key, row.job_id)
    if (row.write_action_id !== null) byWriteAction.set(row.write_action_id, row.job_id)
  }

  const find = (map: Map<string, string>, key: string) =>
    Effect.sync(() => Option.fromNullable(entries.get(map.get(key) ?? "")?.row))

  const lease = (entry: Entry, workerId: string, token: string, expiresAt: number): Claimed => {
    entry.lease = { jobId: entry.row.job_id, workerId, token, expiresAt }
    return { row: entry.row, lease: entry.lease }
  }

  const store: QueueStoreShape = {
    enqueue: (row) =>
      Effect.sync(() => {
        const existing =
          (row.idempotency_key !== null ? byKey.get(row.idempotency_key) : undefined) ??
          (row.write_action_id !== null ? byWriteAction.get(row.write_action_id) : undefined) ??
          (entries.has(row.job_id) ? row.job_id : undefined)
        const found = existing === undefined ? undefined : entries.get(existing)
        if (found !== undefined) return found.row
        const kept = closed(row)
        entries.set(row.job_id, { row: kept, lease: undefined })
        index(kept)
        return kept
      }),
    get: (jobId) => Effect.sync(() => Option.fromNullable(entries.get(jobId)?.row)),
    findByWriteActionId: (id) => find(byWriteAction, id),
    findByIdempotencyKey: (key) => find(byKey, key),
    claimDue: (options) =>
      Effect.flatMap(checkClaim(options), ({ limit, leaseMs }) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const due: Array<Entry> = []
          for (const entry of entries.values()) {
            const at = entry.row.next_poll_at
            if (open(entry.row) && at !== null && at <= now && !leasedByOther(entry, now)) due.push(entry)
          }
          due.sort(
            (a, b) => (a.row.next_poll_at ?? 0) - (b.row.next_poll_at ?? 0) || (a.row.job_id < b.row.job_id ? -1 : 1)
          )
          const token = newToken()
          return due.slice(0, limit).map((entry) => lease(entry, options.workerId, token, now + leaseMs))
        })
      ),
    claim: (jobId, options) =>
      Effect.flatMap(checkClaim({ ...options, limit: 1 }), ({ leaseMs }) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const entry = entries.get(jobId)
          if (entry === undefined || !open(entry.row) || leasedByOther(entry, now)) return Option.none()
          return Option.some(lease(entry, options.workerId, newToken(), now + leaseMs))
        })
      ),
    save: (row, held, options) =>
      Effect.suspend((): Effect.Effect<void, LeaseLost | StoreError> => {
        const entry = entries.get(row.job_id)
        if (!holds(entry, held)) return Effect.fail(new LeaseLost({ jobId: row.job_id, workerId: held.workerId }))
        const clash =
          (row.write_action_id !== null && (byWriteAction.get(row.write_action_id) ?? row.job_id) !== row.job_id) ||
          (row.idempotency_key !== null && (byKey.get(row.idempotency_key) ?? row.job_id) !== row.job_id)
        if (clash) {
          return Effect.fail(
            new StoreError({
              operation: "save",
              reason: "another job already has this write action id or idempotency key",
              code: "unique_violation"
            })
          )
        }
        entry.row = closed(row)
        index(row)
        if (options?.release === true) entry.lease = undefined
        return Effect.void
      }),
    reopen: (row, previous) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const entry = entries.get(previous.job_id)
        if (
          entry === undefined ||
          !entry.row.terminal ||
          entry.row.idempotency_key !== previous.idempotency_key ||
          leasedByOther(entry, now)
        ) {
          return false
        }
        if (previous.idempotency_key !== null) byKey.delete(previous.idempotency_key)
        if (previous.write_action_id !== null) byWriteAction.delete(previous.write_action_id)
        entry.row = closed(row)
        entry.lease = undefined
        index(row)
        return true
      }),
    renewLease: (held, leaseFor) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const entry = entries.get(held.jobId)
        if (!holds(entry, held)) return Effect.fail(new LeaseLost({ jobId: held.jobId, workerId: held.workerId }))
        const renewed = { ...held, expiresAt: now + Duration.toMillis(Duration.decode(leaseFor)) }
        entry.lease = renewed
        return Effect.succeed(renewed)
      }),
    release: (held) =>
      Effect.sync(() => {
        const entry = entries.get(held.jobId)
        if (holds(entry, held)) entry.lease = undefined
      }),
    list: (options = {}) =>
      Effect.gen(function* () {
        const limit = Math.min(Math.max(1, options.limit ?? listLimits.default), listLimits.max)
        const after = options.cursor === undefined ? undefined : yield* decodeCursor(options.cursor)
        const rows = [...entries.values()]
          .map((e) => e.row)
          .filter((r) => options.status === undefined || r.status === options.status)
          .filter(
            (r) => after === undefined || r.created_at > after[0] || (r.created_at === after[0] && r.job_id > after[1])
          )
          .sort((a, b) => a.created_at - b.created_at || (a.job_id < b.job_id ? -1 : 1))
        const page = rows.slice(0, limit)
        const last = page.at(-1)
        return {
          rows: page,
          nextCursor: rows.length > limit && last !== undefined ? Option.some(encodeCursor(last)) : Option.none()
        }
      }),
    summary: Effect.map(Clock.currentTimeMillis, (now) => {
      let openRows = 0
      let due = 0
      let nextDueAt: number | undefined
      for (const { row } of entries.values()) {
        if (!open(row)) continue
        openRows++
        const at = row.next_poll_at
        if (at === null) continue
        if (at <= now) due++
        nextDueAt = nextDueAt === undefined ? at : Math.min(nextDueAt, at)
      }
      return { total: entries.size, open: openRows, due, nextDueAt: Option.fromNullable(nextDueAt) }
    }),
    counts: Effect.sync(() => {
      const counts: Record<string, number> = {}
      for (const { row } of entries.values()) counts[row.status] = (counts[row.status] ?? 0) + 1
      return counts
    })
  }
  return store
})

/**
 * The in-memory store as a layer.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Outbox, QueueStore } from "xquik-write-queue"
 *
 * const jobId = Outbox.track("42").pipe(Effect.provide(QueueStore.layerMemory))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<QueueStore> = Layer.effect(QueueStore, makeMemory)

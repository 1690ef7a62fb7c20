/**
 * The queue store on `@effect/sql`: one implementation for SQLite (the embedded default) and
 * PostgreSQL (several workers, several machines), with dialect differences through
 * `sql.onDialectOrElse`.
 *
 * - Migrations use `@effect/sql`'s Migrator, are versioned and run at start. On PostgreSQL they
 *   run under an advisory lock, on SQLite under the database's write lock, so two workers
 *   starting at once do not race.
 * - Claims: on PostgreSQL `UPDATE … WHERE job_id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n)
 *   RETURNING *`; on SQLite `UPDATE … RETURNING *` in an immediate transaction.
 * - Credits are stored as text and stay exact; the request, media, next action and metadata as
 *   JSON; times as UTC milliseconds.
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { errorCode } from "./internal/cause.js"
import { checkClaim } from "./internal/claim.js"
import * as QueueRow from "./QueueRow.js"
import {
  type Claimed,
  closed,
  decodeCursor,
  encodeCursor,
  type Lease,
  listLimits,
  QueueStore,
  type QueueStoreShape
} from "./QueueStore.js"
import { ConfigError, LeaseLost, StoreCorrupt, StoreError } from "./XquikError.js"

/**
 * Table names of the SQL store.
 *
 * @example
 * ```ts
 * import { SqlQueueStore } from "xquik-write-queue"
 *
 * const options: SqlQueueStore.Options = { table: "acme_jobs", migrationsTable: "acme_migrations" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The jobs table. Default `xquik_write_queue_jobs`. */
  readonly table?: string | undefined
  /** The migrations table. Default `xquik_write_queue_migrations`. */
  readonly migrationsTable?: string | undefined
}

const defaults = {
  table: "xquik_write_queue_jobs",
  migrationsTable: "xquik_write_queue_migrations"
}

const jsonColumns = ["request_payload", "media", "next_action", "metadata", "history", "last_record"] as const
const booleanColumns = ["terminal", "charged", "send_dispatched", "safe_to_retry", "resolution_pending"] as const
const numberColumns = [
  "confirmation_attempts",
  "attempts",
  "polls",
  "poll_hint_ms",
  "created_at",
  "updated_at",
  "next_poll_at",
  "completed_at"
] as const

type SqlRow = Record<string, unknown>

// ---------------------------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------------------------

const driverMessage = (error: SqlError): string => {
  const cause: unknown = error.cause
  const text = cause instanceof Error ? cause.message : error.message
  // A connection string could carry a password: never echo one.
  return text.replace(/\/\/[^@\s/]*@/g, "//<redacted>@").slice(0, 500)
}

/**
 * Maps a driver error to a `StoreError` (`unique_violation` for a duplicate key, the driver's
 * code otherwise).
 *
 * @example
 * ```ts
 * import { SqlClient } from "@effect/sql"
 * import { Effect } from "effect"
 * import { SqlQueueStore } from "xquik-write-queue"
 *
 * const jobCount = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT count(*) AS n FROM xquik_write_queue_jobs`)
 * const counted = jobCount.pipe(Effect.mapError(SqlQueueStore.storeError("count the jobs")))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const storeError =
  (operation: string) =>
  (error: SqlError): StoreError => {
    const code = errorCode(error.cause)
    const normalized =
      code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY"
        ? "unique_violation"
        : code === undefined && lostConnection(error)
          ? "connection_lost"
          : code
    const message = driverMessage(error)
    const reason =
      code === "SQLITE_FULL" || code === "53100"
        ? `the database or its disk is full (${message}); nothing of this write was kept. Free disk space or raise the size limit (PRAGMA max_page_count, a quota); the worker retries after a pause`
        : message
    return new StoreError({
      operation,
      reason,
      ...(normalized !== undefined ? { code: normalized } : {})
    })
  }

// node-postgres reports a dropped connection (the server restarted, `pg_terminate_backend`, a
// network cut) as a plain Error without a code.
const lostConnection = (error: SqlError): boolean => {
  const cause: unknown = error.cause
  const text = `${error.message} ${cause instanceof Error ? cause.message : ""}`
  return /connection (terminated|error|ended)|not queryable|terminated unexpectedly|timeout exceeded when trying to connect/i.test(
    text
  )
}

// ---------------------------------------------------------------------------------------------
// rows
// ---------------------------------------------------------------------------------------------

const decodeRow = QueueRow.decode

/** A stored row back to a `QueueRow` (and its lease, when one is held). */
const fromSql = (raw: SqlRow): Either.Either<{ row: QueueRow.QueueRow; lease: Lease | undefined }, StoreCorrupt> => {
  const jobId = String(raw.job_id)
  const corrupt = (column: string, reason: string) => Either.left(new StoreCorrupt({ jobId, column, reason }))
  const value: SqlRow = { ...raw }
  for (const column of jsonColumns) {
    const text = raw[column]
    if (text === null || text === undefined) {
      value[column] = column === "history" ? [] : null
      continue
    }
    if (typeof text !== "string") return corrupt(column, "expected JSON text")
    try {
      value[column] = JSON.parse(text)
    } catch {
      return corrupt(column, "not valid JSON")
    }
  }
  for (const column of booleanColumns) {
    const b = raw[column]
    value[column] = b === true || b === 1 || b === 1n ? true : b === false || b === 0 || b === 0n ? false : b
  }
  for (const column of numberColumns) {
    const n = raw[column]
    value[column] = typeof n === "string" || typeof n === "bigint" ? Number(n) : n === undefined ? null : n
  }
  const decoded = decodeRow(value)
  if (Either.isLeft(decoded)) {
    const [first] = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)
    return corrupt(String(first?.path[0] ?? "row"), first?.message.slice(0, 200) ?? "unreadable")
  }
  const token = raw.lease_token
  const expires = raw.lease_expires_at
  const lease =
    typeof token === "string" && expires !== null && expires !== undefined
      ? { jobId, workerId: String(raw.lease_owner ?? ""), token, expiresAt: Number(expires) }
      : undefined
  return Either.right({ row: decoded.right, lease })
}

// ---------------------------------------------------------------------------------------------
// migrations
// ---------------------------------------------------------------------------------------------

const migrations = (table: string) =>
  Migrator.fromRecord({
    "1_create_jobs": Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const bool = sql.onDialectOrElse({ pg: () => "BOOLEAN", orElse: () => "INTEGER" })
      const no = sql.onDialectOrElse({ pg: () => "false", orElse: () => "0" })
      yield* sql.unsafe(`CREATE TABLE ${table} (
  job_id TEXT PRIMARY KEY,
  idempotency_key TEXT UNIQUE,
  write_action_id TEXT UNIQUE,
  account TEXT,
  action TEXT,
  request_payload TEXT,
  request_hash TEXT,
  status TEXT NOT NULL,
  terminal ${bool} NOT NULL,
  result_id TEXT,
  result_type TEXT,
  target_id TEXT,
  charged ${bool} NOT NULL,
  charged_credits TEXT NOT NULL,
  media TEXT,
  send_dispatched ${bool} NOT NULL,
  confirmation_attempts INTEGER NOT NULL,
  poll_endpoint TEXT,
  error_code TEXT,
  message TEXT,
  safe_to_retry ${bool} NOT NULL,
  next_action TEXT,
  attempts INTEGER NOT NULL,
  polls INTEGER NOT NULL,
  metadata TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  next_poll_at BIGINT,
  completed_at BIGINT,
  lease_owner TEXT,
  lease_token TEXT,
  lease_expires_at BIGINT
)`)
      yield* sql.unsafe(`CREATE INDEX ${table}_due ON ${table} (next_poll_at) WHERE terminal = ${no}`)
      yield* sql.unsafe(`CREATE INDEX ${table}_status ON ${table} (status, created_at, job_id)`)
      yield* sql.unsafe(`CREATE INDEX ${table}_created ON ${table} (created_at, job_id)`)
    }),
    "2_worker_columns": Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const bool = sql.onDialectOrElse({ pg: () => "BOOLEAN", orElse: () => "INTEGER" })
      const no = sql.onDialectOrElse({ pg: () => "false", orElse: () => "0" })
      yield* sql.unsafe(`ALTER TABLE ${table} ADD COLUMN poll_hint_ms BIGINT`)
      yield* sql.unsafe(`ALTER TABLE ${table} ADD COLUMN resolution_pending ${bool} NOT NULL DEFAULT ${no}`)
      yield* sql.unsafe(`ALTER TABLE ${table} ADD COLUMN history TEXT`)
      yield* sql.unsafe(`ALTER TABLE ${table} ADD COLUMN last_record TEXT`)
      // Terminal rows whose resolvers still have to run are due too.
      yield* sql.unsafe(
        `CREATE INDEX ${table}_unresolved ON ${table} (next_poll_at) WHERE resolution_pending = ${bool === "BOOLEAN" ? "true" : "1"}`
      )
    }),
    // One index serves every claim, in claim order: a closed row has no next_poll_at, so the due
    // rows are exactly the indexed ones, and a claim reads them in order and stops at its limit
    // (the OR of two partial indexes had to sort every due row first).
    "3_claim_index": Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const yes = sql.onDialectOrElse({ pg: () => "true", orElse: () => "1" })
      const no = sql.onDialectOrElse({ pg: () => "false", orElse: () => "0" })
      yield* sql.unsafe(`DROP INDEX IF EXISTS ${table}_due`)
      yield* sql.unsafe(`DROP INDEX IF EXISTS ${table}_unresolved`)
      yield* sql.unsafe(
        `UPDATE ${table} SET next_poll_at = NULL WHERE terminal = ${yes} AND resolution_pending = ${no}`
      )
      yield* sql.unsafe(`CREATE INDEX ${table}_next ON ${table} (next_poll_at, job_id) WHERE next_poll_at IS NOT NULL`)
    })
  })

const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/**
 * Runs the store's migrations. Two workers starting at once take turns: on PostgreSQL under an
 * advisory transaction lock, on SQLite under the write lock (a write is the transaction's first
 * statement, so the second worker waits on the busy timeout instead of failing).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SqlQueueStore } from "xquik-write-queue"
 *
 * // e.g. a deploy step, before any worker starts
 * const migrated = SqlQueueStore.migrate({ table: "acme_jobs" }).pipe(
 *   Effect.provide(SqlQueueStore.layerSqliteClient({ filename: "./acme.db" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrate = (options: Options = {}): Effect.Effect<void, StoreError | ConfigError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const table = options.table ?? defaults.table
    const migrationsTable = options.migrationsTable ?? defaults.migrationsTable
    for (const [name, value] of [
      ["table", table],
      ["migrationsTable", migrationsTable]
    ] as const) {
      if (!identifier.test(value)) {
        return yield* new ConfigError({
          variables: [name],
          reason: "a table name must be a plain SQL identifier (letters, digits, _)."
        })
      }
    }
    const sql = yield* SqlClient.SqlClient
    const run = Migrator.make({})({ loader: migrations(table), table: migrationsTable })
    const lockTable = `${migrationsTable}_lock`
    yield* sql
      .onDialectOrElse({
        pg: () =>
          sql.withTransaction(
            Effect.gen(function* () {
              yield* sql`SELECT pg_advisory_xact_lock(hashtext(${migrationsTable}))`
              // Created here, inside the lock, so the Migrator's own existence check cannot fail
              // (a failed statement would poison this transaction).
              yield* sql.unsafe(`CREATE TABLE IF NOT EXISTS ${migrationsTable} (
  migration_id integer primary key,
  created_at timestamp with time zone not null default now(),
  name text not null
)`)
              yield* run
            })
          ),
        orElse: () =>
          Effect.gen(function* () {
            yield* sql.unsafe(`CREATE TABLE IF NOT EXISTS ${lockTable} (id INTEGER PRIMARY KEY, at INTEGER)`)
            yield* sql.withTransaction(
              Effect.zipRight(sql.unsafe(`INSERT OR REPLACE INTO ${lockTable} (id, at) VALUES (1, 1)`), run)
            )
          })
      })
      .pipe(
        Effect.catchTags({
          SqlError: (e) => Effect.fail(storeError("migrate")(e)),
          MigrationError: (e) => Effect.fail(new StoreError({ operation: "migrate", reason: e.message }))
        }),
        // A busy timeout shorter than another process's migration (or than its write in flight)
        // must not stop a worker from starting: the lock is tried again for up to 30 s.
        Effect.retry({
          schedule: Schedule.exponential("20 millis").pipe(
            Schedule.union(Schedule.spaced("500 millis")),
            Schedule.upTo("30 seconds")
          ),
          while: (e) => e.code?.startsWith("SQLITE_BUSY") === true || e.code?.startsWith("SQLITE_LOCKED") === true
        })
      )
  })

// ---------------------------------------------------------------------------------------------
// the store
// ---------------------------------------------------------------------------------------------

/**
 * Builds the store on the `SqlClient` in context, after running the migrations.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SqlQueueStore } from "xquik-write-queue"
 *
 * const counts = Effect.flatMap(SqlQueueStore.make(), (store) => store.counts).pipe(
 *   Effect.provide(SqlQueueStore.layerSqliteClient({ filename: "./xquik-write-queue.db" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<QueueStoreShape, StoreError | ConfigError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    yield* migrate(options)
    const sql = yield* SqlClient.SqlClient
    const table = sql(options.table ?? defaults.table)
    const isPg = sql.onDialectOrElse({ pg: () => true, orElse: () => false })
    const bool = (b: boolean): boolean | number => (isPg ? b : b ? 1 : 0)

    // The row's type is already its JSON form (brands are plain strings): no schema encode on the
    // hot path, only the JSON columns stringified. A test keeps encode(row) equal to the row.
    const toSql = (input: QueueRow.QueueRow): SqlRow => {
      const encoded: SqlRow = { ...closed(input) }
      for (const column of jsonColumns) {
        const v = encoded[column]
        encoded[column] = v === null || v === undefined ? null : JSON.stringify(v)
      }
      for (const column of booleanColumns) encoded[column] = bool(encoded[column] === true)
      return encoded
    }

    const rowsOf = (operation: string) => (raws: ReadonlyArray<SqlRow>) => {
      const out: Array<{ row: QueueRow.QueueRow; lease: Lease | undefined }> = []
      return Effect.gen(function* () {
        for (const raw of raws) {
          const decoded = fromSql(raw)
          if (Either.isRight(decoded)) out.push(decoded.right)
          else
            yield* Effect.logWarning(`QueueStore: skipped a corrupt row while ${operation}`).pipe(
              Effect.annotateLogs({
                job_id: decoded.left.jobId,
                column: decoded.left.column,
                reason: decoded.left.reason
              })
            )
        }
        return out
      })
    }

    const one = (operation: string, statement: Effect.Effect<ReadonlyArray<SqlRow>, SqlError>) =>
      statement.pipe(
        Effect.mapError(storeError(operation)),
        Effect.flatMap((raws) => {
          const [raw] = raws
          if (raw === undefined) return Effect.succeed(Option.none())
          return Either.match(fromSql(raw), {
            onLeft: Effect.fail,
            onRight: ({ row }) => Effect.succeed(Option.some(row))
          })
        })
      )

    // SQLite claims run in an immediate transaction: the write lock is taken before the rows are
    // read, so two processes cannot both read the same due rows.
    const immediate = <A extends object>(
      statement: Statement.Statement<A>
    ): Effect.Effect<ReadonlyArray<A>, SqlError> =>
      isPg
        ? statement
        : Effect.uninterruptible(
            Effect.scoped(
              Effect.gen(function* () {
                const connection = yield* sql.reserve
                const [text, params] = statement.compile()
                yield* connection.executeUnprepared("BEGIN IMMEDIATE", [], undefined)
                return yield* connection.execute(text, params, undefined).pipe(
                  Effect.tap(() => connection.executeUnprepared("COMMIT", [], undefined)),
                  Effect.tapError(() => Effect.ignore(connection.executeUnprepared("ROLLBACK", [], undefined)))
                )
              })
            )
          )

    const leasesOf = (claimed: ReadonlyArray<{ row: QueueRow.QueueRow; lease: Lease | undefined }>): Array<Claimed> =>
      claimed.flatMap(({ row, lease }) => (lease === undefined ? [] : [{ row, lease }]))

    const store: QueueStoreShape = {
      enqueue: (row) =>
        Effect.gen(function* () {
          const inserted =
            yield* sql<SqlRow>`INSERT INTO ${table} ${sql.insert(toSql(row))} ON CONFLICT DO NOTHING RETURNING *`.pipe(
              Effect.mapError(storeError("enqueue"))
            )
          const [fresh] = yield* rowsOf("enqueueing")(inserted)
          if (fresh !== undefined) return fresh.row
          // A repeat: return what is stored under the same key (or write action id, or job id).
          const existing = yield* one(
            "enqueue",
            sql<SqlRow>`SELECT * FROM ${table} WHERE ${sql.or([
              ...(row.idempotency_key !== null ? [sql`idempotency_key = ${row.idempotency_key}`] : []),
              ...(row.write_action_id !== null ? [sql`write_action_id = ${row.write_action_id}`] : []),
              sql`job_id = ${row.job_id}`
            ])} LIMIT 1`
          )
          return yield* Option.match(existing, {
            onSome: Effect.succeed,
            onNone: () =>
              Effect.fail(new StoreError({ operation: "enqueue", reason: "the row was neither inserted nor found" }))
          })
        }),
      get: (jobId) => one("get", sql<SqlRow>`SELECT * FROM ${table} WHERE job_id = ${jobId}`),
      findByWriteActionId: (id) => one("find", sql<SqlRow>`SELECT * FROM ${table} WHERE write_action_id = ${id}`),
      findByIdempotencyKey: (key) => one("find", sql<SqlRow>`SELECT * FROM ${table} WHERE idempotency_key = ${key}`),
      claimDue: (options) =>
        Effect.gen(function* () {
          const { limit, leaseMs } = yield* checkClaim(options)
          const now = yield* Clock.currentTimeMillis
          const token = globalThis.crypto.randomUUID()
          const due = sql`SELECT job_id FROM ${table} WHERE next_poll_at <= ${now} AND (terminal = ${bool(false)} OR resolution_pending = ${bool(true)}) AND (lease_token IS NULL OR lease_expires_at <= ${now}) ORDER BY next_poll_at, job_id LIMIT ${limit}`
          const lock = isPg ? sql` FOR UPDATE SKIP LOCKED` : sql``
          const raws = yield* immediate(
            sql<SqlRow>`UPDATE ${table} SET lease_owner = ${options.workerId}, lease_token = ${token}, lease_expires_at = ${now + leaseMs} WHERE job_id IN (${due}${lock}) RETURNING *`
          ).pipe(Effect.mapError(storeError("claim")))
          const claimed = leasesOf(yield* rowsOf("claiming")(raws))
          return claimed.sort(
            (a, b) => (a.row.next_poll_at ?? 0) - (b.row.next_poll_at ?? 0) || (a.row.job_id < b.row.job_id ? -1 : 1)
          )
        }),
      claim: (jobId, options) =>
        Effect.gen(function* () {
          const { leaseMs } = yield* checkClaim({ ...options, limit: 1 })
          const now = yield* Clock.currentTimeMillis
          const token = globalThis.crypto.randomUUID()
          const raws = yield* immediate(
            sql<SqlRow>`UPDATE ${table} SET lease_owner = ${options.workerId}, lease_token = ${token}, lease_expires_at = ${now + leaseMs} WHERE job_id = ${jobId} AND (terminal = ${bool(false)} OR resolution_pending = ${bool(true)}) AND (lease_token IS NULL OR lease_expires_at <= ${now}) RETURNING *`
          ).pipe(Effect.mapError(storeError("claim")))
          const [raw] = raws
          if (raw === undefined) return Option.none()
          const decoded = fromSql(raw)
          if (Either.isLeft(decoded)) return yield* decoded.left
          const { row, lease } = decoded.right
          return lease === undefined ? Option.none() : Option.some({ row, lease })
        }),
      save: (row, lease, options) =>
        Effect.gen(function* () {
          const values = toSql(row)
          if (options?.release === true) {
            values.lease_owner = null
            values.lease_token = null
            values.lease_expires_at = null
          }
          const updated =
            yield* sql<SqlRow>`UPDATE ${table} SET ${sql.update(values, ["job_id"])} WHERE job_id = ${row.job_id} AND lease_token = ${lease.token} RETURNING job_id`.pipe(
              Effect.mapError(storeError("save"))
            )
          if (updated.length === 0) return yield* new LeaseLost({ jobId: row.job_id, workerId: lease.workerId })
        }),
      reopen: (row, previous) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const values = toSql(row)
          values.lease_owner = null
          values.lease_token = null
          values.lease_expires_at = null
          const updated =
            yield* sql<SqlRow>`UPDATE ${table} SET ${sql.update(values, ["job_id"])} WHERE job_id = ${previous.job_id} AND terminal = ${bool(true)} AND idempotency_key = ${previous.idempotency_key ?? ""} AND (lease_token IS NULL OR lease_expires_at <= ${now}) RETURNING job_id`.pipe(
              Effect.mapError(storeError("reopen"))
            )
          return updated.length > 0
        }),
      renewLease: (lease, leaseFor) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const expiresAt = now + Duration.toMillis(Duration.decode(leaseFor))
          const updated =
            yield* sql<SqlRow>`UPDATE ${table} SET lease_expires_at = ${expiresAt} WHERE job_id = ${lease.jobId} AND lease_token = ${lease.token} RETURNING job_id`.pipe(
              Effect.mapError(storeError("renew a lease"))
            )
          if (updated.length === 0) return yield* new LeaseLost({ jobId: lease.jobId, workerId: lease.workerId })
          return { ...lease, expiresAt }
        }),
      release: (lease) =>
        sql`UPDATE ${table} SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL WHERE job_id = ${lease.jobId} AND lease_token = ${lease.token}`.pipe(
          Effect.mapError(storeError("release a lease")),
          Effect.asVoid
        ),
      list: (options = {}) =>
        Effect.gen(function* () {
          const limit = Math.min(Math.max(1, Math.floor(options.limit ?? listLimits.default)), listLimits.max)
          const after = options.cursor === undefined ? undefined : yield* decodeCursor(options.cursor)
          const where = sql.and([
            ...(options.status !== undefined ? [sql`status = ${options.status}`] : []),
            ...(after !== undefined
              ? [sql`(created_at > ${after[0]} OR (created_at = ${after[0]} AND job_id > ${after[1]}))`]
              : [])
          ])
          const raws =
            yield* sql<SqlRow>`SELECT * FROM ${table} WHERE ${where} ORDER BY created_at, job_id LIMIT ${limit + 1}`.pipe(
              Effect.mapError(storeError("list"))
            )
          const more = raws.length > limit
          const page = raws.slice(0, limit)
          const rows = (yield* rowsOf("listing")(page)).map((r) => r.row)
          const lastRaw = page.at(-1)
          return {
            rows,
            nextCursor:
              more && lastRaw !== undefined
                ? Option.some(encodeCursor({ created_at: Number(lastRaw.created_at), job_id: String(lastRaw.job_id) }))
                : Option.none()
          }
        }),
      summary: Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const open = sql`(terminal = ${bool(false)} OR resolution_pending = ${bool(true)})`
        const [raw] = yield* sql<{
          total: unknown
          open: unknown
          next_due: unknown
          due: unknown
        }>`SELECT COUNT(*) AS total, SUM(CASE WHEN ${open} THEN 1 ELSE 0 END) AS open, MIN(CASE WHEN ${open} THEN next_poll_at END) AS next_due, SUM(CASE WHEN ${open} AND next_poll_at <= ${now} THEN 1 ELSE 0 END) AS due FROM ${table}`.pipe(
          Effect.mapError(storeError("summarize"))
        )
        const num = (u: unknown) => (u === null || u === undefined ? 0 : Number(u))
        return {
          total: num(raw?.total),
          open: num(raw?.open),
          due: num(raw?.due),
          nextDueAt:
            raw?.next_due === null || raw?.next_due === undefined ? Option.none() : Option.some(Number(raw.next_due))
        }
      }),
      counts: sql<{
        status: string
        n: number | string
      }>`SELECT status, COUNT(*) AS n FROM ${table} GROUP BY status`.pipe(
        Effect.mapError(storeError("count")),
        Effect.map((rows) => Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])))
      )
    }
    return store
  })

/**
 * The store on the `SqlClient` in context. Runs the migrations when built.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { SqlQueueStore } from "xquik-write-queue"
 *
 * const StoreLive = SqlQueueStore.layer({ table: "acme_jobs" }).pipe(
 *   Layer.provide(SqlQueueStore.layerSqliteClient({ filename: "./acme.db" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<QueueStore, StoreError | ConfigError, SqlClient.SqlClient> =>
  Layer.effect(QueueStore, make(options))

// ---------------------------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------------------------

/**
 * Options of the SQLite store: the file, how long to wait for a lock, and how durable each commit is.
 *
 * @example
 * ```ts
 * import { SqlQueueStore } from "xquik-write-queue"
 *
 * const options: SqlQueueStore.SqliteOptions = {
 *   filename: "./xquik-write-queue.db",
 *   busyTimeout: "10 seconds",
 *   synchronous: "FULL"
 * }
 * ```
 *
 * @since 0.1.0
 * @category sqlite
 */
export interface SqliteOptions extends Options {
  readonly filename: string
  /** How long a writer waits for another process's lock. Default 5 s. */
  readonly busyTimeout?: Duration.DurationInput | undefined
  /**
   * `NORMAL` (default; with WAL every commit survives a process crash) or `FULL` (also survives
   * a power cut, slower).
   */
  readonly synchronous?: "NORMAL" | "FULL" | undefined
}

/**
 * A SQLite client on a file, in WAL mode with a busy timeout. A file that cannot be opened is a
 * `StoreError`.
 *
 * @example
 * ```ts
 * import { SqlClient } from "@effect/sql"
 * import { Effect } from "effect"
 * import { SqlQueueStore } from "xquik-write-queue"
 *
 * const tables = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT name FROM sqlite_master`).pipe(
 *   Effect.provide(SqlQueueStore.layerSqliteClient({ filename: "./xquik-write-queue.db" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category sqlite
 */
export const layerSqliteClient = (
  options: Omit<SqliteOptions, keyof Options>
): Layer.Layer<SqliteClient.SqliteClient | SqlClient.SqlClient, StoreError> =>
  Layer.scopedContext(
    Effect.gen(function* () {
      const client = yield* SqliteClient.make({ filename: options.filename }).pipe(
        Effect.catchAllDefect((defect) =>
          Effect.fail(
            new StoreError({
              operation: "open the SQLite file",
              reason: `${options.filename}: ${defect instanceof Error ? defect.message : String(defect)}`,
              ...(errorCode(defect) !== undefined ? { code: String(errorCode(defect)) } : {})
            })
          )
        )
      )
      const busyMs = Math.round(Duration.toMillis(Duration.decode(options.busyTimeout ?? Duration.seconds(5))))
      yield* client.unsafe(`PRAGMA busy_timeout = ${busyMs}`).pipe(Effect.mapError(storeError("configure SQLite")))
      yield* client
        .unsafe(`PRAGMA synchronous = ${options.synchronous === "FULL" ? "FULL" : "NORMAL"}`)
        .pipe(Effect.mapError(storeError("configure SQLite")))
      return Context.make(SqliteClient.SqliteClient, client).pipe(Context.add(SqlClient.SqlClient, client))
    })
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * The store on a SQLite file: the embedded default.
 *
 * @example
 * ```ts
 * import { SqlQueueStore } from "xquik-write-queue"
 *
 * const store = SqlQueueStore.layerSqlite({ filename: "./xquik-write-queue.db" })
 * ```
 *
 * @since 0.1.0
 * @category sqlite
 */
export const layerSqlite = (options: SqliteOptions): Layer.Layer<QueueStore, StoreError | ConfigError> =>
  layer(options).pipe(Layer.provide(layerSqliteClient(options)))

/**
 * The SQLite store from config: `XQUIK_DB` (default `./xquik-write-queue.db`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Outbox, SqlQueueStore } from "xquik-write-queue"
 *
 * // XQUIK_DB=./jobs.db, or ./xquik-write-queue.db when unset
 * const jobId = Outbox.track("42").pipe(Effect.provide(SqlQueueStore.layerSqliteConfig()))
 * ```
 *
 * @since 0.1.0
 * @category sqlite
 */
export const layerSqliteConfig = (
  config: Config.Config<SqliteOptions> = Config.map(
    Config.withDefault(Config.string("XQUIK_DB"), "./xquik-write-queue.db"),
    (filename) => ({
      filename
    })
  )
): Layer.Layer<QueueStore, StoreError | ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.mapError(config, (e) => new ConfigError({ variables: ["XQUIK_DB"], reason: String(e) })),
      layerSqlite
    )
  )

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

/**
 * Options of the PostgreSQL store: the connection URL and pool settings.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { SqlQueueStore } from "xquik-write-queue"
 *
 * const options: SqlQueueStore.PgOptions = {
 *   url: Redacted.make("postgres://app:secret@db.internal:5432/xquik"),
 *   maxConnections: 20,
 *   applicationName: "xquik-worker"
 * }
 * ```
 *
 * @since 0.1.0
 * @category postgres
 */
export interface PgOptions extends Options {
  /** `postgres://user@host:5432/db` (a password in it is kept `Redacted`). */
  readonly url: string | Redacted.Redacted<string>
  readonly maxConnections?: number | undefined
  readonly connectTimeout?: Duration.DurationInput | undefined
  readonly applicationName?: string | undefined
}

/**
 * A PostgreSQL client. An unreachable server is a `StoreError`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SqlQueueStore } from "xquik-write-queue"
 *
 * const migrated = SqlQueueStore.migrate().pipe(
 *   Effect.provide(SqlQueueStore.layerPgClient({ url: "postgres://postgres@127.0.0.1:5432/xquik" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category postgres
 */
export const layerPgClient = (
  options: Omit<PgOptions, keyof Options>
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, StoreError> =>
  PgClient.layer({
    url: Redacted.isRedacted(options.url) ? options.url : Redacted.make(options.url),
    maxConnections: options.maxConnections ?? 10,
    connectTimeout: options.connectTimeout ?? Duration.seconds(5),
    applicationName: options.applicationName ?? "xquik-write-queue"
  }).pipe(Layer.mapError(storeError("connect to PostgreSQL")))

/**
 * The store on PostgreSQL: several workers and machines, with `FOR UPDATE SKIP LOCKED` claims.
 *
 * @example
 * ```ts
 * import { SqlQueueStore } from "xquik-write-queue"
 *
 * const store = SqlQueueStore.layerPg({ url: "postgres://postgres@127.0.0.1:5432/xquik" })
 * ```
 *
 * @since 0.1.0
 * @category postgres
 */
export const layerPg = (options: PgOptions): Layer.Layer<QueueStore, StoreError | ConfigError> =>
  layer(options).pipe(Layer.provide(layerPgClient(options)))

/**
 * The PostgreSQL store from config: `XQUIK_DB` as a `postgres://` URL.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SqlQueueStore, Worker } from "xquik-write-queue"
 *
 * // XQUIK_DB=postgres://user@host:5432/db
 * const summary = Worker.drain().pipe(Effect.provide(SqlQueueStore.layerPgConfig()))
 * ```
 *
 * @since 0.1.0
 * @category postgres
 */
export const layerPgConfig = (
  config: Config.Config<PgOptions> = Config.map(Config.redacted("XQUIK_DB"), (url) => ({ url }))
): Layer.Layer<QueueStore, StoreError | ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.mapError(config, (e) => new ConfigError({ variables: ["XQUIK_DB"], reason: String(e) })),
      layerPg
    )
  )

/**
 * The store for a `--db` value: a `postgres://` or `postgresql://` URL is PostgreSQL, anything
 * else a SQLite file.
 *
 * @example
 * ```ts
 * import { SqlQueueStore } from "xquik-write-queue"
 *
 * // "postgres://..." is PostgreSQL; anything else is a SQLite file.
 * const StoreLive = SqlQueueStore.layerFromUrl(process.env.XQUIK_DB ?? "./xquik-write-queue.db")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const layerFromUrl = (db: string, options: Options = {}): Layer.Layer<QueueStore, StoreError | ConfigError> =>
  /^postgres(ql)?:\/\//i.test(db) ? layerPg({ ...options, url: db }) : layerSqlite({ ...options, filename: db })

/**
 * xquik-write-queue: get X writes made through the Xquik API to a known outcome exactly once,
 * and keep a durable record of each.
 *
 * @since 0.1.0
 */

/**
 * Sending each write exactly once: enqueue, send, retryWithNewKey, track.
 *
 * @since 0.1.0
 */
export * as Outbox from "./Outbox.js"
/**
 * Polling a write action to its outcome: `polls`, `awaitOutcome`, `resolve`, schedules.
 *
 * @since 0.1.0
 */
export * as Polling from "./Polling.js"
/**
 * The queue-state row and `fromWriteAction`.
 *
 * @since 0.1.0
 */
export * as QueueRow from "./QueueRow.js"
/**
 * The queue store tag, leases, and the in-memory layer.
 *
 * @since 0.1.0
 */
export * as QueueStore from "./QueueStore.js"
/**
 * A shared rate budget per account.
 *
 * @since 0.1.0
 */
export * as RateBudget from "./RateBudget.js"
/**
 * Resolvers for each outcome, and their combinators.
 *
 * @since 0.1.0
 */
export * as Resolver from "./Resolver.js"
/**
 * The SQL store: SQLite (embedded default) and PostgreSQL.
 *
 * @since 0.1.0
 */
export * as SqlQueueStore from "./SqlQueueStore.js"
/**
 * The worker: run, drain, layer, metrics.
 *
 * @since 0.1.0
 */
export * as Worker from "./Worker.js"
/**
 * The write action status record (contracts A and B), ids, credits and `outcome`.
 *
 * @since 0.1.0
 */
export * as WriteAction from "./WriteAction.js"
/**
 * The writes (tweet, reply, DM, like, follow, …) and `IdempotencyKey`.
 *
 * @since 0.1.0
 */
export * as WriteRequest from "./WriteRequest.js"
/**
 * The API client on `@effect/platform`'s `HttpClient`.
 *
 * @since 0.1.0
 */
export * as XquikClient from "./XquikClient.js"
/**
 * Base URL, credential, timeouts and retry policy.
 *
 * @since 0.1.0
 */
export * as XquikConfig from "./XquikConfig.js"
/**
 * Every typed error.
 *
 * @since 0.1.0
 */
export * as XquikError from "./XquikError.js"

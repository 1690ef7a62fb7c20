/**
 * The fields of a queue row that say how its send went and what came of it, as they are before
 * any send: a new row starts with them, and a new attempt under a new key goes back to them.
 *
 * @internal
 */
import type { QueueRow } from "../QueueRow.js"
import * as WriteAction from "../WriteAction.js"

/** @internal */
export const unsent = {
  write_action_id: null,
  status: "queued",
  terminal: false,
  result_id: null,
  result_type: null,
  charged: false,
  charged_credits: WriteAction.zeroCredits,
  send_dispatched: false,
  confirmation_attempts: 0,
  poll_endpoint: null,
  error_code: null,
  message: null,
  safe_to_retry: false,
  next_action: null,
  polls: 0,
  poll_hint_ms: null,
  resolution_pending: false,
  last_record: null,
  completed_at: null
} satisfies Partial<QueueRow>

import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, it } from "@effect/vitest"

const run = promisify(execFile)
const dir = mkdtempSync(join(tmpdir(), "xquik-examples-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs an example as its own process, as a user would. */
const example = (name: string, args: ReadonlyArray<string> = [], env: Record<string, string> = {}) =>
  run(process.execPath, ["--import", "tsx", `examples/${name}.ts`, ...args], {
    cwd: new URL("..", import.meta.url).pathname,
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: "1", ...env }
  })

describe("examples", () => {
  it("await-outcome submits a tweet and awaits its outcome", async () => {
    const { stdout } = await example("await-outcome")
    expect(stdout).toMatch(/submitted: write action \d+ is accepted/)
    expect(stdout).toMatch(/succeeded: tweet \d+, 30 credits/)
  })

  it("stream-progress prints each poll as it happens, ending with the terminal one", async () => {
    const { stdout } = await example("stream-progress")
    const lines = stdout.trim().split("\n")
    expect(lines.map((l) => l.split(/\s+/)[4])).toEqual([
      "accepted",
      "dispatching",
      "pending_confirmation",
      "pending_confirmation",
      "success"
    ])
    expect(lines.at(-1)).toContain("Succeeded")
  })

  it("resolvers composes row keeping, announcements, a duplicate rule and escalation", async () => {
    const { stdout, stderr } = await example("resolvers")
    expect(stdout).toMatch(/✓ \d+: posted \d+ for 30 credits/)
    expect(stdout).toContain("X already has this post")
    expect(stdout).toContain("expired; verify on X, do not resend")
    expect(stdout.match(/ {2}row: /g)).toHaveLength(4)
    expect(stderr).toMatch(/PAGE: ✗ \d+: x_account_suspended/)
  })

  it("the demo drains a mixed batch into SQLite and prints a summary and the rows", async () => {
    const db = join(dir, "demo.db")
    const { stdout, stderr } = await example("demo", [], { XQUIK_DB: db })
    const lines = stdout.trim().split("\n")
    // A table and a line for a person on stderr; the summary and the rows as JSON lines on stdout.
    expect(stderr).toContain("outcome    writes\nsucceeded  15\nfailed     2\nexpired    1")
    expect(stderr).toMatch(/API saw 17 dispatches, 0 duplicates, 0 polls after a terminal answer/)
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({
      outcomes: { succeeded: 15, failed: 2, expired: 1 },
      api: { dispatches: 17, duplicate_dispatches: 0, polls_after_terminal: 0 }
    })
    const rows = lines
      .slice(1)
      .map((l) => JSON.parse(l) as { status: string; action: string; error_code: string | null })
    expect(rows).toHaveLength(18)
    expect(new Set(rows.map((r) => r.action))).toEqual(new Set(["create_tweet", "send_dm", "like"]))
    expect(
      rows
        .filter((r) => r.status === "failed")
        .map((r) => r.error_code)
        .sort()
    ).toEqual(["dm_not_permitted", "x_content_too_long"])
    expect(stderr).toContain("enqueued 18 writes")
    // Run again on the same file: a new batch, the old rows kept.
    const again = await example("demo", [], { XQUIK_DB: db })
    expect(again.stdout.trim().split("\n").slice(1)).toHaveLength(18)
  })

  it("worker-layer embeds the worker in an app", async () => {
    const { stdout } = await example("worker-layer")
    expect(stdout.match(/worker: \d+ posted as \d+/g)).toHaveLength(3)
    expect(stdout).toContain("all 3 settled")
  })

  it("pipeline enqueues a file and drains it; a second run enqueues nothing new", async () => {
    const db = join(dir, "pipeline.db")
    const first = JSON.parse((await example("pipeline", ["examples/writes.jsonl", db])).stdout) as {
      processed: { sent: number }
      outcomes: { succeeded: number }
    }
    expect(first.processed.sent).toBe(6)
    expect(first.outcomes.succeeded).toBe(6)
    const second = JSON.parse((await example("pipeline", ["examples/writes.jsonl", db])).stdout) as {
      processed: { sent: number }
      outcomes: { succeeded: number }
    }
    expect(second.processed.sent).toBe(0)
    expect(second.outcomes.succeeded).toBe(6)
  })
})

import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { describe, expect, it } from "@effect/vitest"

const run = promisify(execFile)

/** Runs an example as its own process, as a user would. */
const example = (name: string) =>
  run(process.execPath, ["--import", "tsx", `examples/${name}.ts`], {
    cwd: new URL("..", import.meta.url).pathname,
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: "1" }
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

  it("the demo polls a tweet to its outcome", async () => {
    const { stdout } = await example("demo")
    expect(stdout).toContain('"outcome":"Succeeded"')
  })
})

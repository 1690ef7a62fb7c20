import { type ChildProcess, spawn } from "node:child_process"
import * as Effect from "effect/Effect"

const root = new URL("..", import.meta.url).pathname

/** A TypeScript entry point of this repository run as its own Node process. */
export interface Child {
  readonly process: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>
}

export const spawnTs = (entry: string, env: Record<string, string>, args: ReadonlyArray<string> = []): Child => {
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString("utf8")
  })
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString("utf8")
  })
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? signal ?? -1))
  })
  return { process: child, stdout: () => stdout, stderr: () => stderr, exited }
}

/** Waits for a child to exit, failing after `ms`. */
export const exitOf = (child: Child, ms: number) =>
  Effect.promise(() =>
    Promise.race([
      child.exited,
      new Promise<string>((resolve) =>
        setTimeout(() => {
          child.process.kill("SIGKILL")
          resolve("timeout")
        }, ms)
      )
    ])
  )

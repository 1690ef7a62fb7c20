// Bundles the CLI (dist/bin/xquik-write-queue.js) so it starts fast: one file to load instead of
// hundreds of ESM modules. Commands stay in their own chunks and load on demand, so `status` never
// loads a database driver. The library itself is the tsc build in dist/.
import { build } from "esbuild"

await build({
  entryPoints: { "xquik-write-queue": "src/cli/main.ts" },
  outdir: "dist/bin",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  // Native or optional drivers are loaded from node_modules at run time.
  external: ["better-sqlite3", "pg-native"],
  // Bundled CommonJS dependencies (undici, pg) call require(); give them one.
  banner: { js: 'import { createRequire as __xqCreateRequire } from "node:module"; const require = __xqCreateRequire(import.meta.url);' },
  logLevel: "warning"
})

#!/usr/bin/env node
/**
 * Runs after `next build` (package.json's `build`): records the sha256 of every inline
 * <script> of each exported page in out/csp-hashes.json, so the backend's
 * Content-Security-Policy can allow exactly those scripts (backend/core/csp.py) instead of
 * 'unsafe-inline'.
 *
 *   node scripts/csp-hashes.mjs [outDir]          write <outDir>/csp-hashes.json (default out/)
 *   node scripts/csp-hashes.mjs --check [outDir]  exit 1 when the file is missing or stale
 *
 * Output: {"version": 1, "algorithm": "sha256", "pages": {"chat.html": ["sha256-…", …], …}}
 * with page paths relative to outDir. A hash covers the script's text exactly as the
 * browser hashes it: the raw characters between the tags, UTF-8 encoded, after the HTML
 * parser's newline normalisation (CRLF and CR become LF).
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const HASHES_FILE = "csp-hashes.json";

// <script …>body</script>; Next.js escapes "</script" inside its payloads, so the first
// closing tag ends the element, as it does for the browser.
const SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
const HAS_SRC = /(?:^|\s)src\s*=/i;

/** The CSP source expressions ('sha256-…' without quotes) of the inline scripts in `html`. */
export function inlineScriptHashes(html) {
  const hashes = [];
  for (const [, attributes, body] of html.matchAll(SCRIPT)) {
    if (HAS_SRC.test(attributes)) continue; // an external script: 'self' covers it
    const text = body.replace(/\r\n?/g, "\n");
    const digest = createHash("sha256").update(text, "utf8").digest("base64");
    const source = `sha256-${digest}`;
    if (!hashes.includes(source)) hashes.push(source);
  }
  return hashes;
}

function* htmlFiles(dir, root = dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* htmlFiles(full, root);
    else if (entry.isFile() && entry.name.endsWith(".html")) {
      yield path.relative(root, full).split(path.sep).join("/");
    }
  }
}

/** The hashes document for the export in `outDir`. */
export function collect(outDir) {
  const pages = {};
  for (const page of htmlFiles(outDir)) {
    pages[page] = inlineScriptHashes(readFileSync(path.join(outDir, page), "utf8"));
  }
  return { version: 1, algorithm: "sha256", pages };
}

function main(argv) {
  const check = argv.includes("--check");
  const dirArg = argv.find((arg) => !arg.startsWith("--"));
  const here = path.dirname(fileURLToPath(import.meta.url));
  const outDir = path.resolve(dirArg ?? path.join(here, "..", "out"));
  if (!existsSync(path.join(outDir, "index.html"))) {
    console.error(`csp-hashes: no export at ${outDir} (run next build first)`);
    return 1;
  }
  const document = collect(outDir);
  const target = path.join(outDir, HASHES_FILE);
  const text = `${JSON.stringify(document, null, 2)}\n`;
  if (check) {
    const current = existsSync(target) ? readFileSync(target, "utf8") : "";
    if (current !== text) {
      console.error(`csp-hashes: ${target} is missing or stale; run node scripts/csp-hashes.mjs`);
      return 1;
    }
    return 0;
  }
  writeFileSync(target, text);
  const count = Object.values(document.pages).reduce((sum, hashes) => sum + hashes.length, 0);
  console.log(
    `csp-hashes: ${count} inline script hashes for ${Object.keys(document.pages).length} pages -> ${path.relative(process.cwd(), target)}`,
  );
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}

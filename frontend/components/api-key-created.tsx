"use client";
/**
 * A new API key, shown exactly once: the backend stores only its hash, so once this panel
 * is closed the key cannot be shown again (the list shows its prefix only).
 */
import { useEffect, useRef, useState } from "react";
import type { ApiKeyCreated as Created } from "@/lib/api/schemas";
import "@/styles/account.css";

type CopyState = "idle" | "copied" | "manual";

async function copyText(text: string, input: HTMLInputElement | null): Promise<CopyState> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return "copied";
    }
  } catch {
    /* not allowed here (e.g. not a secure context): select it for the person instead */
  }
  input?.focus();
  input?.select();
  return "manual";
}

export function ApiKeyCreated({ created, onDone }: { created: Created; onDone: () => void }) {
  const [copy, setCopy] = useState<CopyState>("idle");
  const inputRef = useRef<HTMLInputElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    headingRef.current?.focus();
  }, [created.id]);

  return (
    <section className="key-created" aria-labelledby="key-created-heading" data-testid="api-key-created">
      <h3 id="key-created-heading" ref={headingRef} tabIndex={-1}>
        Your new API key “{created.name}”
      </h3>
      <p className="key-warning" data-testid="api-key-warning">
        <strong>Copy it now: you will not see it again.</strong> Only a fingerprint of the key is stored, so
        nobody can show it to you later. If you lose it, revoke it and create another.
      </p>
      <div className="key-row">
        <label htmlFor="new-api-key" className="sr-only">
          API key
        </label>
        <input
          id="new-api-key"
          ref={inputRef}
          className="key-value"
          readOnly
          value={created.key}
          spellCheck={false}
          autoComplete="off"
          onFocus={(event) => event.currentTarget.select()}
          data-testid="api-key-secret"
        />
        <button type="button" onClick={async () => setCopy(await copyText(created.key, inputRef.current))}>
          {copy === "copied" ? "Copied" : "Copy key"}
        </button>
      </div>
      <p role="status" className="small">
        {copy === "copied"
          ? "Copied to the clipboard."
          : copy === "manual"
            ? "The key is selected: press Ctrl+C (⌘C on a Mac) to copy it."
            : ""}
      </p>
      <p className="small muted">
        Send it as <code>Authorization: Bearer {created.prefix}…</code> with your API requests.
      </p>
      <button type="button" className="secondary" onClick={onDone}>
        Done, I have saved it
      </button>
    </section>
  );
}

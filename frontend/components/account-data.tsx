"use client";
/** Your data: download everything stored about the account (JSON), or delete the account. */
import { useEffect, useRef, useState, type FormEvent } from "react";
import { api } from "@/lib/api";
import { useFormSubmit } from "@/hooks/use-form-submit";
import { ErrorBanner } from "@/components/error-banner";
import { FormErrorsView } from "@/components/form-errors-view";
import { FormField } from "@/components/form-field";
import "@/styles/account.css";

function download(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.rel = "noopener";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function ExportData() {
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function exportData() {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const file = await api.exportAccount();
      download(file.blob, file.filename);
      setDone(file.filename);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="data-block">
      <h3>Export</h3>
      <p className="small muted">
        Everything stored about your account (chats, runs, channels, votes, keys, credits) as one JSON file.
      </p>
      <button type="button" className="secondary" onClick={() => void exportData()} disabled={busy}>
        {busy ? "Preparing…" : "Download my data (JSON)"}
      </button>
      <p role="status" className="small">
        {done ? `Downloaded ${done}.` : ""}
      </p>
      {error ? <ErrorBanner error={error} onDismiss={() => setError(null)} /> : null}
    </div>
  );
}

function DeleteAccount({ email, onDeleted }: { email: string; onDeleted: () => Promise<void> | void }) {
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState("");
  const { errors, busy, submit, inputRef } = useFormSubmit({ password: "Password" });
  const passwordRef = useRef<HTMLInputElement | null>(null);
  const openerRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (open) passwordRef.current?.focus();
  }, [open]);

  async function confirm(event: FormEvent) {
    event.preventDefault();
    await submit(async () => {
      await api.deleteAccount(password);
      await onDeleted();
    });
  }

  function cancel() {
    setOpen(false);
    setPassword("");
    openerRef.current?.focus();
  }

  return (
    <div className="data-block danger-zone">
      <h3>Delete account</h3>
      <p className="small muted">
        Deletes the account and everything stored under it: chats, runs, channels, votes, API keys and unused
        credits. This cannot be undone. A Pro subscription must be cancelled first.
      </p>
      {!open ? (
        <button type="button" className="danger" ref={openerRef} onClick={() => setOpen(true)}>
          Delete account…
        </button>
      ) : (
        <form className="stack-form" onSubmit={confirm} noValidate aria-labelledby="delete-heading" data-testid="delete-account-form">
          <p id="delete-heading" className="notice">
            Delete <strong>{email}</strong> and all of its data for good? Enter your password to confirm.
          </p>
          <FormField
            id="delete-password"
            name="password"
            label="Password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            error={errors.fields.password}
            inputRef={(element) => {
              passwordRef.current = element;
              inputRef("password")(element);
            }}
            required
          />
          <FormErrorsView errors={errors} />
          <div className="button-row">
            <button type="submit" className="danger" disabled={busy || !password}>
              {busy ? "Deleting…" : "Delete my account"}
            </button>
            <button type="button" className="ghost" onClick={cancel} disabled={busy}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

export function AccountData({ email, onDeleted }: { email: string; onDeleted: () => Promise<void> | void }) {
  return (
    <section className="card" aria-labelledby="data-heading" data-testid="account-data">
      <h2 id="data-heading">Your data</h2>
      <ExportData />
      <DeleteAccount email={email} onDeleted={onDeleted} />
    </section>
  );
}

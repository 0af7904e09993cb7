"use client";
/** The account's API keys: create (the key is shown once), list, revoke. */
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api } from "@/lib/api";
import type { ApiKey, ApiKeyCreated as Created } from "@/lib/api/schemas";
import { formatDate } from "@/lib/format";
import { useFormSubmit } from "@/hooks/use-form-submit";
import { ApiKeyCreated } from "@/components/api-key-created";
import { ErrorBanner } from "@/components/error-banner";
import { FormErrorsView } from "@/components/form-errors-view";
import { FormField } from "@/components/form-field";
import "@/styles/account.css";

function KeyItem({ apiKey, onRevoked }: { apiKey: ApiKey; onRevoked: (key: ApiKey) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const revoked = apiKey.revoked_at !== null;

  async function revoke() {
    setBusy(true);
    setError(null);
    try {
      onRevoked(await api.revokeApiKey(apiKey.id));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  return (
    <li
      className={`key-item${revoked ? " revoked" : ""}`}
      data-testid="api-key-item"
      data-key-id={apiKey.id}
      data-revoked={revoked ? "true" : "false"}
    >
      <div className="key-info">
        <span className="key-name">{apiKey.name}</span>
        <code className="key-prefix">{apiKey.prefix}…</code>
        <span className="small muted">
          Created {formatDate(apiKey.created_at)}
          {revoked ? ` · revoked ${formatDate(apiKey.revoked_at)}` : ""}
        </span>
      </div>
      {!revoked &&
        (confirming ? (
          <span className="key-actions" role="group" aria-label={`Revoke ${apiKey.name}?`}>
            <button type="button" className="danger small-button" onClick={revoke} disabled={busy}>
              Revoke now
            </button>
            <button type="button" className="ghost small-button" onClick={() => setConfirming(false)} autoFocus>
              Keep
            </button>
          </span>
        ) : (
          <button
            type="button"
            className="ghost small-button"
            onClick={() => setConfirming(true)}
            aria-label={`Revoke ${apiKey.name}`}
          >
            Revoke
          </button>
        ))}
      {revoked && <span className="badge muted-badge">Revoked</span>}
      {error ? <ErrorBanner error={error} onDismiss={() => setError(null)} /> : null}
    </li>
  );
}

export function ApiKeys() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [name, setName] = useState("");
  const [created, setCreated] = useState<Created | null>(null);
  const { errors, busy, submit, inputRef } = useFormSubmit({ name: "Key name" });

  const load = useCallback(async () => {
    try {
      setKeys(await api.apiKeys());
      setLoadError(null);
    } catch (err) {
      setLoadError(err);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function create(event: FormEvent) {
    event.preventDefault();
    await submit(async () => {
      const made = await api.createApiKey(name.trim());
      setCreated(made);
      setName("");
      // The list holds what the server keeps: no secret.
      const listed: ApiKey = {
        id: made.id,
        name: made.name,
        prefix: made.prefix,
        created_at: made.created_at,
        revoked_at: made.revoked_at,
      };
      setKeys((list) => [listed, ...(list ?? []).filter((k) => k.id !== made.id)]);
    });
  }

  const onRevoked = useCallback((revoked: ApiKey) => {
    setKeys((list) => (list ?? []).map((k) => (k.id === revoked.id ? revoked : k)));
    setCreated((shown) => (shown?.id === revoked.id ? null : shown));
  }, []);

  const active = keys?.filter((k) => k.revoked_at === null) ?? [];
  const revoked = keys?.filter((k) => k.revoked_at !== null) ?? [];

  return (
    <section className="card" aria-labelledby="keys-heading" data-testid="api-keys">
      <h2 id="keys-heading">API keys</h2>
      <p className="muted small">
        Use the API from your own scripts with your account&apos;s plan and credits. Each key has its own
        daily budget within your plan.
      </p>
      <form className="inline-form key-form" onSubmit={create} noValidate>
        <FormField
          id="api-key-name"
          name="name"
          label="Key name"
          placeholder="e.g. laptop script"
          maxLength={100}
          value={name}
          onChange={(event) => setName(event.target.value)}
          error={errors.fields.name}
          inputRef={inputRef("name")}
          required
        />
        <button type="submit" disabled={busy || !name.trim()}>
          {busy ? "Creating…" : "Create key"}
        </button>
      </form>
      <FormErrorsView errors={errors} />
      {created && <ApiKeyCreated created={created} onDone={() => setCreated(null)} />}
      {loadError ? <ErrorBanner error={loadError} onRetry={() => void load()} /> : null}
      {keys === null && !loadError && (
        <p className="muted small" role="status">
          Loading keys…
        </p>
      )}
      {keys !== null && keys.length === 0 && <p className="muted small">No API keys yet.</p>}
      {active.length > 0 && (
        <ul className="key-list" aria-label="Active API keys">
          {active.map((k) => (
            <KeyItem key={k.id} apiKey={k} onRevoked={onRevoked} />
          ))}
        </ul>
      )}
      {revoked.length > 0 && (
        <details className="revoked-keys">
          <summary>Revoked keys ({revoked.length})</summary>
          <ul className="key-list" aria-label="Revoked API keys">
            {revoked.map((k) => (
              <KeyItem key={k.id} apiKey={k} onRevoked={onRevoked} />
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

"use client";
/**
 * Signed out: create an account, log in, or ask for a password reset link. Signing in uses
 * Django's session cookie; the anonymous visitor's history comes along (the backend
 * attaches the client cookie sent with the request).
 */
import { useState, type FormEvent } from "react";
import { api } from "@/lib/api";
import type { Account } from "@/lib/api/schemas";
import { useFormSubmit } from "@/hooks/use-form-submit";
import { FormErrorsView } from "@/components/form-errors-view";
import { FormField } from "@/components/form-field";

const CREDENTIAL_LABELS = { email: "Email", password: "Password" };

export const PASSWORD_HINT = "At least 8 characters; not a common password and not only numbers.";

export function RegisterForm({ onSignedIn }: { onSignedIn: (account: Account) => Promise<void> | void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { errors, busy, submit, bind } = useFormSubmit(CREDENTIAL_LABELS);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    await submit(async () => {
      const { account } = await api.register({ email: email.trim(), password });
      await onSignedIn(account);
    });
  }

  return (
    <form
      className="card stack-form"
      onSubmit={onSubmit}
      noValidate
      aria-labelledby="register-heading"
      data-testid="register-form"
    >
      <h2 id="register-heading">Create an account</h2>
      <p className="muted small">
        Free accounts get a larger daily AI budget than visitors, and your chats so far come with you.
      </p>
      <FormField
        id="register-email"
        label="Email"
        type="email"
        autoComplete="email"
        {...bind("email", email, setEmail)}
        required
      />
      <FormField
        id="register-password"
        label="Password"
        type="password"
        autoComplete="new-password"
        hint={PASSWORD_HINT}
        {...bind("password", password, setPassword)}
        required
      />
      <FormErrorsView errors={errors} />
      <button type="submit" disabled={busy}>
        {busy ? "Creating account…" : "Create account"}
      </button>
    </form>
  );
}

export function LoginForm({ onSignedIn }: { onSignedIn: (account: Account) => Promise<void> | void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [forgot, setForgot] = useState(false);
  const { errors, busy, submit, bind } = useFormSubmit(CREDENTIAL_LABELS);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    await submit(async () => {
      const { account } = await api.login({ email: email.trim(), password });
      await onSignedIn(account);
    });
  }

  return (
    <div className="card">
      <form className="stack-form" onSubmit={onSubmit} noValidate aria-labelledby="login-heading" data-testid="login-form">
        <h2 id="login-heading">Log in</h2>
        <FormField
          id="login-email"
          label="Email"
          type="email"
          autoComplete="username"
          {...bind("email", email, setEmail)}
          required
        />
        <FormField
          id="login-password"
          label="Password"
          type="password"
          autoComplete="current-password"
          {...bind("password", password, setPassword)}
          required
        />
        <FormErrorsView errors={errors} />
        <button type="submit" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
      <button
        type="button"
        className="link-button"
        aria-expanded={forgot}
        aria-controls="forgot-password"
        onClick={() => setForgot((open) => !open)}
      >
        Forgot your password?
      </button>
      {forgot && <PasswordResetRequest initialEmail={email} />}
    </div>
  );
}

/** POST /api/accounts/password-reset/: the same answer whether or not the address is known. */
export function PasswordResetRequest({ initialEmail = "" }: { initialEmail?: string }) {
  const [email, setEmail] = useState(initialEmail);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const { errors, busy, submit, bind } = useFormSubmit({ email: "Email" });

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const address = email.trim();
    const ok = await submit(() => api.requestPasswordReset(address).then(() => undefined));
    if (ok) setSentTo(address);
  }

  return (
    <form
      id="forgot-password"
      className="stack-form forgot"
      onSubmit={onSubmit}
      noValidate
      aria-labelledby="forgot-heading"
      data-testid="password-reset-form"
    >
      <h3 id="forgot-heading">Reset your password</h3>
      <FormField
        id="forgot-email"
        label="Email for the reset link"
        type="email"
        autoComplete="email"
        {...bind("email", email, setEmail)}
        required
      />
      <FormErrorsView errors={errors} />
      <button type="submit" className="secondary" disabled={busy}>
        {busy ? "Sending…" : "Send reset link"}
      </button>
      <p role="status" className="small">
        {sentTo
          ? `If an account uses ${sentTo}, a link to choose a new password is on its way. It works once and expires.`
          : ""}
      </p>
    </form>
  );
}

"use client";
/** /account/reset-password?uid=&token= — choose a new password from the emailed link. */
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { api } from "@/lib/api";
import { useApp } from "@/hooks/use-app";
import { useFormSubmit } from "@/hooks/use-form-submit";
import { PASSWORD_HINT } from "@/components/auth-forms";
import { FormErrorsView } from "@/components/form-errors-view";
import { FormField } from "@/components/form-field";

const LABELS = { password: "New password", confirm: "Repeat the new password" };

export function ResetPasswordScreen() {
  const search = useSearchParams();
  const uid = search.get("uid") ?? "";
  const token = search.get("token") ?? "";
  const { refreshIdentity } = useApp();
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [done, setDone] = useState(false);
  const { errors, busy, submit, fail, bind } = useFormSubmit(LABELS);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (password !== confirm) {
      fail({
        fields: { confirm: `${LABELS.confirm}: The two passwords are not the same.` },
        general: null,
        banner: null,
        otherFields: [],
      });
      return;
    }
    const ok = await submit(() => api.confirmPasswordReset({ uid, token, password }).then(() => undefined));
    if (ok) {
      setDone(true);
      // A reset ends every login, this browser's too.
      await refreshIdentity().catch(() => {});
    }
  }

  if (!uid || !token) {
    return (
      <div className="page prose" data-testid="reset-password" data-state="missing">
        <h1>Choose a new password</h1>
        <p role="alert" className="notice">
          This link is incomplete: open the whole link from the email, or ask for a new one on the{" "}
          <Link href="/account">account page</Link> (Forgot your password?).
        </p>
      </div>
    );
  }

  if (done) {
    return (
      <div className="page prose" data-testid="reset-password" data-state="done">
        <h1>Choose a new password</h1>
        <p role="status">
          Your password is changed and every previous login has ended. <Link href="/account">Log in</Link> with the
          new password.
        </p>
      </div>
    );
  }

  const linkInvalid = errors.otherFields.includes("token") || errors.otherFields.includes("uid");
  return (
    <div className="page prose" data-testid="reset-password" data-state="form">
      <h1>Choose a new password</h1>
      <form className="card stack-form" onSubmit={onSubmit} noValidate data-testid="reset-password-form">
        <FormField
          id="reset-password"
          label={LABELS.password}
          type="password"
          autoComplete="new-password"
          hint={PASSWORD_HINT}
          {...bind("password", password, setPassword)}
          required
        />
        <FormField
          id="reset-confirm"
          label={LABELS.confirm}
          type="password"
          autoComplete="new-password"
          {...bind("confirm", confirm, setConfirm)}
          required
        />
        <FormErrorsView errors={errors} />
        {linkInvalid && (
          <p className="small">
            Ask for a new link on the <Link href="/account">account page</Link> (Forgot your password?).
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : "Set new password"}
        </button>
      </form>
    </div>
  );
}

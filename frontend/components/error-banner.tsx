"use client";
/** An error as the person should read it: what happened and what to do (see lib/errors.ts). */
import Link from "next/link";
import { useEffect, useState } from "react";
import { describeError } from "@/lib/errors";
import { useApp } from "@/hooks/use-app";
import "@/styles/error-banner.css";

export function ErrorBanner({
  error,
  onDismiss,
  onRetry,
}: {
  error: unknown;
  onDismiss?: () => void;
  onRetry?: () => void;
}) {
  const { config, me, account } = useApp();
  const view = describeError(error, {
    billingEnabled: config?.billing_enabled,
    // Unknown until the identity is settled; then a visitor is offered an account first.
    signedIn: me === null ? undefined : account !== null,
  });
  const [left, setLeft] = useState(view.retryAfterS ?? 0);

  useEffect(() => {
    setLeft(view.retryAfterS ?? 0);
    if (!view.retryAfterS) return;
    const timer = setInterval(() => setLeft((n) => Math.max(0, n - 1)), 1000);
    return () => clearInterval(timer);
  }, [error, view.retryAfterS]);

  return (
    <div role="alert" data-testid="error-banner" data-code={view.code} className="error-banner">
      <p className="error-title">{view.title}</p>
      <p>{view.message}</p>
      {view.action && (
        <p className="error-action">
          {view.retryAfterS ? (left > 0 ? `Try again in ${left} s.` : "You can try again now.") : view.action}
        </p>
      )}
      <div className="error-buttons">
        {view.link && (
          <Link href={view.link.href} className="button">
            {view.link.label}
          </Link>
        )}
        {onRetry && (
          <button type="button" onClick={onRetry} disabled={left > 0}>
            Try again
          </button>
        )}
        {onDismiss && (
          <button type="button" className="ghost" onClick={onDismiss}>
            Dismiss
          </button>
        )}
      </div>
    </div>
  );
}

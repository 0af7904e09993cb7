import type { Metadata } from "next";

export const metadata: Metadata = { title: "Limits · InsightStream" };

/** Placeholder: checkout and plan upgrades land here once billing exists. */
export default function AccountPage() {
  return (
    <div className="page prose" data-testid="account-page">
      <h1>Raise your limits</h1>
      <p>
        Visitors share a small daily AI budget. For a larger one, use an API key: ask the
        operator of this service for a key (<code>insightstream manage create_api_key --plan paid</code>)
        and send it as <code>Authorization: Bearer isk_…</code> with your API requests.
      </p>
      <p>Paid plans with checkout will be offered here once billing is available.</p>
    </div>
  );
}

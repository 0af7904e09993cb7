import type { Metadata } from "next";
import Link from "next/link";

export const metadata: Metadata = { title: "Checkout cancelled · InsightStream" };

/** Where Stripe Checkout returns when the buyer leaves without paying. */
export default function BillingCancelPage() {
  return (
    <div className="page prose" data-testid="checkout-cancelled">
      <h1>Checkout cancelled</h1>
      <p role="status">You left the checkout before paying, so nothing was charged.</p>
      <p>
        <Link href="/account">Back to your account</Link> to choose again, or{" "}
        <Link href="/chat">go back to the chat</Link>.
      </p>
    </div>
  );
}

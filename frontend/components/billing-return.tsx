"use client";
/** Back from Stripe's Customer Portal: the account page shows the plan as it is now. */
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect } from "react";

export function BillingReturn() {
  const router = useRouter();
  useEffect(() => {
    router.replace("/account");
  }, [router]);
  return (
    <div className="page prose">
      <h1>Billing</h1>
      <p role="status">
        Taking you to <Link href="/account">your account</Link>…
      </p>
    </div>
  );
}

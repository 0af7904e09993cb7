import type { Metadata } from "next";
import { BillingReturn } from "@/components/billing-return";

export const metadata: Metadata = { title: "Billing · InsightStream" };

/** The Customer Portal's return address (STRIPE_PORTAL_RETURN_URL defaults here). */
export default function BillingPage() {
  return <BillingReturn />;
}

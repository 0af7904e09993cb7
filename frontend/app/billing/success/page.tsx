import type { Metadata } from "next";
import { Suspense } from "react";
import { BillingSuccessScreen } from "@/components/billing-success-screen";

export const metadata: Metadata = { title: "Checkout · InsightStream" };

export default function BillingSuccessPage() {
  return (
    <Suspense fallback={null}>
      <BillingSuccessScreen />
    </Suspense>
  );
}

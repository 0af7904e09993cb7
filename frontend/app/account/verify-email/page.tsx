import type { Metadata } from "next";
import { Suspense } from "react";
import { VerifyEmailScreen } from "@/components/verify-email-screen";

export const metadata: Metadata = { title: "Confirm your email · InsightStream" };

export default function VerifyEmailPage() {
  return (
    <Suspense fallback={null}>
      <VerifyEmailScreen />
    </Suspense>
  );
}

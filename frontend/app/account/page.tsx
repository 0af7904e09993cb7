import type { Metadata } from "next";
import { AccountScreen } from "@/components/account-screen";

export const metadata: Metadata = { title: "Account · InsightStream" };

export default function AccountPage() {
  return <AccountScreen />;
}

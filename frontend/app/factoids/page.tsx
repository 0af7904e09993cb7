import type { Metadata } from "next";
import { FactoidsScreen } from "@/components/factoids-screen";

export const metadata: Metadata = { title: "Factoids · InsightStream" };

export default function FactoidsPage() {
  return <FactoidsScreen />;
}

import type { Metadata } from "next";
import { SearchScreen } from "@/components/search-screen";

export const metadata: Metadata = { title: "Search · InsightStream" };

export default function SearchPage() {
  return <SearchScreen />;
}

import type { Metadata } from "next";
import { ThumbnailsScreen } from "@/components/thumbnails-screen";

export const metadata: Metadata = { title: "Thumbnails · InsightStream" };

export default function ThumbnailsPage() {
  return <ThumbnailsScreen />;
}

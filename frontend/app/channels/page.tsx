import type { Metadata } from "next";
import { Suspense } from "react";
import { ChannelsScreen } from "@/components/channels-screen";

export const metadata: Metadata = { title: "Channels · InsightStream" };

export default function ChannelsPage() {
  return (
    <Suspense fallback={null}>
      <ChannelsScreen />
    </Suspense>
  );
}

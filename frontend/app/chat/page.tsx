import type { Metadata } from "next";
import { Suspense } from "react";
import { ChatScreen } from "@/components/chat-screen";

export const metadata: Metadata = { title: "Chat · InsightStream" };

export default function ChatPage() {
  return (
    <Suspense fallback={null}>
      <ChatScreen />
    </Suspense>
  );
}

import { Suspense } from "react";
import { ChatScreen } from "@/components/chat-screen";

export default function HomePage() {
  return (
    <Suspense fallback={null}>
      <ChatScreen />
    </Suspense>
  );
}

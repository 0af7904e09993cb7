/** "‹ 2/3 ›": the versions of a message (edits of a question, regenerated answers). */
import type { ChatMetadata } from "@/lib/chat-types";

export function VersionSwitcher({
  siblings,
  onSwitch,
  disabled,
}: {
  siblings: ChatMetadata["siblings"];
  onSwitch: (messageId: string) => void;
  disabled?: boolean;
}) {
  if (!siblings || siblings.count < 2) return null;
  const { index, count, ids } = siblings;
  return (
    <nav className="versions small" aria-label="Versions" data-testid="versions">
      <button
        type="button"
        className="ghost"
        aria-label="Previous version"
        disabled={disabled || index <= 1}
        onClick={() => onSwitch(ids[index - 2])}
      >
        ‹
      </button>
      <span>
        {index}/{count}
      </span>
      <button
        type="button"
        className="ghost"
        aria-label="Next version"
        disabled={disabled || index >= count}
        onClick={() => onSwitch(ids[index])}
      >
        ›
      </button>
    </nav>
  );
}

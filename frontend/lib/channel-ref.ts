/** What a person types to add a channel (a handle, a channel id or a YouTube URL) as the
 * body POST /api/channels/ takes; null when it is neither. */
export type ChannelRef = { handle: string } | { channel_id: string };

const CHANNEL_ID = /^UC[A-Za-z0-9_-]{10,40}$/;
const HANDLE = /^@?[A-Za-z0-9._-]{3,100}$/;

export function parseChannelRef(input: string): ChannelRef | null {
  let text = input.trim();
  if (!text) return null;
  if (/^(https?:\/\/)?([a-z0-9-]+\.)*youtube\.com\//i.test(text)) {
    const url = new URL(/^https?:/i.test(text) ? text : `https://${text}`);
    const segments = url.pathname.split("/").filter(Boolean);
    if (segments[0] === "channel" && segments[1]) text = segments[1];
    else if (segments[0]?.startsWith("@")) text = decodeURIComponent(segments[0]);
    else if ((segments[0] === "c" || segments[0] === "user") && segments[1]) text = segments[1];
    else return null;
  }
  if (CHANNEL_ID.test(text)) return { channel_id: text };
  if (HANDLE.test(text)) return { handle: text.startsWith("@") ? text : `@${text}` };
  return null;
}

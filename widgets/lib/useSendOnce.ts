import { useRef } from "preact/hooks";

/**
 * An encrypted event sent by an attempt whose API call then failed is reused by the retry while
 * its content is unchanged, so the room does not fill with copies. Cleared once the call succeeds,
 * so the next identical event (a second "ok" answer) is sent anew.
 */
export function useSendOnce() {
  const sent = useRef<{ key: string; eventId: string } | null>(null);
  return {
    async send(content: Record<string, unknown>, send: () => Promise<string>): Promise<string> {
      const key = JSON.stringify(content);
      if (sent.current?.key === key) return sent.current.eventId;
      const eventId = await send();
      sent.current = { key, eventId };
      return eventId;
    },
    done(): void {
      sent.current = null;
    },
  };
}

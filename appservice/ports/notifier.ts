/**
 * The port through which domain services tell a clinician something outside a workflow room:
 * the on-call bot's encrypted direct message with that user. Text may be shown on a lock screen,
 * so callers keep PHI out of it.
 */
export interface Notifier {
  /** `key` names the message; the same key is sent once even if the call is retried. */
  tellUser(userId: string, text: string, key?: string): Promise<void>;
}

/**
 * The port through which domain services tell a clinician something outside a workflow room:
 * the on-call bot's encrypted direct message with that user. Text may be shown on a lock screen,
 * so callers keep PHI out of it.
 */
export interface Notifier {
  tellUser(userId: string, text: string): Promise<void>;
}

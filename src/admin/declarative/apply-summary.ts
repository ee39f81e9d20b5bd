/** What one apply did, for the CLI's answer and the start-up log. */
export interface ApplySummary {
  created: string[];
  updated: string[];
  removed: string[];
  unchanged: number;
  /** What the caller must be told (and the audit log records): a client newly given lock_admin. */
  warnings: string[];
}

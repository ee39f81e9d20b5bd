/** A time as the account pages show it: minutes, in UTC, said so. */
export const formatTime = (at: Date | undefined): string | undefined =>
  at ? `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC` : undefined;

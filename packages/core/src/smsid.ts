import { v7 } from 'uuid';

/**
 * A new message id: UUID v7, so ids sort by creation time (good index locality in the DB and
 * readable ordering in logs) while staying globally unique across API instances. 36 chars.
 */
export function newSmsId(): string {
  return v7();
}

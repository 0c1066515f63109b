// Owns the write-behind queue of one transaction: which inserts wait, in their order, and which unit
// of work queued each (so a failure is reported there). Running them is the dialect's business.

export interface QueuedInsert {
  sql: string;
  args: readonly unknown[];
  owner: number;
}

export class InsertQueue {
  /** While set, inserts queue under this owner; undefined: they run at once. */
  private owner: number | undefined;
  private items: QueuedInsert[] = [];

  /** From now on, inserts queue under `owner`. */
  start(owner: number): void {
    this.owner = owner;
  }

  /** Queues an insert if queuing is on; false when it is off (then the caller runs it). */
  push(sql: string, args: readonly unknown[]): boolean {
    if (this.owner === undefined) return false;
    this.items.push({ sql, args, owner: this.owner });
    return true;
  }

  get pending(): boolean {
    return this.items.length > 0;
  }

  /** Hands over what is queued, in order, and empties the queue. */
  take(): QueuedInsert[] {
    const items = this.items;
    this.items = [];
    return items;
  }

  /** Drops what is queued and stops queuing: the transaction is rolling back. */
  discard(): void {
    this.owner = undefined;
    this.items = [];
  }
}

// Owns the seam through which the lower floors (database, composite, batch, connectors) report what
// they measured to their app's metrics and readiness, without importing either. An app attaches its
// observer to its database handle; code that holds the handle finds the observer by it. Without one
// (tools, a bare knex) every report goes nowhere.
import type { Knex } from 'knex';

export type TransactionOutcome = 'committed' | 'rolled_back';

export interface Observer {
  /** One call of inTransaction: its whole time, how many times it was tried again, and how it ended. */
  transaction(seconds: number, retries: number, outcome: TransactionOutcome): void;
  /** A write failed for lack of storage (disk full, I/O error): the driver's code. */
  storageFault(code: string): void;
  /** A composite ran: how many requests and selections it held. */
  composite(requests: number, selections: number): void;
  /** A batch ran: how many subrequests it held. */
  batch(size: number): void;
  /** One connector step ran: which kind of connector, its time, and the failure's kind if it failed. */
  connectorStep(connector: 'simple' | 'composite', seconds: number, failure: string | undefined): void;
}

const NOBODY: Observer = {
  transaction: () => undefined,
  storageFault: () => undefined,
  composite: () => undefined,
  batch: () => undefined,
  connectorStep: () => undefined,
};

const observers = new WeakMap<Knex, Observer>();

export function attachObserver(knex: Knex, observer: Observer): void {
  observers.set(knex, observer);
}

export function observerOf(knex: Knex): Observer {
  return observers.get(knex) ?? NOBODY;
}

/** One piece of the local stack. Every method is idempotent. */
export interface StackService {
  readonly name: string;
  /** Where clients reach it, for `status`. */
  readonly url: string;
  /** Installs what is missing where the machine allows it; otherwise throws MissingPieceError. */
  install(): Promise<void>;
  /** Starts it (if not already healthy) and waits on its health check with a timeout. */
  start(): Promise<void>;
  /** Stops it and waits until it is gone. Data is kept. */
  stop(): Promise<void>;
  /** A real health check (a query or a ping, not just a pid). */
  healthy(): Promise<boolean>;
  /** Deletes its data. Called with the service stopped. */
  reset(): Promise<void>;
}

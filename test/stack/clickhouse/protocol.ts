// Shared by the server (Bun) and the stack controller (Node or Bun).

/** The query that keeps the engine, and so its HTTP listener, running; its text is how a stop finds it. */
export const keepAliveQuery =
  "SELECT sleepEachRow(1) FROM system.numbers SETTINGS max_block_size=1 FORMAT Null";

/** Cancels the keep-alive query; the engine call then returns and the server process exits. */
export const stopStatement = "KILL QUERY WHERE query LIKE '%sleepEachRow%' AND query NOT LIKE '%KILL%' SYNC";

/** A plain ClickHouse identifier, optionally qualified once (`db.table`); no quoting, no spaces. */
const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]{0,127}(\.[A-Za-z_][A-Za-z0-9_]{0,127})?$/;

export function isIdentifier(name: string): boolean {
  return identifierPattern.test(name);
}

/**
 * Throws unless `name` is a plain identifier. Table and database names cannot be query parameters
 * everywhere (e.g. the client's INSERT), so they come from code constants and are checked here.
 */
export function assertIdentifier(name: string, what = "identifier"): string {
  if (!isIdentifier(name)) throw new Error(`invalid ClickHouse ${what}: ${JSON.stringify(name)}`);
  return name;
}

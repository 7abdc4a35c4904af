/** Words too common to say anything about relevance; dropped from keyword queries. */
const stopWords = new Set(
  (
    "a an and are as at be but by can could do does did for from has have how i if in into is it its " +
    "me my of on or our so than that the their them then there these they this to was we were what " +
    "when where which who why will with would you your about should much many any all not no"
  ).split(" "),
);

/**
 * Keyword terms of a query, as the text index stores them: lower-cased, split on anything that is not
 * a letter or digit (ClickHouse's splitByNonAlpha), stop words and duplicates removed, at most 32.
 */
export function keywordTerms(text: string): string[] {
  const terms = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 1 && !stopWords.has(t));
  return [...new Set(terms)].slice(0, 32);
}

/** Number of index tokens in a text (stored per chunk for BM25's length normalisation). */
export function tokenCount(text: string): number {
  return text.split(/[^\p{L}\p{N}]+/u).filter((t) => t.length > 0).length;
}

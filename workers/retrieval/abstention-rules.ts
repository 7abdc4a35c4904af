/**
 * Answer rules under which RAG abstains on purpose: nothing relevant was found, or the answer gate
 * withheld an unsupported answer. They are the product working, not a failure, so metrics and the
 * dashboard count them apart from fallbacks (`retrieval_unavailable`, a dependency failure, is a
 * fallback). Kept free of imports: the dashboard's browser script bundles it.
 */
export const abstentionRules: ReadonlySet<string> = new Set([
  "no_context",
  "below_threshold",
  "unsupported_answer",
]);

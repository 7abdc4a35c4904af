/**
 * Attribute names the edge and the pool put on spans. The GenAI, database and messaging names follow
 * the OpenTelemetry semantic conventions; they are still "incubating" there, and the project's guidance
 * is to copy incubating names rather than import that entry point (its size would land in the edge
 * bundle). `tiergate.*` names are this gateway's own.
 */
export const attr = {
  genAiOperationName: "gen_ai.operation.name",
  genAiProviderName: "gen_ai.provider.name",
  /** The older name of the provider attribute, still read by several backends. */
  genAiSystem: "gen_ai.system",
  genAiRequestModel: "gen_ai.request.model",
  genAiRequestMaxTokens: "gen_ai.request.max_tokens",
  genAiRequestTemperature: "gen_ai.request.temperature",
  genAiRequestStream: "gen_ai.request.stream",
  genAiResponseModel: "gen_ai.response.model",
  genAiResponseId: "gen_ai.response.id",
  genAiResponseFinishReasons: "gen_ai.response.finish_reasons",
  genAiUsageInputTokens: "gen_ai.usage.input_tokens",
  genAiUsageOutputTokens: "gen_ai.usage.output_tokens",
  genAiDataSourceId: "gen_ai.data_source.id",
  dbSystemName: "db.system.name",
  dbOperationName: "db.operation.name",
  dbQuerySummary: "db.query.summary",
  messagingSystem: "messaging.system",
  messagingDestinationName: "messaging.destination.name",
  messagingOperationType: "messaging.operation.type",
  messagingOperationName: "messaging.operation.name",
  messagingBatchMessageCount: "messaging.batch.message_count",
  httpRequestMethod: "http.request.method",
  httpRoute: "http.route",
  httpResponseStatusCode: "http.response.status_code",
  serverAddress: "server.address",
  errorType: "error.type",
  requestId: "tiergate.request_id",
  tenant: "tiergate.tenant",
  cacheResult: "tiergate.cache.result",
  cacheTier: "tiergate.cache.tier",
  fallbackReason: "tiergate.fallback.reason",
  region: "tiergate.region",
  tier: "tiergate.route.tier",
  routeMode: "tiergate.route.mode",
  routeReasons: "tiergate.route.reasons",
  routeTask: "tiergate.route.task",
  ragCollection: "tiergate.rag.collection",
  ragOutcome: "tiergate.rag.outcome",
  ragPassages: "tiergate.rag.passages",
  ragTopScore: "tiergate.rag.top_score",
} as const;

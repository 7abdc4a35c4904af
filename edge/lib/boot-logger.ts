import { createLogger, type Logger } from "../../shared/logger.ts";

/**
 * The edge's logger before its config is validated (health, the OpenAPI document, a bad config, a cron
 * event with a bad config): level `info`. Once the config is valid, `EdgeServices.logger` takes over.
 */
export const bootLogger: Logger = createLogger({ bindings: { service: "edge" } });

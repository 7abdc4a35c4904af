-- The router's decision and its reasons (x-tiergate-route), so routing can be audited per request.
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS route_decision LowCardinality(String) DEFAULT '' AFTER route;

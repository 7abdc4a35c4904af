/** Header names shared by the edge, the pool and clients. */
export const headers = {
  requestId: "x-request-id",
  cache: "x-cache",
  cacheControl: "x-tiergate-cache",
  tenant: "x-tiergate-tenant",
  keyId: "x-tiergate-key-id",
  deadline: "x-tiergate-deadline",
  region: "x-tiergate-region",
  tier: "x-tiergate-tier",
  route: "x-tiergate-route",
  provider: "x-tiergate-provider",
  signature: "x-tiergate-signature",
  timestamp: "x-tiergate-timestamp",
  nonce: "x-tiergate-nonce",
} as const;

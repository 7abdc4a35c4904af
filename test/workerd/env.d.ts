declare namespace Cloudflare {
  interface Env {
    TEST_API_KEY: string;
    TEST_OTHER_TENANT_KEY: string;
    TEST_LIMITED_KEY: string;
  }
  interface Exports {
    default: Fetcher;
  }
}

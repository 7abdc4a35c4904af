declare namespace Cloudflare {
  interface Env {
    TEST_API_KEY: string;
  }
  interface Exports {
    default: Fetcher;
  }
}

/** Escapes text for an HTML text node. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The dashboard's login form: the token is POSTed in the body, never put in a URL. */
export function loginPage(message: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tiergate · dashboard login</title>
<style>
  body { font-family: system-ui, sans-serif; display: grid; place-items: center; min-height: 100vh; margin: 0; background: #f6f7f9; }
  form { background: #fff; padding: 1.5rem 2rem; border-radius: 8px; box-shadow: 0 1px 2px #0002; display: grid; gap: .75rem; }
  p { color: #a33; margin: 0; min-height: 1em; }
</style>
</head>
<body>
<form method="post" action="/dashboard/login">
  <h1>tiergate dashboard</h1>
  <label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
  <p role="alert">${escapeHtml(message)}</p>
  <button type="submit">Sign in</button>
</form>
</body>
</html>`;
}

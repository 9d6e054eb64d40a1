/** A connection string fit for logs and `ds01 store stats`: its password (in the authority or a query parameter) hidden. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@').replace(/([?&]password=)[^&]*/i, '$1***');
}

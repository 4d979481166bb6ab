import http from 'node:http';

/**
 * POSTs `body` to a local URL with an explicit HTTP Host header (the workspace domain webhooks are routed by);
 * fetch cannot set Host. Resolves with the status code.
 */
export function postWithHost(
  url: string,
  host: string,
  body: string,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { ...headers, host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end(body);
  });
}

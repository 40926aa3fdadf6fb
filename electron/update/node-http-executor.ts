import http, { type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import https from 'node:https';
import type { URL } from 'node:url';
import { configureRequestOptions, configureRequestUrl, HttpExecutor, type DownloadOptions } from 'builder-util-runtime';

/**
 * HTTP for electron-updater outside Electron. In the app, electron-updater uses Electron's net module; given an
 * app adapter (headless, tests) it has no executor at all, so this one, over Node's http/https, takes its place.
 * `download` mirrors electron-updater's ElectronHttpExecutor: the base class streams through its DigestTransform,
 * which is what verifies the sha512.
 */
export class NodeHttpExecutor extends HttpExecutor<ClientRequest> {
  download(url: URL, destination: string, options: DownloadOptions): Promise<string> {
    return options.cancellationToken.createPromise<string>((resolve, reject, onCancel) => {
      const requestOptions: RequestOptions = { headers: options.headers ?? undefined };
      configureRequestUrl(url, requestOptions);
      configureRequestOptions(requestOptions);
      this.doDownload(
        requestOptions,
        {
          destination,
          options,
          onCancel,
          callback: (error) => (error == null ? resolve(destination) : reject(error)),
          responseHandler: null,
        },
        0,
      );
    });
  }

  createRequest(options: RequestOptions, callback: (response: IncomingMessage) => void): ClientRequest {
    // No keep-alive: the base class adds a timeout listener to the socket per request, which piles up on reused
    // sockets. An updater makes a handful of requests a day; a fresh connection each is fine.
    options.agent = false;
    return (options.protocol === 'http:' ? http.request : https.request)(options, callback);
  }
}

// Answers app://partyline/... requests from the built renderer directory, with the app's CSP on every file.
import { readFile } from 'node:fs/promises';
import { appAssetHeaders, resolveAppAsset } from '../control/app-assets';
import { APP_HOST, APP_SCHEME } from './security';

export interface AppResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

export async function serveAppRequest(rendererRoot: string, requestUrl: string, method = 'GET'): Promise<AppResponse> {
  const notFound: AppResponse = { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'not found' };
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return notFound;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return notFound;
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'method not allowed' };
  }
  const file = await resolveAppAsset(rendererRoot, url.pathname);
  if (file === null) return notFound;
  return { status: 200, headers: appAssetHeaders(file), body: method === 'HEAD' ? '' : await readFile(file) };
}

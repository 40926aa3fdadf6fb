import { UpdateError } from './update-service';

export interface FeedUrlOptions {
  /** Only for development and tests against a loopback feed: production feeds must be HTTPS. */
  allowInsecureFeed?: boolean;
}

/**
 * Validates the feed base URL. Updates are code we will run, so plain HTTP is refused: anyone on the path
 * could swap both the artifact and the sha512 that is supposed to vouch for it.
 */
export function parseFeedUrl(value: unknown, options: FeedUrlOptions = {}, field = 'feedUrl'): URL {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new UpdateError('bad-feed-url', `${field} must be a non-empty URL string`, field);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UpdateError('bad-feed-url', `${field} is not a valid URL: "${value}"`, field);
  }
  if (url.protocol === 'http:' && !options.allowInsecureFeed) {
    throw new UpdateError(
      'insecure-feed',
      `${field} must use https:// (got "${value}"); plain http is only accepted with allowInsecureFeed for development`,
      field,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UpdateError('bad-feed-url', `${field} must be an https:// URL (got "${url.protocol}")`, field);
  }
  if (url.username || url.password) {
    throw new UpdateError('bad-feed-url', `${field} must not embed credentials`, field);
  }
  // The generic provider resolves channel files relative to the base: without the slash, the last segment is lost.
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

import { readFile } from 'node:fs/promises';
import { UpdateError } from './update-service';

/**
 * The feed URL electron-builder wrote into resources/app-update.yml at build time (PARTYLINE_UPDATE_URL). The file is
 * flat `key: value` YAML that electron-builder generates itself, so one line is read rather than a YAML parser bundled.
 */
export async function readPackagedFeedUrl(appUpdateConfigPath: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(appUpdateConfigPath, 'utf8');
  } catch (error) {
    throw new UpdateError('bad-feed-url', `no update configuration at ${appUpdateConfigPath} (${(error as Error).message})`, 'feedUrl', { cause: error });
  }
  const match = /^url:[ \t]*(.+?)[ \t]*$/m.exec(text);
  const url = match?.[1]?.replace(/^(['"])(.*)\1$/, '$2');
  if (!url) throw new UpdateError('bad-feed-url', `${appUpdateConfigPath} names no feed url`, 'feedUrl');
  return url;
}

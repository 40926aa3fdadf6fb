// Persists the station's settings as a versioned JSON file. Writes are atomic (temp file + rename) so a
// crash mid-write never leaves half a file; a file that cannot be read is kept aside, never overwritten.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_SETTINGS, Settings, type SettingsPatch } from '../common/contract';

export interface SettingsNotice {
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface SettingsStoreOptions {
  /** Clock for the corrupt-file backup name. */
  now?: () => Date;
}

export class SettingsStore {
  private current: Settings = structuredClone(DEFAULT_SETTINGS);
  private writing: Promise<void> = Promise.resolve();
  private readonly now: () => Date;
  /** Problems found while loading, for the UI to show once it is listening. */
  readonly notices: SettingsNotice[] = [];

  constructor(
    readonly filePath: string,
    options: SettingsStoreOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async load(): Promise<Settings> {
    let text: string;
    try {
      text = await readFile(this.filePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        this.current = structuredClone(DEFAULT_SETTINGS);
        return this.get();
      }
      throw error;
    }
    const problem = this.parse(text);
    if (problem !== null) {
      const backup = `${this.filePath}.corrupt-${this.now().toISOString().replace(/[:.]/g, '-')}`;
      await rename(this.filePath, backup);
      this.current = structuredClone(DEFAULT_SETTINGS);
      await this.persist();
      this.notices.push({
        level: 'warn',
        message: `Settings file was unreadable (${problem}); kept it as ${path.basename(backup)} and started from defaults.`,
      });
    }
    return this.get();
  }

  get(): Settings {
    return structuredClone(this.current);
  }

  async update(patch: SettingsPatch): Promise<Settings> {
    const next = Settings.parse({ ...this.current, ...patch, version: DEFAULT_SETTINGS.version });
    this.current = next;
    await this.persist();
    return this.get();
  }

  /** Returns why the text is unusable, or null after adopting it. */
  private parse(text: string): string | null {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      return `not JSON: ${(error as Error).message}`;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not a JSON object';
    const version = (raw as { version?: unknown }).version;
    if (version !== DEFAULT_SETTINGS.version) return `unsupported version ${JSON.stringify(version)}`;
    // Fields added since the file was written take their defaults.
    const result = Settings.safeParse({ ...DEFAULT_SETTINGS, ...raw });
    if (!result.success) {
      const issue = result.error.issues[0];
      return `${issue?.path.map(String).join('.') || 'settings'}: ${issue?.message ?? 'invalid'}`;
    }
    this.current = result.data;
    return null;
  }

  /** Writes are queued so two quick updates cannot interleave their renames. */
  private persist(): Promise<void> {
    const snapshot = `${JSON.stringify(this.current, null, 2)}\n`;
    const write = this.writing.then(async () => {
      await mkdir(path.dirname(this.filePath), { recursive: true });
      const temp = `${this.filePath}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        await writeFile(temp, snapshot, { mode: 0o600 });
        await rename(temp, this.filePath);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    });
    this.writing = write.catch(() => undefined);
    return write;
  }
}

// Persists the station's settings as a versioned JSON file. Writes are atomic and durable (write-file-atomic: temp
// file, fsync, rename) so a crash or power cut mid-write never leaves half a file; a file from an older version is
// migrated step by step (the original kept beside it); one that cannot be read is kept aside, never overwritten.
import { copyFile, mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { DEFAULT_SETTINGS, Settings, type SettingsPatch } from '../common/contract';

type RawSettings = Record<string, unknown>;

/**
 * Each step brings a file from version N to N + 1, until the current version. A file written before settings had
 * a version counts as version 0: the same fields, unversioned.
 */
export const MIGRATIONS: Readonly<Record<number, (raw: RawSettings) => RawSettings>> = {
  0: (raw) => ({ ...raw, version: 1 }),
};

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
    const { problem, migratedFrom } = this.parse(text);
    if (migratedFrom !== undefined) {
      const original = `${this.filePath}.v${migratedFrom}`;
      await copyFile(this.filePath, original);
      await this.persist();
      this.notices.push({
        level: 'info',
        message: `Settings file was version ${migratedFrom}; migrated to version ${DEFAULT_SETTINGS.version} (the original is kept as ${path.basename(original)}).`,
      });
    }
    if (problem !== undefined) {
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

  /** Why the text is unusable, or nothing after adopting it (and the version it was migrated from, if older). */
  private parse(text: string): { problem?: string; migratedFrom?: number } {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return { problem: `not JSON: ${(error as Error).message}` };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { problem: 'not a JSON object' };
    let raw = parsed as RawSettings;
    const written = raw.version ?? 0;
    if (
      typeof written !== 'number' ||
      !Number.isInteger(written) ||
      written < 0 ||
      written > DEFAULT_SETTINGS.version
    ) {
      return { problem: `unsupported version ${JSON.stringify(written)}` };
    }
    for (let version = written; version < DEFAULT_SETTINGS.version; version++) {
      const step = MIGRATIONS[version];
      if (!step) return { problem: `no migration from version ${version}` };
      raw = step(raw);
    }
    // Fields added since the file was written take their defaults.
    const result = Settings.safeParse({ ...DEFAULT_SETTINGS, ...raw });
    if (!result.success) {
      const issue = result.error.issues[0];
      return { problem: `${issue?.path.map(String).join('.') || 'settings'}: ${issue?.message ?? 'invalid'}` };
    }
    this.current = result.data;
    return written < DEFAULT_SETTINGS.version ? { migratedFrom: written } : {};
  }

  /** Writes are queued so two quick updates cannot interleave their renames. */
  private persist(): Promise<void> {
    const snapshot = `${JSON.stringify(this.current, null, 2)}\n`;
    const write = this.writing.then(async () => {
      await mkdir(path.dirname(this.filePath), { recursive: true });
      await writeFileAtomic(this.filePath, snapshot, { mode: 0o600, fsync: true });
    });
    this.writing = write.catch(() => undefined);
    return write;
  }
}

import assert from 'node:assert/strict';
import type { SecretStore, SignInUi } from '../../src/extension/core/sign-in';

/** VS Code's SecretStorage, in memory. */
export class MemorySecrets implements SecretStore {
  readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}

/** The settings and prompts, answering password boxes from a list; records what was asked, said and logged. */
export class Answers implements SignInUi {
  readonly prompts: string[] = [];
  readonly explained: { code: string; message: string }[] = [];
  readonly logged: string[] = [];
  readonly log = { info: (t: string) => this.logged.push(t), warn: (t: string) => this.logged.push(t) };

  constructor(
    private saved: { url: string; username: string },
    readonly passwords: string[] = [],
  ) {}

  settings = (): { url: string; username: string } => ({ ...this.saved });
  saveSettings = async (url: string, username: string): Promise<void> => {
    this.saved = { url, username };
  };
  askAddress = async (): Promise<string | undefined> => undefined;
  askUsername = async (): Promise<string | undefined> => undefined;
  askPassword = async (prompt: string): Promise<string | undefined> => {
    this.prompts.push(prompt);
    return this.passwords.shift();
  };
  explain = (problem: { code: string; message: string }): void => {
    this.explained.push(problem);
  };

  /** Neither the log nor what the user was told holds any of these. */
  assertNeverShown(...passwords: string[]): void {
    const said = [...this.logged, ...this.prompts, ...this.explained.map((e) => e.message)];
    for (const password of passwords) for (const line of said) assert.ok(!line.includes(password), `"${line}" shows a password`);
  }
}

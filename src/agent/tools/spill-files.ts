/**
 * The spill files the model has been told about in one session. Reading tools accept only these,
 * so the model cannot use them to read other files on the opsmate machine.
 */
export class SpillFiles {
  readonly #paths = new Set<string>();

  remember(path: string | undefined): void {
    if (path) this.#paths.add(path);
  }

  has(path: string): boolean {
    return this.#paths.has(path);
  }

  list(): string[] {
    return [...this.#paths];
  }
}

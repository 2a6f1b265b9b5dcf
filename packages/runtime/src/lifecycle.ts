/**
 * Closes resources in reverse start order. Every step runs even when an earlier one fails, the whole
 * shutdown gives up after a deadline, and calling `close()` twice is harmless.
 */
export class Lifecycle {
  private readonly steps: { name: string; close: () => Promise<void> | void }[] = [];
  private closing: Promise<string[]> | undefined;

  add(name: string, close: () => Promise<void> | void): void {
    this.steps.push({ name, close });
  }

  close(deadlineMs = 15_000): Promise<string[]> {
    this.closing ??= this.runSteps(deadlineMs);
    return this.closing;
  }

  private async runSteps(deadlineMs: number): Promise<string[]> {
    const errors: string[] = [];
    const deadline = Date.now() + deadlineMs;
    for (const step of [...this.steps].reverse()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        errors.push(`${step.name}: shutdown deadline passed`);
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(step.close),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timed out')), left);
          }),
        ]);
      } catch (err) {
        errors.push(`${step.name}: ${(err as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    }
    return errors;
  }
}

/** Options of the `emulator-test` executor (schema.json). Paths are workspace-relative. */
export interface EmulatorTestExecutorOptions {
  cpu: string;
  emulator: 'qemu' | 'previous';
  testsDir: string;
  timeoutMs: number;
  buildManifest: string;
  outputDir: string;
}

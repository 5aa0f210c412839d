/** Generator `emulator-test`: `nx g ./tools/nx-plugin:emulator-test <program>` (logic in ../generate.ts). */
import { logger, type Tree } from '@nx/devkit';
import { generateEmulatorTest, type EmulatorTestGeneratorOptions } from '../generate';

export default async function emulatorTestGenerator(
  tree: Tree,
  options: EmulatorTestGeneratorOptions,
): Promise<() => void> {
  const written = generateEmulatorTest(tree, options);
  return () => logger.info(`created ${written.join(', ')}; run it: npx nx run emulator-tests:test:m68040`);
}

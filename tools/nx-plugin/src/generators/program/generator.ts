/** Generator `program`: `nx g ./tools/nx-plugin:program <name> [--flavor=std]` (logic in ../generate.ts). */
import { logger, type Tree } from '@nx/devkit';
import { generateProgram, type ProgramGeneratorOptions } from '../generate';

export default async function programGenerator(tree: Tree, options: ProgramGeneratorOptions): Promise<() => void> {
  const written = generateProgram(tree, options);
  return () => {
    logger.info(`created ${written.join(', ')}`);
    logger.info('build and test it: npx nx run rust-target:build:m68040 && npx nx run emulator-tests:test:m68040');
  };
}

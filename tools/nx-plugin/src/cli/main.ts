/** Entry point of the `nextrust` bin (bin/nextrust.js loads it). */
import { runCli } from './program';

void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});

/**
 * Help text of a nextrust target, for Nx's `metadata.help` of inferred
 * targets: Nx runs `metadata.help.command` for `nx run <project>:<target>
 * --help` and shows its output (the @nx plugins point it at their tool's own
 * `--help`; https://nx.dev/extending-nx/recipes/project-graph-plugins). The
 * text comes from the executor's schema.json, so it says what the executor
 * takes: its options (set from nextrust.json; Nx passes them), the CPU
 * configurations, and examples.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CPU_NAMES, DEFAULT_CPU } from '../toolchain/cpu';

/** One property of an executor's schema.json (JSON Schema draft-07). */
interface SchemaProperty {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  default?: unknown;
}

/** The command Nx runs for a target's help (`metadata.help.command`). */
export function targetHelpCommand(executorName: string, projectName: string, targetName: string): string {
  return `npx nextrust target-help ${executorName} ${projectName}:${targetName}`;
}

/**
 * The help text of a target.
 * @param pluginDir tools/nx-plugin (executors.json and the schemas).
 * @param executorName a key of executors.json; @param projectTarget `project:target` shown in the examples.
 * @returns plain text, lines of at most ~100 characters.
 * @throws Error naming the executors that exist when `executorName` is not one of them.
 */
export function targetHelp(pluginDir: string, executorName: string, projectTarget: string): string {
  const { executors } = JSON.parse(fs.readFileSync(path.join(pluginDir, 'executors.json'), 'utf8')) as {
    executors: Record<string, { schema: string; description?: string }>;
  };
  const entry = executors[executorName];
  if (!entry)
    throw new Error(`no executor '${executorName}': the nextrust executors are ${Object.keys(executors).join(', ')}`);
  const schema = JSON.parse(fs.readFileSync(path.join(pluginDir, entry.schema), 'utf8')) as {
    description?: string;
    properties?: Record<string, SchemaProperty>;
    required?: string[];
  };
  const perCpu = schema.properties?.cpu !== undefined;
  const lines = [`${projectTarget}: ${entry.description ?? schema.description ?? ''}`, ''];
  if (perCpu) {
    lines.push(
      `Configurations (one per CPU variant): ${CPU_NAMES.map((c) => (c === DEFAULT_CPU ? `${c} (default)` : c)).join(', ')}`,
      '',
    );
  }
  lines.push("Options (inferred from the project's nextrust.json; override one with --<option>=<value>):");
  const props = Object.entries(schema.properties ?? {});
  const width = Math.max(...props.map(([k]) => k.length), 4);
  for (const [name, p] of props) {
    const type = p.enum ? p.enum.map(String).join('|') : [p.type ?? 'any'].flat().join('|');
    const extra = [
      p.description?.replace(/\.$/, ''),
      p.default !== undefined ? `default ${JSON.stringify(p.default)}` : '',
      schema.required?.includes(name) ? 'required' : '',
    ]
      .filter(Boolean)
      .join('; ');
    lines.push(`  --${name.padEnd(width)}  ${type}${extra ? `  ${extra}` : ''}`);
  }
  const [project, target] = projectTarget.split(':');
  const examples: [string, string][] = perCpu
    ? [
        [`npx nx run ${projectTarget}`, `the default CPU, ${DEFAULT_CPU}`],
        [`npx nx run ${projectTarget} --configuration=m68030`, 'another CPU variant'],
        [`npx nx run-many -t ${target} --configuration=m68030`, 'every project with this target'],
      ]
    : [[`npx nx run ${projectTarget}`, '']];
  examples.push([`npx nx show project ${project} --json`, 'its inputs, outputs and options']);
  const cmdWidth = Math.max(...examples.map(([c]) => c.length));
  lines.push('', 'Examples:', ...examples.map(([c, why]) => `  ${why ? `${c.padEnd(cmdWidth)}  # ${why}` : c}`));
  return lines.join('\n') + '\n';
}

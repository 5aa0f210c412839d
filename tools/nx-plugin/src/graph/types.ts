/**
 * The shapes the plugin's graph code shares: the plugin options of nx.json,
 * the context each target builder gets and what it returns. A type-only
 * module, so that createNodes (create-nodes.ts), inference (infer.ts) and the
 * target builders (*-targets.ts) do not import each other for types.
 */
import type { TargetConfiguration } from '@nx/devkit';

/** Options of the plugin entry in nx.json: `{"plugin": "./tools/nx-plugin/plugin.js", "options": {"distDir": "dist"}}`. */
export interface NextrustPluginOptions {
  /** Folder (workspace-relative) where targets write their outputs; default `dist`. */
  distDir?: string;
}

/** What a target builder returns for one project. */
export interface InferredProject {
  targets: Record<string, TargetConfiguration>;
  implicitDependencies?: string[];
  tags?: string[];
}

/** Context shared by the target builders of one project. */
export interface TargetBuilderContext {
  projectName: string;
  /** Workspace-relative project root. */
  projectRoot: string;
  /** Workspace-relative output root, e.g. `dist`. */
  distDir: string;
  /** Absolute workspace root (for builders that read the project's files, e.g. program discovery). */
  workspaceRoot: string;
}

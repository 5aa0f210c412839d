/**
 * The AI steps as the pipeline calls them: configuration and prices loaded
 * from the status directory, and the design escalation hook that failure
 * analysis runs for unknown failures. An AI step never changes a target's
 * success or failure: every problem comes back as a skipped/failed outcome.
 */
import type { EscalationOutcome, EscalationRequest } from '../pipeline/failure-analysis';
import type { StatusStore } from '../pipeline/status-store';
import { AI_CONFIG_FILE, loadAiConfig, type AiConfig } from './config';
import { requestDesign } from './design';
import { loadPricing, PRICING_FILE, type PricingFile } from './pricing';

/** ai.json and model-pricing.json of a status directory. */
export interface AiContext {
  config: AiConfig;
  pricing: PricingFile;
}

/**
 * Loads the AI configuration and prices from the status directory.
 * @throws ConfigError naming the file and field.
 */
export function loadAiContext(store: StatusStore, env: NodeJS.ProcessEnv = process.env): AiContext {
  return { config: loadAiConfig(store.file(AI_CONFIG_FILE), env), pricing: loadPricing(store.file(PRICING_FILE)) };
}

/** The escalation hook for failure analysis: unknown failures go to the design model. */
export function designEscalation(
  store: StatusStore,
  env: NodeJS.ProcessEnv = process.env,
): (request: EscalationRequest) => Promise<EscalationOutcome> {
  return async (request) => {
    if (!request.logFile) return { status: 'skipped', summary: 'design escalation skipped: no log file' };
    let ctx: AiContext;
    try {
      ctx = loadAiContext(store, env);
    } catch (e) {
      return { status: 'failed', summary: `design escalation failed: ${(e as Error).message}` };
    }
    const o = await requestDesign(
      store,
      {
        task: request.input.task,
        phase: request.phase,
        cpu: request.input.cpu,
        command: request.input.command,
        logFile: request.logFile,
      },
      { ...ctx, env },
    );
    return { status: o.status === 'cached' ? 'answered' : o.status, summary: o.summary };
  };
}

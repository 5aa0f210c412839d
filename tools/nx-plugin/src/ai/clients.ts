/**
 * The two model calls, through the official SDKs: `openai` (Chat Completions,
 * for the design model; any OpenAI-compatible server through its base URL)
 * and Google's `@google/genai` (generateContent, for the review model).
 * Timeouts and bounded retries with exponential backoff on 408/429/5xx are
 * the SDKs' own (`maxRetries`/`timeout`; `httpOptions.retryOptions`).
 *
 * Every prompt passes through redactSecrets before it leaves, and the SDK
 * errors are turned into one-line AiCallErrors that never carry the key.
 */
import type { AiConfig } from './config';
import { redactSecrets } from './redact';

/** A model's answer and what it cost in tokens. */
export interface ModelAnswer {
  text: string;
  /** Model the server says answered (may be a dated snapshot). */
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Wall time, retries included (ms). */
  latencyMs: number;
}

/** A call that failed after its retries: HTTP status when there was one. */
export class AiCallError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'AiCallError';
  }
}

/** A prompt: system instructions and the user message. */
export interface Prompt {
  system: string;
  user: string;
}

function describeSdkError(service: string, e: unknown, env: NodeJS.ProcessEnv): AiCallError {
  const err = e as { status?: number; message?: string; name?: string; code?: string };
  const status = typeof err.status === 'number' ? err.status : null;
  let what = err.message ?? String(e);
  if (/timed? ?out|timeout|aborted/i.test(`${err.name} ${what}`)) what = `timed out (${what})`;
  // Redact first, then make it one line and cut it: a cut must not split a secret out of sight.
  const line = redactSecrets(`${service}: ${status ? `HTTP ${status}: ` : ''}${what}`, env)
    .replace(/\s+/g, ' ')
    .trim();
  return new AiCallError(line.length > 500 ? line.slice(0, 500) + '…' : line, status);
}

/**
 * Asks the design model (OpenAI Chat Completions) for a JSON answer.
 * @throws AiCallError after the SDK's retries; Error when OPENAI_API_KEY is missing.
 */
export async function askDesignModel(
  config: AiConfig['design'],
  prompt: Prompt,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ModelAnswer> {
  const apiKey = env.OPENAI_API_KEY;
  if (!apiKey) throw new AiCallError('OPENAI_API_KEY is not set', null);
  // The SDKs are loaded only when a call is made: every other CLI command starts faster.
  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({
    apiKey,
    // null: the SDK reads OPENAI_BASE_URL itself, else api.openai.com.
    baseURL: config.base_url ?? env.OPENAI_BASE_URL ?? undefined,
    timeout: config.timeout_ms,
    maxRetries: config.max_retries,
  });
  const started = Date.now();
  try {
    const r = await client.chat.completions.create({
      model: config.model,
      messages: [
        { role: 'system', content: redactSecrets(prompt.system, env) },
        { role: 'user', content: redactSecrets(prompt.user, env) },
      ],
      response_format: { type: 'json_object' },
      max_completion_tokens: config.max_output_tokens,
    });
    const text = r.choices?.[0]?.message?.content;
    if (typeof text !== 'string') throw new AiCallError('openai: the answer has no message content', null);
    return {
      text,
      model: r.model || config.model,
      inputTokens: r.usage?.prompt_tokens ?? 0,
      outputTokens: r.usage?.completion_tokens ?? 0,
      latencyMs: Date.now() - started,
    };
  } catch (e) {
    if (e instanceof AiCallError) throw e;
    throw describeSdkError('openai', e, env);
  }
}

/**
 * Asks the review model (Gemini generateContent) for a Markdown review.
 * @throws AiCallError after the SDK's retries, or when GEMINI_API_KEY is missing.
 */
export async function askReviewModel(
  config: AiConfig['review'],
  prompt: Prompt,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ModelAnswer> {
  const apiKey = env.GEMINI_API_KEY;
  if (!apiKey) throw new AiCallError('GEMINI_API_KEY is not set', null);
  const { GoogleGenAI } = await import('@google/genai');
  const ai = new GoogleGenAI({
    apiKey,
    httpOptions: {
      ...(config.base_url ? { baseUrl: config.base_url } : {}),
      timeout: config.timeout_ms,
      retryOptions: { attempts: config.max_retries + 1, initialDelay: 0.5, maxDelay: 8 },
    },
  });
  const started = Date.now();
  try {
    const r = await ai.models.generateContent({
      model: config.model,
      contents: redactSecrets(prompt.user, env),
      config: {
        systemInstruction: redactSecrets(prompt.system, env),
        temperature: 0.2,
        maxOutputTokens: config.max_output_tokens,
      },
    });
    const text = r.text;
    if (typeof text !== 'string' || !text.trim()) throw new AiCallError('gemini: the answer has no text', null);
    return {
      text,
      model: r.modelVersion || config.model,
      inputTokens: r.usageMetadata?.promptTokenCount ?? 0,
      outputTokens: (r.usageMetadata?.candidatesTokenCount ?? 0) + (r.usageMetadata?.thoughtsTokenCount ?? 0),
      latencyMs: Date.now() - started,
    };
  } catch (e) {
    if (e instanceof AiCallError) throw e;
    throw describeSdkError('gemini', e, env);
  }
}

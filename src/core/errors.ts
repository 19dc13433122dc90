// Upstream's error hierarchy (inference_sdk/http/errors.py) under the same names.
// Every message that can contain a URL or a response body goes through maskApiKey first.

const API_KEY_IN_TEXT = /api_key=([^&\s"']*)/g;
const BEARER_IN_TEXT = /(Bearer\s+)[^\s"',]+/gi;

/** Masks `api_key=...` like upstream (`ab***yz`, or `***` for keys under 8 characters) and Bearer tokens; idempotent. */
export function maskApiKey(text: string): string {
  return text
    .replace(API_KEY_IN_TEXT, (match, key: string) => (key.includes('***') ? match : `api_key=${maskKeyValue(key)}`))
    .replace(BEARER_IN_TEXT, (_match, prefix: string) => `${prefix}***`);
}

export function maskKeyValue(key: string): string {
  return key.length < 8 ? '***' : `${key.slice(0, 2)}***${key.slice(-2)}`;
}

/** Removes every occurrence of a known secret from a text, whatever its surroundings. */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join(maskKeyValue(secret));
}

/** At most `limit` characters, with '...' where the text was cut. */
export function truncate(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit)}...` : text;
}

/** A lower-level failure for our messages: its message, its code when the message lacks it, its cause's message. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const cause = (error as { cause?: unknown }).cause;
  const parts = [error.message];
  if (typeof code === 'string' && !error.message.includes(code)) parts.push(`[${code}]`);
  if (cause instanceof Error && cause.message !== error.message) parts.push(`(${cause.message})`);
  return parts.join(' ');
}

export class HTTPClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class HTTPCallErrorError extends HTTPClientError {
  readonly description: string;
  readonly statusCode: number;
  readonly apiMessage: string | null;

  constructor(description: string, statusCode: number, apiMessage: string | null) {
    super(
      apiMessage
        ? `HTTP ${statusCode}: ${apiMessage} (${description})`
        : `HTTP ${statusCode}: ${description}`,
    );
    this.description = description;
    this.statusCode = statusCode;
    this.apiMessage = apiMessage;
  }
}

export class InvalidInputFormatError extends HTTPClientError {}
export class InvalidModelIdentifier extends HTTPClientError {}
export class ModelNotInitializedError extends HTTPClientError {}
export class ModelTaskTypeNotSupportedError extends HTTPClientError {}
export class ModelNotSelectedError extends HTTPClientError {}
export class APIKeyNotProvided extends HTTPClientError {}
export class EncodingError extends HTTPClientError {}
export class WrongClientModeError extends HTTPClientError {}
export class InvalidParameterError extends HTTPClientError {}
export class InvalidURLImageInput extends HTTPClientError {}
export class URLAddressNotAllowedError extends HTTPClientError {}

export class FeatureDeprecatedError extends HTTPClientError {
  readonly feature: string;
  readonly reason: string;
  readonly removalRelease: string | null;
  readonly replacement: string | null;

  constructor(feature: string, reason: string, removalRelease: string | null = null, replacement: string | null = null) {
    super(
      `'${feature}' has been removed. ${reason}` +
        (removalRelease ? ` Removed in ${removalRelease}.` : '') +
        (replacement ? ` Use ${replacement} instead.` : ''),
    );
    this.feature = feature;
    this.reason = reason;
    this.removalRelease = removalRelease;
    this.replacement = replacement;
  }
}

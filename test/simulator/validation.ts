// Request-body validation with the error shape FastAPI gives Pydantic v2 failures:
// 422 {"detail": [{"type", "loc": ["body", ...], "msg", "input"[, "ctx"]}]}.
import { HttpError, isRecord, type SimRequest } from './http';

export type FieldKind =
  | 'string'
  | 'boolean'
  | 'number'
  | 'integer'
  | 'stringList'
  | 'list'
  | 'object'
  | 'image'
  | 'any'
  | { literal: readonly string[] };

export interface FieldRule {
  kind: FieldKind;
  /** The key must be present (its value may still be null when `nullable`). */
  required?: boolean;
  nullable?: boolean;
}

export type BodySchema = Record<string, FieldRule>;

export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

export function validationError(issues: ValidationIssue[]): HttpError {
  return new HttpError(422, { detail: issues });
}

/** Returns the JSON body as a record, or throws the 422 FastAPI would send. */
export function validateBody(request: SimRequest, schema: BodySchema): Record<string, unknown> {
  if (request.jsonError !== undefined) {
    throw validationError([
      { type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: request.jsonError } },
    ]);
  }
  const body = request.json;
  if (body === undefined) {
    throw validationError([{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }]);
  }
  if (!isRecord(body)) {
    throw validationError([
      {
        type: 'model_attributes_type',
        loc: ['body'],
        msg: 'Input should be a valid dictionary or object to extract fields from',
        input: body,
      },
    ]);
  }
  const issues: ValidationIssue[] = [];
  for (const [name, rule] of Object.entries(schema)) {
    if (!(name in body)) {
      if (rule.required) issues.push({ type: 'missing', loc: ['body', name], msg: 'Field required', input: body });
      continue;
    }
    const value = body[name];
    if (value === null && (rule.nullable || !rule.required)) continue;
    issues.push(...checkKind(value, rule.kind, ['body', name]));
  }
  if (issues.length > 0) throw validationError(issues);
  return body;
}

function checkKind(value: unknown, kind: FieldKind, loc: (string | number)[]): ValidationIssue[] {
  const issue = (type: string, msg: string, ctx?: Record<string, unknown>): ValidationIssue[] => [
    { type, loc, msg, input: value, ...(ctx ? { ctx } : {}) },
  ];
  if (typeof kind === 'object') {
    if (typeof value === 'string' && kind.literal.includes(value)) return [];
    const expected = kind.literal.map((option) => `'${option}'`).join(' or ');
    return issue('literal_error', `Input should be ${expected}`, { expected });
  }
  switch (kind) {
    case 'any':
      return [];
    case 'string':
      return typeof value === 'string' ? [] : issue('string_type', 'Input should be a valid string');
    case 'boolean':
      return isLaxBoolean(value) ? [] : issue('bool_parsing', 'Input should be a valid boolean, unable to interpret input');
    case 'number':
      return isLaxNumber(value) ? [] : issue('float_parsing', 'Input should be a valid number, unable to parse string as a number');
    case 'integer':
      return isLaxNumber(value) && Number.isInteger(Number(value))
        ? []
        : issue('int_parsing', 'Input should be a valid integer, unable to parse string as an integer');
    case 'list':
      return Array.isArray(value) ? [] : issue('list_type', 'Input should be a valid list');
    case 'stringList':
      if (!Array.isArray(value)) return issue('list_type', 'Input should be a valid list');
      return value.flatMap((item, index) => checkKind(item, 'string', [...loc, index]));
    case 'object':
      return isRecord(value) ? [] : issue('dict_type', 'Input should be a valid dictionary');
    case 'image':
      if (Array.isArray(value)) return value.flatMap((item, index) => checkImageObject(item, [...loc, index]));
      return checkImageObject(value, loc);
  }
}

function checkImageObject(value: unknown, loc: (string | number)[]): ValidationIssue[] {
  if (!isRecord(value)) {
    return [
      {
        type: 'model_attributes_type',
        loc,
        msg: 'Input should be a valid dictionary or object to extract fields from',
        input: value,
      },
    ];
  }
  if (!('type' in value)) return [{ type: 'missing', loc: [...loc, 'type'], msg: 'Field required', input: value }];
  return checkKind(value.type, 'string', [...loc, 'type']);
}

function isLaxBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return true;
  if (value === 0 || value === 1) return true;
  return typeof value === 'string' && ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(value.toLowerCase());
}

function isLaxNumber(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value));
}

export function laxBoolean(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string') return ['true', '1', 'yes', 'on'].includes(value.toLowerCase());
  return Boolean(value);
}

export function laxNumber(value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : fallback;
}

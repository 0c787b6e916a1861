/**
 * Errors for model, weight and tokenizer files. Anything read from a file (weights,
 * config.json, tokenizer files) that is truncated, malformed or inconsistent raises a
 * ModelFormatError with a stable code, the file and (when there is one) the tensor.
 * Bad arguments from local callers stay TypeError / RangeError.
 */
export const MODEL_ERROR_CODES = [
  /** the file could not be read (missing, not a file, permission) */
  'MODEL_ERR_IO',
  /** the file ends before the data it announces */
  'MODEL_ERR_TRUNCATED',
  /** the file's structure is wrong: bad header, bad JSON, bad offsets, trailing bytes */
  'MODEL_ERR_MALFORMED',
  /** a tensor the architecture needs is absent */
  'MODEL_ERR_MISSING_TENSOR',
  /** a tensor's shape differs from the one the config implies */
  'MODEL_ERR_SHAPE',
  /** a tensor's dtype is not supported (f32, f16, bf16, f64 are) */
  'MODEL_ERR_DTYPE',
  /** config.json / checkpoint header is missing a field, has a bad value, or asks for an unsupported feature */
  'MODEL_ERR_CONFIG',
  /** a tokenizer file is inconsistent or uses an unsupported feature */
  'MODEL_ERR_TOKENIZER',
] as const;

export type ModelErrorCode = (typeof MODEL_ERROR_CODES)[number];

export interface ModelErrorDetails {
  /** the file involved (path or a label such as '<bytes>') */
  readonly file?: string;
  /** the tensor involved, by its name in the file */
  readonly tensor?: string;
  readonly cause?: unknown;
}

export class ModelFormatError extends Error {
  readonly code: ModelErrorCode;
  readonly file: string | undefined;
  readonly tensor: string | undefined;

  constructor(code: ModelErrorCode, message: string, details: ModelErrorDetails = {}) {
    const where = [
      details.file !== undefined ? `file '${details.file}'` : undefined,
      details.tensor !== undefined ? `tensor '${details.tensor}'` : undefined,
    ]
      .filter((s) => s !== undefined)
      .join(', ');
    super(`${code}: ${message}${where ? ` (${where})` : ''}`, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'ModelFormatError';
    this.code = code;
    this.file = details.file;
    this.tensor = details.tensor;
  }
}

export function isModelFormatError(e: unknown): e is ModelFormatError {
  return e instanceof ModelFormatError;
}

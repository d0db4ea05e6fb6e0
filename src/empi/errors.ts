/** The EMPI's error vocabulary: a stable code the HTTP layer maps to its catalogue (not-found 404, conflict 409, invalid 400). */
export class EmpiError extends Error {
  readonly code: 'not-found' | 'conflict' | 'invalid';
  constructor(code: EmpiError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

// A request parameter that cannot be used: parsers say why, the request parser names the parameter.
export class ParameterError extends Error {
  override readonly name = 'ParameterError';
}

/** A user's text, cut short for a message. */
export function shorten(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

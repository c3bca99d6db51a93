/**
 * An error caused by the user's input (file, flag, config value). The CLI prints its
 * message as one line and exits non-zero; the viewer shows it and keeps the scene.
 * Messages name the file / key / layer and what is allowed.
 */
export class InputError extends Error {
  override name = 'InputError';
}

// The Electron IPC channels between the preload and the main process: named once, for both sides.

/** The single message the preload sends: `{cmd, input}`, answered with a DispatchResult. */
export const INVOKE_CHANNEL = 'partyline:invoke';
/** Events from the station to the renderer: `(name, payload)`. */
export const EVENT_CHANNEL = 'partyline:event';

/** How the control and media sides name a Janus line (a send target) and a member's feed on it (a mixer input). */
export const janusTarget = (line: string): string => `janus:${line}`;
export const janusFeedId = (line: string, stationId: string): string => `janus:${line}:${stationId}`;
